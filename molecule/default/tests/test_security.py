"""What an attacker on the network, a curious colleague on a server and a log reader can get:
only 80/443 open, old TLS refused, logins rate-limited, and the API key nowhere in sight."""

import json
import os
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest
import yaml

from conftest import API_KEY, USER, base64_credentials, curl_ai, curl_burst, run_playbook

KEY_FORMS = (API_KEY, base64_credentials("api", API_KEY))
AI_CONTAINERS = ("tradia-ollama", "tradia-ai-traefik")
APP_CONTAINERS = ("tradia-app", "tradia-app-traefik")


def _open_ports(outsider, target: str) -> set[int]:
    """Every TCP port nmap finds open on `target` from the outsider (no ping, all 65535)."""
    scan = outsider.check_output("nmap -Pn -n -p- -T4 --max-retries 2 -oX - %s", target)
    root = ET.fromstring(scan)
    return {
        int(port.get("portid"))
        for port in root.iter("port")
        if port.find("state").get("state") == "open"
    }


def test_a_full_port_scan_finds_only_https_on_the_app_server(outsider):
    assert _open_ports(outsider, "app-server") == {80, 443}
    assert _open_ports(outsider, "ai-server") == set()


TLS_PROBE = r"""
import socket, ssl, sys
def version(maximum):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_ciphers("DEFAULT:@SECLEVEL=0")  # so that a refusal is the server's
    context.minimum_version = ssl.TLSVersion.TLSv1
    context.maximum_version = maximum
    try:
        with context.wrap_socket(socket.create_connection(("ai-server", 11434), 10)) as tls:
            return tls.version()
    except ssl.SSLError as error:
        return "refused:" + str(error.reason)
V = ssl.TLSVersion
print(version(V.TLSv1_2), version(V.TLSv1_1), version(V.TLSv1))
"""


def test_the_ai_port_refuses_tls_below_1_2(app_server):
    tls12, tls11, tls10 = app_server.check_output("python3 -c %s", TLS_PROBE).split()
    assert tls12 == "TLSv1.2"
    assert tls11 == "refused:TLSV1_ALERT_PROTOCOL_VERSION"
    assert tls10 == "refused:TLSV1_ALERT_PROTOCOL_VERSION"


def test_guessing_the_users_password_is_rate_limited(app_url, tls_context):
    statuses: list[int] = []
    with httpx.Client(base_url=app_url, verify=tls_context, timeout=30) as guesser:
        for attempt in range(250):
            response = guesser.get("/", auth=("alice", f"guess-{attempt}"))
            statuses.append(response.status_code)
            if response.status_code == 429:
                break
    assert set(statuses) <= {401, 429}, set(statuses)
    assert statuses[-1] == 429, f"{len(statuses)} wrong passwords were all answered 401"


def test_guessing_the_api_key_is_rate_limited(ai_server, app_server):
    ca_pem = ai_server.file("/etc/tradia/ai/tls/ca.crt").content_string
    # From anywhere but an app server (whose address has a larger bucket of its own, for its
    # users' generations): here a shell on the AI host, through the published port.
    guesses = curl_burst(
        ai_server,
        "https://localhost:11434/api/tags",
        400,
        "--cacert",
        "/etc/tradia/ai/tls/ca.crt",
        "-u",
        "api:wrong-key",
    )
    assert len(guesses) == 400, guesses[:5]
    assert set(guesses) <= {"401", "429"}, set(guesses)
    assert "429" in guesses, "400 wrong keys in a burst were all answered 401"
    # The app servers keep their own bucket meanwhile: the right key works from there at once.
    assert curl_ai(app_server, ca_pem, "-u", f"api:{API_KEY}") == "200"


def _assert_no_key(where: str, text: str) -> None:
    for form in KEY_FORMS:
        assert form not in text, f"the API key appears in {where}"


@pytest.mark.parametrize(
    ("host_fixture", "containers"),
    [("ai_server", AI_CONTAINERS), ("app_server", APP_CONTAINERS)],
)
def test_the_key_is_in_no_process_list_metadata_or_log(request, host_fixture, containers):
    host = request.getfixturevalue(host_fixture)
    _assert_no_key(f"{host_fixture}'s process list", host.check_output("ps -eww -o args"))
    for name in containers:
        _assert_no_key(f"docker inspect {name}", host.check_output("docker inspect %s", name))
        logs = host.run("docker logs %s", name)
        assert logs.rc == 0
        _assert_no_key(f"the logs of {name}", logs.stdout + logs.stderr)
        assert logs.stdout + logs.stderr, f"{name} logged nothing: the check would prove nothing"
    journal = host.run("journalctl --no-pager -q")
    assert journal.rc == 0, journal.stderr
    # Read for real: dockerd logs to the journal on every boot (the hosts were rebooted before).
    assert "dockerd" in journal.stdout, f"{host_fixture}'s journal holds no dockerd entry"
    _assert_no_key(f"{host_fixture}'s journal", journal.stdout)


def test_traefik_access_logs_hold_no_credentials(ai_server):
    # The access log records every request above, with and without the key; never its header.
    log = ai_server.check_output("docker logs tradia-ai-traefik 2>&1")
    entries = [json.loads(line) for line in log.splitlines() if line.startswith('{"')]
    requests = [e for e in entries if "RequestPath" in e]
    assert any(e.get("DownstreamStatus") == 200 for e in requests), "no access log entries"
    assert any(e.get("DownstreamStatus") == 401 for e in requests)
    _assert_no_key("the AI server's access log", log)
    assert not any("request_Authorization" in e for e in requests)


@pytest.mark.parametrize(
    ("host_fixture", "config_dir", "known_secrets", "known_key_files"),
    [
        # The AI server keeps only its clients' key digests (in Traefik's routes), never a key;
        # the key it holds is its own `local` client's.
        ("ai_server", "/etc/tradia/ai", {"tls/server.key", "local-client.key"}, set()),
        (
            "app_server",
            "/etc/tradia/app",
            {"tls/server.key", "traefik/users", "secrets/ollama_api_key"},
            {"secrets/ollama_api_key"},
        ),
    ],
)
def test_secret_files_are_private(
    request, host_fixture, config_dir, known_secrets, known_key_files
):
    host = request.getfixturevalue(host_fixture)
    listing = host.check_output("find %s -type f -printf '%%m %%p\\n'", config_dir)
    secrets = [
        line.split(" ", 1)
        for line in listing.splitlines()
        if re.search(r"(\.key$|/users$|/secrets/|/acme/)", line.split(" ", 1)[1])
    ]
    # The files the roles write must be among those checked, or the loop below proves nothing.
    found = {path.removeprefix(config_dir + "/") for _, path in secrets}
    assert known_secrets <= found, f"not found under {config_dir}: {known_secrets - found}"
    for mode, path in secrets:
        if path.endswith((".crt", ".csr")):
            continue
        assert mode in ("600", "640", "400", "440"), f"{path} has mode {mode}"
    grep = host.run("grep -rl --exclude-dir=build -- %s %s", API_KEY, config_dir)
    assert grep.rc in (0, 1), grep.stderr  # 1: no file holds it; 2 and up: grep failed
    holding_key = grep.stdout.split()
    assert {p.removeprefix(config_dir + "/") for p in holding_key} == known_key_files, holding_key
    for path in holding_key:
        assert host.file(path).mode in (0o600, 0o400), f"{path} holds the key with a loose mode"


@pytest.mark.parametrize(
    ("host_fixture", "name", "read_only"),
    [
        ("ai_server", "tradia-ollama", False),
        ("ai_server", "tradia-ai-traefik", True),
        ("app_server", "tradia-app", True),
        ("app_server", "tradia-app-traefik", True),
    ],
)
def test_containers_run_as_non_root_and_traefik_read_only(request, host_fixture, name, read_only):
    host = request.getfixturevalue(host_fixture)
    info = json.loads(host.check_output("docker inspect %s", name))[0]
    # Its main process as the host sees it (Traefik's image has no shell tools to ask inside).
    uid = host.check_output("ps -o uid= -p %s", str(info["State"]["Pid"]))
    assert uid.strip() != "0", f"{name} runs as root"
    assert "no-new-privileges:true" in info["HostConfig"]["SecurityOpt"]
    if read_only:
        assert info["HostConfig"]["ReadonlyRootfs"] is True, f"{name} can write its image"
        assert info["HostConfig"]["CapDrop"] == ["ALL"]


def test_the_app_has_a_memory_ceiling_and_a_small_tmp(app_server):
    defaults = yaml.safe_load(
        (Path(__file__).parents[3] / "roles/app_server/defaults/main.yml").read_text()
    )
    memory, tmp_size = defaults["app_server_app_memory"], defaults["app_server_app_tmp_size"]
    host_config = json.loads(app_server.check_output("docker inspect tradia-app"))[0]["HostConfig"]
    units = {"m": 1024**2, "g": 1024**3}
    assert host_config["Memory"] == int(memory[:-1]) * units[memory[-1]]
    assert host_config["MemorySwap"] == host_config["Memory"], "swap beyond the ceiling"
    options = host_config["Tmpfs"]["/tmp"].split(",")
    assert f"size={tmp_size}" in options, options
    assert "noexec" in options, options
    # The bound holds: filling /tmp past its size fails instead of eating the host's memory.
    fill_mib = int(tmp_size[:-1]) * units[tmp_size[-1]] // 1024**2 + 64
    try:
        fill = app_server.run(
            "docker exec tradia-app dd if=/dev/zero of=/tmp/fill bs=1M count=%s", str(fill_mib)
        )
        assert fill.rc != 0, fill.stdout
        assert "No space left on device" in fill.stderr, fill.stderr
    finally:
        app_server.run("docker exec tradia-app rm -f /tmp/fill")


def test_a_rerun_from_another_clone_changes_nothing_and_never_shows_the_key(tmp_path):
    # From another clone of the same commit, as a colleague's laptop: the app's sources are the
    # same files with new mtimes (copied without them), and nothing may change. --diff too: a
    # task that leaked the key would show it in its diff.
    project = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"])
    clone = tmp_path / "app"
    shutil.copytree(
        project / "app",
        clone,
        copy_function=shutil.copyfile,
        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", ".pytest_cache"),
    )
    run = run_playbook("site.yml", "-vvv", "--diff", "-e", f"app_server_image_build_src={clone}")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    _assert_no_key("ansible-playbook -vvv --diff output", run.stdout + run.stderr)
    # Without colours: ansible-playbook colours the recap's counters.
    recap = re.sub(r"\x1b\[[0-9;]*m", "", run.stdout[run.stdout.rindex("PLAY RECAP") :])
    changed = re.findall(r"changed=(\d+)", recap)
    assert changed, recap
    assert set(changed) == {"0"}, recap


ROTATED_KEY = "molecule-rotated-key-fedcba9876543210fedcba98"
ROTATED_PASSWORD = "molecule-rotated-alice-password"


def test_a_dry_run_of_new_secrets_diffs_no_secret():
    """--check --diff with a new key and password: every file holding a secret would change, so
    an unhidden diff would print the old and the new values. (The model and verify steps would
    call the servers with the new key, which check mode has not installed: off here.)"""
    overrides = {
        "tradia_api_key": ROTATED_KEY,
        "app_server_users": [{"name": USER[0], "password": ROTATED_PASSWORD}],
        "ai_server_ollama_models": [],
        "ai_server_verify": False,
        "app_server_verify": False,
    }
    run = run_playbook("site.yml", "--check", "--diff", "-e", json.dumps(overrides))
    output = run.stdout + run.stderr
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    # Without colours: ansible-playbook colours the recap's counters.
    recap = re.sub(r"\x1b\[[0-9;]*m", "", run.stdout[run.stdout.rindex("PLAY RECAP") :])
    for host in ("ai-server", "app-server"):
        assert re.search(rf"{host}\s*:.*changed=[1-9]", recap), f"no change on {host}: {recap}"
    _assert_no_key("ansible-playbook --check --diff output", output)
    for secret in (
        ROTATED_KEY,
        base64_credentials("api", ROTATED_KEY),
        USER[1],
        ROTATED_PASSWORD,
        base64_credentials(USER[0], ROTATED_PASSWORD),
    ):
        assert secret not in output, "a secret appears in the --check --diff output"

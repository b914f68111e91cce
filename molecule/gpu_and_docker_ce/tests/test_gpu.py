"""The GPU code paths of the ai_server role, on a host made to look like an NVIDIA host: the
signed toolkit repository (deb822, Signed-By), the packages from it, daemon.json with one owner,
dockerd restarted after the toolkit, and the Ollama container wired to the GPUs."""

import json
import os
import subprocess
from pathlib import Path

from conftest import (
    CTK_LOG,
    HOOK_LOG,
    LEGACY_SOURCE,
    REPO_URL,
    RUNTIME_LOG,
    SOURCE,
    apt_update_with,
    check_json,
    inspect,
    installed_from,
    source_fields,
)

# Exactly what docker_engine renders: the scenario's daemon options plus the role's runtime stanza.
EXPECTED_DAEMON_JSON = {
    "log-driver": "json-file",
    "log-opts": {"max-size": "10m", "max-file": "3"},
    "live-restore": True,
    "bip": "10.223.0.1/24",
    "default-address-pools": [{"base": "10.224.0.0/16", "size": 24}],
    "runtimes": {"nvidia": {"path": "nvidia-container-runtime", "args": []}},
}

# dockerd's start time and a file's change time, on one clock (realtime, sub-second precision).
DOCKERD_START_AND_CTIME = """
import os, subprocess, sys, time
mono = int(subprocess.check_output(
    ["systemctl", "show", "-p", "ExecMainStartTimestampMonotonic", "--value", "docker"]))
offset = time.clock_gettime(time.CLOCK_REALTIME) - time.clock_gettime(time.CLOCK_MONOTONIC)
print(offset + mono / 1e6, os.stat(sys.argv[1]).st_ctime)
"""


def test_source_is_deb822_with_signed_by(ai_server, repo):
    source = ai_server.file(SOURCE)
    assert source.exists
    fields = source_fields(source.content_string)
    assert fields["Types"] == "deb"
    assert fields["URIs"] == REPO_URL
    assert fields["Suites"] == "/"
    assert "Components" not in fields  # a flat repository
    key = ai_server.file(fields["Signed-By"])
    assert key.exists
    assert key.user == "root"
    assert key.mode & 0o022 == 0
    # The key apt trusts for this source is the one the repository was signed with.
    assert key.content_string.strip() == repo.file("/srv/nvidia-repo/gpgkey").content_string.strip()


def test_legacy_source_was_removed(ai_server):
    # prepare left NVIDIA's old one-line source; apt refuses it beside the deb822 one.
    assert not ai_server.file(LEGACY_SOURCE).exists
    listed = ai_server.check_output(
        "grep -rl gpu-repo:8080 /etc/apt/ --include='*.list*' --include='*.sources'"
    )
    assert listed.split() == [SOURCE]


def test_apt_verifies_the_repository_signature(ai_server):
    rc, out = apt_update_with(ai_server, SOURCE)
    assert rc == 0, out
    assert "gpu-repo:8080/stable/deb/amd64  InRelease" in out, out
    # The same source with a key that did not sign it is refused: the signature is really checked.
    wrong = ai_server.check_output("mktemp --suffix=.sources")
    try:
        ai_server.run_expect(
            [0],
            "sed 's#^Signed-By:.*#Signed-By: %s#' %s > %s",
            "/usr/share/keyrings/debian-archive-keyring.gpg",
            SOURCE,
            wrong,
        )
        rc, out = apt_update_with(ai_server, wrong)
    finally:
        ai_server.run("rm -f %s", wrong)
    assert rc != 0
    assert "NO_PUBKEY" in out, out


def test_toolkit_is_installed_from_the_repository(ai_server):
    for package in ("nvidia-container-toolkit", "nvidia-container-toolkit-base"):
        assert ai_server.package(package).is_installed, package
        origins = installed_from(ai_server, package)
        assert any(o.startswith("http://gpu-repo:8080/stable/deb/amd64 ") for o in origins), origins
    owners = {
        "/usr/bin/nvidia-container-runtime-hook": "nvidia-container-toolkit",
        "/usr/bin/nvidia-container-runtime": "nvidia-container-toolkit-base",
        "/usr/bin/nvidia-ctk": "nvidia-container-toolkit-base",
    }
    for path, package in owners.items():
        assert ai_server.check_output("dpkg -S %s", path).split(":")[0] == package, path
    # dockerd looks the hook up on its PATH.
    assert ai_server.check_output("command -v nvidia-container-runtime-hook") == (
        "/usr/bin/nvidia-container-runtime-hook"
    )


def test_daemon_json_has_the_runtime_once_and_one_owner(ai_server):
    text = ai_server.file("/etc/docker/daemon.json").content_string
    assert text.count('"nvidia"') == 1, text
    assert json.loads(text) == EXPECTED_DAEMON_JSON
    assert "default-runtime" not in text
    # nvidia-ctk (`runtime configure` would rewrite daemon.json) was never run.
    assert not ai_server.file(CTK_LOG).exists, ai_server.file(CTK_LOG).content_string


def test_docker_lists_the_nvidia_runtime(ai_server):
    runtimes = check_json(ai_server, "docker info --format '{{json .Runtimes}}'")
    assert runtimes["nvidia"]["path"] == "nvidia-container-runtime"


def test_dockerd_was_restarted_after_the_toolkit_was_installed(ai_server):
    # dockerd registers its "nvidia" device driver only at start, when the hook is on its PATH.
    # prepare left dockerd running without the hook and daemon.json final, so this restart is
    # the toolkit install's own.
    started, installed = map(
        float,
        ai_server.check_output(
            "python3 -c %s /usr/bin/nvidia-container-runtime-hook", DOCKERD_START_AND_CTIME
        ).split(),
    )
    assert started > installed, f"dockerd started {installed - started:.3f} s before the hook came"


def test_ollama_gets_all_gpus_and_is_healthy(ai_server):
    state = inspect(ai_server, "tradia-ollama")
    requests = [
        {k: r[k] for k in ("Driver", "Count", "Capabilities")}
        for r in state["HostConfig"]["DeviceRequests"]
    ]
    assert requests == [{"Driver": "nvidia", "Count": -1, "Capabilities": [["gpu"]]}]
    assert state["State"]["Running"]
    assert state["State"]["Health"]["Status"] == "healthy"
    # Traefik gets no GPU.
    assert not inspect(ai_server, "tradia-ai-traefik")["HostConfig"]["DeviceRequests"]


def test_prestart_hook_ran_for_ollama(ai_server):
    ollama = inspect(ai_server, "tradia-ollama")
    calls = [json.loads(line) for line in ai_server.file(HOOK_LOG).content_string.splitlines()]
    mine = [c for c in calls if c["id"] == ollama["Id"]]
    assert mine, calls
    # The container's current process is the one the hook was called for.
    assert mine[-1]["pid"] == ollama["State"]["Pid"]
    assert mine[-1]["args"] == ["nvidia-container-runtime-hook", "prestart"]
    assert mine[-1]["NVIDIA_VISIBLE_DEVICES"] == "all"  # what Count -1 means to the hook
    assert mine[-1]["device"]


def test_nvidia_runtime_runs_containers(ai_server):
    ai_server.run_expect(
        [0], "docker run --rm --runtime=nvidia --entrypoint true tradia/ollama-sim:dev"
    )
    assert " create " in ai_server.file(RUNTIME_LOG).content_string


def test_gpu_detection_auto_and_nvidia(ai_server):
    """ai_server_gpu=auto picks NVIDIA while nvidia-smi works, the CPU when it does not; nvidia
    without a working driver fails (detect_gpu.yml hides /dev/nvidiactl, then restores it)."""
    project = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"])
    env = {**os.environ, "ANSIBLE_ROLES_PATH": str(project / "roles")}
    result = subprocess.run(
        [
            "ansible-playbook",
            "-i",
            os.environ["MOLECULE_INVENTORY_FILE"],
            str(Path(__file__).with_name("detect_gpu.yml")),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert ai_server.run("test -c /dev/nvidiactl").rc == 0, "detect_gpu.yml did not restore it"


def test_running_dockerd_has_the_nvidia_device_driver(ai_server):
    # `--gpus all` fails with 'could not select device driver "nvidia"' on a dockerd that started
    # before the hook was installed; here it must start a container and call the hook for it.
    cid = ai_server.check_output(
        "docker run -d --gpus all --entrypoint sleep tradia/ollama-sim:dev 30"
    )
    try:
        calls = [json.loads(line) for line in ai_server.file(HOOK_LOG).content_string.splitlines()]
        assert [c["NVIDIA_VISIBLE_DEVICES"] for c in calls if c["id"] == cid] == ["all"]
    finally:
        ai_server.run("docker rm -f %s", cid)

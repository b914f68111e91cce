"""The converged lab's credentials: hashes with random salts, secret files readable by a group
of their own, Ollama without capabilities. (The AI server keeps its clients' keys as SHA-256
digests, no password hash: tests/test_gateway.py.)

That a rerun keeps every hash is test_wiped_lab_restored.py's rerun of site.yml (changed=0: a
new hash is a changed task) and molecule's idempotence step in molecule/ai_server;
that a changed password changes the hash is tests/unit/roles/test_users_files.py."""

import hashlib
import json

import bcrypt
import pytest

from conftest import USER

# What the roles used to derive each salt from: the password and the user name alone.
OLD_DERIVATIONS = {
    "app_server": (f"{USER[1]}:{USER[0]}:tradia-app", USER[0], USER[1]),
}
USERS_FILES = {
    "app_server": "/etc/tradia/app/traefik/users",
}
# (container, the group that alone reads its secret files, files of that group)
READERS = {
    "ai_server": [
        # The routes file holds the clients' key digests.
        (
            "tradia-ai-traefik",
            "tradia-ai-traefik",
            ["traefik/dynamic/ollama.yml", "tls/server.key"],
        ),
    ],
    "app_server": [
        ("tradia-app-traefik", "tradia-app-traefik", ["traefik/users", "tls/server.key"]),
        ("tradia-app", "tradia-app", ["secrets/ollama_api_key"]),
    ],
}
CONFIG_DIRS = {"ai_server": "/etc/tradia/ai", "app_server": "/etc/tradia/app"}


@pytest.mark.parametrize("host_fixture", ["app_server"])
def test_users_file_salts_come_from_no_password(request, host_fixture):
    host = request.getfixturevalue(host_fixture)
    derivation, name, password = OLD_DERIVATIONS[host_fixture]
    lines = host.file(USERS_FILES[host_fixture]).content_string.splitlines()
    hashes = dict(line.split(":", 1) for line in lines if line)
    hashed = hashes[name]
    assert bcrypt.checkpw(password.encode(), hashed.encode()), f"{name}'s hash does not verify"
    derived_salt = hashlib.sha256(derivation.encode()).hexdigest()[:21] + "e"
    # bcrypt: $2b$NN$ then 22 characters of salt, then the checksum.
    assert hashed[7:29] != derived_salt, f"{name}'s salt is computable from the password"


@pytest.mark.parametrize("host_fixture", ["ai_server", "app_server"])
def test_secret_files_are_readable_by_a_group_of_their_own(request, host_fixture):
    host = request.getfixturevalue(host_fixture)
    for container, group, files in READERS[host_fixture]:
        entry = host.check_output("getent group %s", group).split(":")
        gid, members = int(entry[2]), entry[3]
        assert members == "", f"{group} has members: {members}"
        assert host.group("nogroup").gid != gid
        info = json.loads(host.check_output("docker inspect %s", container))[0]
        assert info["Config"]["User"].endswith(f":{gid}"), info["Config"]["User"]
        # Nobody else on the host runs with that group: only the container's processes.
        pid = str(info["State"]["Pid"])
        tree = set(host.run("ps -o pid= --ppid %s", pid).stdout.split()) | {pid}
        processes = [line.split() for line in host.check_output("ps -eo pid=,gid=").splitlines()]
        assert any(p == pid for p, _ in processes), f"{container}'s process is not listed"
        strangers = [p for p, g in processes if int(g) == gid and p not in tree]
        assert strangers == [], f"other processes run as {group}: {strangers}"
        for relative in files:
            path = f"{CONFIG_DIRS[host_fixture]}/{relative}"
            assert host.file(path).group == group, f"{path} belongs to {host.file(path).group}"
            assert host.file(path).mode & 0o007 == 0, f"{path} is readable by others"


def test_ollama_runs_without_capabilities(ai_server):
    info = json.loads(ai_server.check_output("docker inspect tradia-ollama"))[0]
    assert info["HostConfig"]["CapDrop"] == ["ALL"]
    assert not info["HostConfig"]["CapAdd"], info["HostConfig"]["CapAdd"]
    status = ai_server.file(f"/proc/{info['State']['Pid']}/status").content_string
    effective = next(line.split()[1] for line in status.splitlines() if line.startswith("CapEff"))
    assert int(effective, 16) == 0, f"Ollama's process has capabilities {effective}"
    # And it still serves: healthy by its own probe (`ollama list`), which the role waits for.
    assert info["State"]["Health"]["Status"] == "healthy"

"""Shared helpers: reach the scenario's hosts by name, read JSON from commands that must succeed,
read apt sources and `apt-cache policy`."""

import json
import re

import pytest
import testinfra
from lab import host

REPO_URL = "http://gpu-repo:8080/stable/deb/$(ARCH)"
SOURCE = "/etc/apt/sources.list.d/nvidia-container-toolkit.sources"
LEGACY_SOURCE = "/etc/apt/sources.list.d/nvidia-container-toolkit.list"
HOOK_LOG = "/var/log/nvidia-container-runtime-hook.log"
RUNTIME_LOG = "/var/log/nvidia-container-runtime.log"
CTK_LOG = "/var/log/nvidia-ctk.log"

# Docker's repository on gpu-repo, as the docker_engine role is pointed at it, and where the role
# puts its deb822 source (deb822_repository name "docker").
DOCKER_REPO_URL = "http://gpu-repo:8081/linux/debian"
DOCKER_REPO_KEY = "/srv/docker-repo/linux/debian/gpg"
DOCKER_SOURCE = "/etc/apt/sources.list.d/docker.sources"
DOCKER_LEGACY_SOURCE = "/etc/apt/sources.list.d/docker.list"


@pytest.fixture(scope="session")
def ai_server() -> testinfra.host.Host:
    return host("gpu-ai-server")


@pytest.fixture(scope="session")
def repo() -> testinfra.host.Host:
    return host("gpu-repo")


def check_json(host: testinfra.host.Host, command: str, *args: str):
    """The JSON a command prints; the command must succeed."""
    return json.loads(host.check_output(command, *args))


def inspect(host: testinfra.host.Host, container: str) -> dict:
    return check_json(host, "docker inspect %s", container)[0]


def source_fields(text: str) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in text.splitlines() if ": " in line)


def apt_update_with(host, sources: str) -> tuple[int, str]:
    """`apt-get update` of one deb822 source only, into a scratch lists directory."""
    lists = host.check_output("mktemp -d")
    try:
        host.run_expect([0], "mkdir %s/partial", lists)
        result = host.run(
            "apt-get update --error-on=any -o Dir::Etc::SourceList=%s"
            " -o Dir::Etc::SourceParts=/nonexistent -o Dir::State::Lists=%s",
            sources,
            lists,
        )
        return result.rc, result.stdout + result.stderr
    finally:
        host.run("rm -rf %s", lists)


def installed_from(host: testinfra.host.Host, package: str) -> list[str]:
    """The origins `apt-cache policy` lists under the installed version, e.g.
    "http://gpu-repo:8081/linux/debian bookworm/stable amd64 Packages" (priorities left out)."""
    policy = host.check_output("apt-cache policy %s", package).splitlines()
    installed = next(i for i, line in enumerate(policy) if line.lstrip().startswith("***"))
    origins = []
    for line in policy[installed + 1 :]:
        if not re.match(r"^ {8}-?\d+ ", line):
            break
        origins.append(line.split(None, 1)[1])
    return origins

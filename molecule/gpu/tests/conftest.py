"""Shared helpers: reach the scenario's hosts by name, read JSON from commands that must succeed."""

import json
import os

import pytest
import testinfra

REPO_URL = "http://gpu-repo:8080/stable/deb/$(ARCH)"
SOURCE = "/etc/apt/sources.list.d/nvidia-container-toolkit.sources"
LEGACY_SOURCE = "/etc/apt/sources.list.d/nvidia-container-toolkit.list"
HOOK_LOG = "/var/log/nvidia-container-runtime-hook.log"
RUNTIME_LOG = "/var/log/nvidia-container-runtime.log"
CTK_LOG = "/var/log/nvidia-ctk.log"


def _host(name: str) -> testinfra.host.Host:
    inventory = os.environ["MOLECULE_INVENTORY_FILE"]
    return testinfra.get_host(f"ansible://{name}?ansible_inventory={inventory}")


@pytest.fixture(scope="session")
def ai_server() -> testinfra.host.Host:
    return _host("gpu-ai-server")


@pytest.fixture(scope="session")
def repo() -> testinfra.host.Host:
    return _host("gpu-repo")


def check_json(host: testinfra.host.Host, command: str, *args: str):
    """The JSON a command prints; the command must succeed."""
    return json.loads(host.check_output(command, *args))


def inspect(host: testinfra.host.Host, container: str) -> dict:
    return check_json(host, "docker inspect %s", container)[0]

"""Shared helpers: reach any molecule host by name, and run commands that must succeed."""

import os

import pytest
import testinfra

API_KEY = "molecule-test-key-0123456789abcdef0123456789"
CA = "/etc/tradia/ai/tls/ca.crt"


def _host(name: str) -> testinfra.host.Host:
    inventory = os.environ["MOLECULE_INVENTORY_FILE"]
    return testinfra.get_host(f"ansible://{name}?ansible_inventory={inventory}")


@pytest.fixture(scope="session")
def ai_server() -> testinfra.host.Host:
    return _host("ai-server")


@pytest.fixture(scope="session")
def app_client() -> testinfra.host.Host:
    return _host("app-client")


@pytest.fixture(scope="session")
def outsider() -> testinfra.host.Host:
    return _host("outsider")


@pytest.fixture(scope="session")
def ca_pem(ai_server: testinfra.host.Host) -> str:
    return ai_server.file(CA).content_string


def curl(host: testinfra.host.Host, path: str, *args: str, ca_pem: str | None = None) -> str:
    """HTTP status code of a request to the AI endpoint from `host` (000 = no connection)."""
    cacert = ""
    if ca_pem is not None:
        host.run_expect([0], "mkdir -p /tmp/tradia && printf '%%s' %s > /tmp/tradia/ca.crt", ca_pem)
        cacert = "--cacert /tmp/tradia/ca.crt"
    quoted = " ".join(f"'{a}'" for a in args)
    cmd = f"curl -s -o /dev/null -w '%{{http_code}}' --max-time 10 {cacert} {quoted} https://ai-server:11434{path}"
    return host.run(cmd).stdout.strip()

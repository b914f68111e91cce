"""Shared helpers: reach any molecule host by name, and run commands that must succeed."""

import json
import os
from pathlib import Path

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


# curl's exit codes that tell why no HTTP status came back ("000" alone cannot tell them apart).
CURL_TIMED_OUT = 28  # e.g. a firewall DROP: the connection never opens
CURL_CERT_REFUSED = 60  # the server's certificate does not verify against the CAs curl trusts


def curl_exit(
    host: testinfra.host.Host, path: str, *args: str, ca_pem: str | None = None
) -> tuple[int, str]:
    """(curl's exit code, HTTP status) of a request to the AI endpoint from `host`."""
    cacert = ""
    if ca_pem is not None:
        host.run_expect([0], "mkdir -p /tmp/tradia && printf '%%s' %s > /tmp/tradia/ca.crt", ca_pem)
        cacert = "--cacert /tmp/tradia/ca.crt"
    quoted = " ".join(f"'{a}'" for a in args)
    cmd = f"curl -s -o /dev/null -w '%{{http_code}}' --max-time 10 {cacert} {quoted} https://ai-server:11434{path}"
    result = host.run(cmd)
    return result.rc, result.stdout.strip()


def curl(host: testinfra.host.Host, path: str, *args: str, ca_pem: str | None = None) -> str:
    """HTTP status code of a request to the AI endpoint from `host` (000 = no connection)."""
    return curl_exit(host, path, *args, ca_pem=ca_pem)[1]


def run_client(host: testinfra.host.Host, script: str, ca_pem: str) -> dict:
    """Run one of clients/*.py on `host` with the official client's virtualenv; its JSON output."""
    curl(host, "/", ca_pem=ca_pem)  # writes the CA file the client verifies against
    src = Path(__file__).parent / "clients" / script
    host.ansible("copy", f"src={src} dest=/tmp/tradia/{script} mode=0644", check=False)
    env = (
        f"AI_URL=https://ai-server:11434 AI_KEY={API_KEY}"
        " AI_CA=/tmp/tradia/ca.crt AI_MODEL=smollm2:135m"
    )
    return json.loads(
        host.check_output(f"{env} /opt/ollama-client/bin/python /tmp/tradia/{script}")
    )

"""Shared helpers: reach any molecule host by name, and run commands that must succeed."""

import json
from pathlib import Path

import pytest
import testinfra
from lab import (  # noqa: F401 (re-exported to the tests)
    CURL_CERT_REFUSED,
    CURL_TIMED_OUT,
    clear_ai_fault,
    curl_status,
    host,
    inventory_vars,
    set_ai_fault,
)

# From molecule.yml's inventory: the tests hold no copy of the key.
API_KEY: str = inventory_vars()["tradia_api_key"]
CA = "/etc/tradia/ai/tls/ca.crt"


@pytest.fixture(scope="session")
def ai_server() -> testinfra.host.Host:
    return host("ai-server")


@pytest.fixture(scope="session")
def app_client() -> testinfra.host.Host:
    return host("app-client")


@pytest.fixture(scope="session")
def outsider() -> testinfra.host.Host:
    return host("outsider")


@pytest.fixture(scope="session")
def ca_pem(ai_server: testinfra.host.Host) -> str:
    return ai_server.file(CA).content_string


def curl_exit(
    on: testinfra.host.Host, path: str, *args: str, ca_pem: str | None = None
) -> tuple[int, str]:
    """(curl's exit code, HTTP status) of a request to the AI endpoint from `on`."""
    return curl_status(on, f"https://ai-server:11434{path}", *args, ca_pem=ca_pem)


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

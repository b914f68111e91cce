"""Shared helpers: reach the molecule hosts, and the app server's HTTPS endpoint from the
controller (this machine reaches the test-bed containers' addresses on the outer network)."""

import os
import ssl
from pathlib import Path

import httpx
import pytest
import testinfra

API_KEY = "molecule-test-key-0123456789abcdef0123456789"
USER = ("alice", "molecule-alice-password")
MODEL = "smollm2:135m"
ARTIFACTS = Path(
    os.environ.get("TRADIA_TEST_ARTIFACTS", Path(__file__).parents[3] / "artifacts" / "molecule")
)


def _host(name: str) -> testinfra.host.Host:
    inventory = os.environ["MOLECULE_INVENTORY_FILE"]
    return testinfra.get_host(f"ansible://{name}?ansible_inventory={inventory}")


@pytest.fixture(scope="session")
def ai_server() -> testinfra.host.Host:
    return _host("ai-server")


@pytest.fixture(scope="session")
def app_server() -> testinfra.host.Host:
    return _host("app-server")


@pytest.fixture(scope="session")
def outsider() -> testinfra.host.Host:
    return _host("outsider")


@pytest.fixture(scope="session")
def app_ip(app_server: testinfra.host.Host) -> str:
    """The app server's address on the test bed's network, as a user's browser would reach it."""
    # eth0 is the test bed's network (the host's own Docker bridges have addresses too).
    line = app_server.check_output("ip -4 -o addr show dev eth0")
    return line.split()[3].split("/")[0]


@pytest.fixture(scope="session")
def ca_file(app_server: testinfra.host.Host, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The deployment CA (the one the app server's certificate must chain to)."""
    path = tmp_path_factory.mktemp("ca") / "ca.crt"
    path.write_text(app_server.file("/etc/tradia/app/tls/ca.crt").content_string)
    return str(path)


@pytest.fixture(scope="session")
def app_url(app_ip: str) -> str:
    return f"https://{app_ip}"


@pytest.fixture(scope="session")
def tls_context(ca_file: str) -> ssl.SSLContext:
    """Verifies the certificate against our CA (the server's address is one of its SANs)."""
    return ssl.create_default_context(cafile=ca_file)


@pytest.fixture(scope="session")
def client(app_url: str, tls_context: ssl.SSLContext) -> httpx.Client:
    """A logged-in user's HTTPS client."""
    with httpx.Client(base_url=app_url, verify=tls_context, auth=USER, timeout=120) as c:
        yield c


def curl_ai(host: testinfra.host.Host, ca_pem: str, *args: str) -> str:
    """HTTP status of GET /api/tags on the AI server from `host` (000 = no connection)."""
    host.run_expect([0], "mkdir -p /tmp/tradia && printf '%%s' %s > /tmp/tradia/ca.crt", ca_pem)
    quoted = " ".join(f"'{a}'" for a in args)
    cmd = (
        "curl -s -o /dev/null -w '%{http_code}' --max-time 10 --cacert /tmp/tradia/ca.crt"
        f" {quoted} https://ai-server:11434/api/tags"
    )
    return host.run(cmd).stdout.strip()

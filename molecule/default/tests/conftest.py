"""Shared helpers: reach the molecule hosts, and the app server's HTTPS endpoint from the
controller (this machine reaches the test-bed containers' addresses on the outer network)."""

import base64
import os
import ssl
import subprocess
import time
from collections.abc import Callable
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
    """A logged-in user's HTTPS client, speaking HTTP/2 as browsers do. (Traefik cuts some
    HTTP/1.1-over-TLS streams when its CPU is contended: bench/NOTES.md, bench/stream_cut.py.)"""
    with httpx.Client(
        base_url=app_url, verify=tls_context, auth=USER, timeout=120, http2=True
    ) as c:
        yield c


# curl's exit codes that tell why no HTTP status came back ("000" alone cannot tell them apart).
CURL_TIMED_OUT = 28  # e.g. a firewall DROP: the connection never opens
CURL_CERT_REFUSED = 60  # the server's certificate does not verify against the CA given


def curl_ai_exit(host: testinfra.host.Host, ca_pem: str, *args: str) -> tuple[int, str]:
    """(curl's exit code, HTTP status) of GET /api/tags on the AI server from `host`."""
    host.run_expect([0], "mkdir -p /tmp/tradia && printf '%%s' %s > /tmp/tradia/ca.crt", ca_pem)
    quoted = " ".join(f"'{a}'" for a in args)
    cmd = (
        "curl -s -o /dev/null -w '%{http_code}' --max-time 10 --cacert /tmp/tradia/ca.crt"
        f" {quoted} https://ai-server:11434/api/tags"
    )
    result = host.run(cmd)
    return result.rc, result.stdout.strip()


def curl_burst(host: testinfra.host.Host, url: str, count: int, *args: str) -> list[str]:
    """The HTTP statuses of `count` GETs of `url` sent at once from `host` by one curl (HTTP/2,
    20 in flight): fast enough for any rate limit, whatever the CPU, unlike a process or a TLS
    handshake per request."""
    # A config file gives each URL its own output (the bodies are not wanted).
    config = "".join(f'url = "{url}"\noutput = "/dev/null"\n' for _ in range(count))
    host.run_expect([0], "mkdir -p /tmp/tradia && printf '%%s' %s > /tmp/tradia/burst.cfg", config)
    result = host.run(
        "curl -sg --parallel --parallel-max 20 --max-time 60 -w %s"
        + " %s" * len(args)
        + " -K /tmp/tradia/burst.cfg",
        "%{http_code}\\n",
        *args,
    )
    return result.stdout.split()


def curl_ai(host: testinfra.host.Host, ca_pem: str, *args: str) -> str:
    """HTTP status of GET /api/tags on the AI server from `host` (000 = no connection)."""
    return curl_ai_exit(host, ca_pem, *args)[1]


def base64_credentials(user: str, password: str) -> str:
    """The Authorization header's form of a login: a leak of it is a leak of the key."""
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def on_controller_docker(*args: str, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    """The outer Docker engine, where the test-bed hosts are containers (a reboot is a restart)."""
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=True
    )


def wait_until(check: Callable[[], bool], what: str, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (OSError, httpx.HTTPError, AssertionError):
            pass
        time.sleep(2)
    raise AssertionError(f"{what}: not after {seconds} s")


def healthy(host: testinfra.host.Host, *names: str) -> bool:
    states = host.run("docker inspect -f '{{.State.Health.Status}}' " + " ".join(names))
    return states.rc == 0 and set(states.stdout.split()) == {"healthy"}


def run_playbook(playbook: str, *args: str, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    """ansible-playbook from the repository against this scenario's hosts and group_vars."""
    project = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"])
    inventory = Path(os.environ["MOLECULE_INVENTORY_FILE"]).parent
    return subprocess.run(
        ["ansible-playbook", "-i", str(inventory), str(project / "playbooks" / playbook), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=project,
        env={**os.environ, "ANSIBLE_CONFIG": str(project / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"},
        check=False,
    )


def set_ai_fault(app_server: testinfra.host.Host, ca_pem: str, fault: str) -> None:
    """A simulator fault on the AI server, set from the app server through Traefik."""
    curl_ai(app_server, ca_pem)  # writes the CA file on the app server
    app_server.run_expect(
        [0],
        "curl -sf --cacert /tmp/tradia/ca.crt -u api:%s -H 'Content-Type: application/json'"
        " -d %s https://ai-server:11434/_sim/fault",
        API_KEY,
        fault,
    )


def clear_ai_fault(app_server: testinfra.host.Host) -> None:
    """No fault left behind for the next test (the CA file is on the app server already)."""
    app_server.run_expect(
        [0],
        "curl -sf -X DELETE --cacert /tmp/tradia/ca.crt -u api:%s https://ai-server:11434/_sim/fault",
        API_KEY,
    )

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
from lab import (  # noqa: F401 (re-exported to the tests)
    CURL_CERT_REFUSED,
    CURL_REFUSED,
    CURL_TIMED_OUT,
    clear_ai_fault,
    curl_burst,
    curl_status,
    host,
    inventory_vars,
    set_ai_fault,
)

# From molecule.yml's inventory: the tests hold no copy of a secret.
API_KEY: str = inventory_vars()["tradia_api_key"]
USER: tuple[str, str] = (
    inventory_vars("app_servers")["app_server_users"][0]["name"],
    inventory_vars("app_servers")["app_server_users"][0]["password"],
)
MODEL: str = inventory_vars("app_servers")["app_server_ollama_model"]
ARTIFACTS = Path(
    os.environ.get("TRADIA_TEST_ARTIFACTS", Path(__file__).parents[3] / "artifacts" / "molecule")
)


@pytest.fixture(scope="session")
def ai_server() -> testinfra.host.Host:
    return host("ai-server")


@pytest.fixture(scope="session")
def app_server() -> testinfra.host.Host:
    return host("app-server")


@pytest.fixture(scope="session")
def outsider() -> testinfra.host.Host:
    return host("outsider")


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


def curl_ai_exit(on: testinfra.host.Host, ca_pem: str, *args: str) -> tuple[int, str]:
    """(curl's exit code, HTTP status) of GET /api/tags on the AI server from `on`."""
    return curl_status(on, "https://ai-server:11434/api/tags", *args, ca_pem=ca_pem)


def curl_ai(on: testinfra.host.Host, ca_pem: str, *args: str) -> str:
    """HTTP status of GET /api/tags on the AI server from `on` (000 = no connection)."""
    return curl_ai_exit(on, ca_pem, *args)[1]


# The AI host's own client (the role's model management and checks): its key is generated on
# the host, readable by root only.
LOCAL_CLIENT_KEY = "/etc/tradia/ai/local-client.key"
AI_CA = "/etc/tradia/ai/tls/ca.crt"


def curl_ai_locally(ai_server: testinfra.host.Host, path: str, *args: str) -> tuple[int, str]:
    """(curl's exit code, HTTP status) of `path` on 11434 from the AI host itself with the
    `local` client's key. The shell reads the key into a header file: it is in no command line
    (the process list, the journal's record of the test's commands)."""
    header = "/tmp/tradia/local-auth"
    result = ai_server.run(
        "umask 077 && mkdir -p /tmp/tradia"
        " && printf 'Authorization: Bearer %%s\\n' \"$(cat %s)\" > %s"
        " && curl -s -o /dev/null -w '%%{http_code}' --max-time 60 --cacert %s -H @%s"
        + " %s" * len(args)
        + " https://localhost:11434%s; status=$?; rm -f %s; exit $status",
        LOCAL_CLIENT_KEY,
        header,
        AI_CA,
        header,
        *args,
        path,
        header,
    )
    return result.rc, result.stdout.strip()


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
        # Molecule's verify sets ANSIBLE_FORCE_COLOR, which wins over NOCOLOR: the tests read
        # the recap as plain text.
        env={
            **os.environ,
            "ANSIBLE_CONFIG": str(project / "ansible.cfg"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
        },
        check=False,
    )

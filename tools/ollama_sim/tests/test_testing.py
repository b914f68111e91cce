"""ollama_sim.testing, the helpers tests/, app/tests and bench/ import: each does what its
callers rely on."""

import datetime
import socket
import ssl
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from ollama_sim.testing import (
    Pki,
    ServerProcess,
    ThreadedSimulator,
    free_port,
    make_pki,
    simulator_settings,
)


def _handshake(pki: Pki, server_name: str) -> None:
    """A TLS handshake over a socket pair, the client as strict as Python 3.13's default."""
    server_side = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_side.load_cert_chain(pki.server_cert, pki.server_key)
    client_side = ssl.create_default_context(cafile=str(pki.ca_cert))
    client_side.verify_flags |= ssl.VERIFY_X509_STRICT
    ours, theirs = socket.socketpair()

    def serve() -> None:
        try:
            with server_side.wrap_socket(ours, server_side=True):
                pass
        except (ssl.SSLError, OSError):
            pass  # the client refused: its error is the one the test reads

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        with client_side.wrap_socket(theirs, server_hostname=server_name):
            pass
    finally:
        theirs.close()
        thread.join(timeout=10)


def test_pki_serves_localhost_and_its_address_under_strict_checks(tmp_path: Path) -> None:
    pki = make_pki(tmp_path)
    _handshake(pki, "localhost")
    _handshake(pki, "127.0.0.1")
    with pytest.raises(ssl.SSLCertVerificationError, match="mismatch"):
        _handshake(pki, "ai.example.com")
    assert pki.server_key.stat().st_mode & 0o777 == 0o600
    assert pki.ca_key.stat().st_mode & 0o777 == 0o600


def test_pki_honours_the_given_names_files_and_validity(tmp_path: Path) -> None:
    start = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    end = start + datetime.timedelta(days=398)
    pki = make_pki(
        tmp_path / "ca",
        cert_dir=tmp_path / "tls",
        dns_names=("ai.example.com",),
        ips=(),
        ca_name="Old CA",
        server_validity=(start, end),
    )
    assert pki.server_cert.parent == tmp_path / "tls"
    assert pki.ca_key.parent == tmp_path / "ca"
    ca = x509.load_pem_x509_certificate(pki.ca_cert.read_bytes())
    leaf = x509.load_pem_x509_certificate(pki.server_cert.read_bytes())
    leaf.verify_directly_issued_by(ca)
    assert ca.subject.rfc4514_string() == "CN=Old CA"
    assert (leaf.not_valid_before_utc, leaf.not_valid_after_utc) == (start, end)
    sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [name.value for name in sans] == ["ai.example.com"]


def test_threaded_simulator_serves_then_frees_its_port(tmp_path: Path) -> None:
    settings = simulator_settings(tmp_path / "models", OLLAMA_SIM_PROFILE="instant")
    with ThreadedSimulator(settings) as server:
        assert httpx.get(f"{server.url}/api/version", timeout=5).json() == {"version": "0.12.6"}
        assert server.settings.models_dir == tmp_path / "models"
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.url}/api/version", timeout=5)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", free_port()))  # free: nothing is bound to it


def _ended(pid: int) -> bool:
    """Gone, or a zombie waiting for a reaper that is not ours (PID 1 of a container)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except FileNotFoundError:
        return True


def test_server_process_stop_ends_the_whole_group(tmp_path: Path) -> None:
    child = tmp_path / "child.pid"
    # The server's own child (as a wrapper script starts one): Popen knows only the shell.
    script = f"sleep 300 & echo $! > {child}.tmp; mv {child}.tmp {child}; wait"
    with ServerProcess(["/bin/sh", "-c", script], tmp_path / "sh.log") as server:
        server.wait_ready(child.exists, "the wrapper", 30)
        pid = int(child.read_text())
        assert not _ended(pid)
    assert server.process.returncode is not None
    for _ in range(100):  # SIGTERM is delivered asynchronously: a bounded moment for it
        if _ended(pid):
            break
        time.sleep(0.05)
    assert _ended(pid), "the group's other process outlived stop()"


def test_wait_ready_names_an_exited_process_and_its_log(tmp_path: Path) -> None:
    argv = [sys.executable, "-c", "import sys; print('port in use'); sys.exit(3)"]
    server = ServerProcess(argv, tmp_path / "crash.log")
    # RuntimeError, not the TimeoutError of the deadline: it fails as soon as the process exits.
    with pytest.raises(RuntimeError, match=r"(?s)crashy exited \(3\).*port in use"):
        server.wait_ready(lambda: False, "crashy", 20)

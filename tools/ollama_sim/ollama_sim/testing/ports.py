"""A free port, and a bounded wait for a server to answer."""

import socket
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from subprocess import Popen


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now (the kernel's pick; another process may take it later)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _tail(log: Path | None) -> str:
    if log is None or not log.exists():
        return ""
    return "; log tail:\n" + log.read_text(errors="replace")[-3000:]


def wait_until(
    check: Callable[[], bool],
    what: str,
    timeout_s: float,
    *,
    log: Path | None = None,
    process: Popen[bytes] | None = None,
    interval_s: float = 0.1,
) -> None:
    """Poll `check` until it is true; fail early, with `log`'s tail, once `process` has exited."""
    deadline = time.monotonic() + timeout_s
    while True:
        if check():
            return
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited ({process.returncode}){_tail(log)}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not ready after {timeout_s} s{_tail(log)}")
        time.sleep(interval_s)


def http_status(
    url: str, context: ssl.SSLContext | None = None, headers: dict[str, str] | None = None
) -> int | None:
    """The HTTP status `url` answers a GET with, or None when nothing answers (yet)."""
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - test URLs
    try:
        with urllib.request.urlopen(request, timeout=2, context=context) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:  # URLError, a reset, a timeout: not serving yet
        return None

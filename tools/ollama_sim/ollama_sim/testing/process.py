"""A server command as a child process, for tests that need a real process (kill, signals)."""

import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

from ollama_sim.testing.ports import wait_until


class ServerProcess:
    """`argv` in a session of its own, stdout and stderr in `log`.

    Its own session so that `stop` ends the whole group: a wrapper script's children too.
    """

    def __init__(self, argv: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.log = log
        with log.open("wb") as handle:
            self.process = subprocess.Popen(  # noqa: S603 - the test's own command
                argv, stdout=handle, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )

    def wait_ready(self, check: Callable[[], bool], what: str, timeout_s: float = 60) -> None:
        """Wait for `check`; stop the process and fail with its log if it does not come up."""
        try:
            wait_until(check, what, timeout_s, log=self.log, process=self.process)
        except BaseException:
            self.stop()
            raise

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        """SIGTERM to the group, SIGKILL after 10 s."""
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)

    def __enter__(self) -> "ServerProcess":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

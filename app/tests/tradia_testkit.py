"""Test helpers: the simulator as a subprocess, Tradia in a uvicorn thread, NDJSON reading."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from ollama_sim.testing import free_port
from tradia import stream_client
from tradia.core.config import Settings
from tradia.main import create_app

SIM_MODELS = "smollm2:135m,llama3.1:8b,qwen2.5vl:7b,qwen3:8b"
DEFAULT_MODEL = "llama3.1:8b"
API_KEY = "test-key-0123456789"


class Simulator:
    """One `ollama-sim serve` process on a free port; it can be killed and started again there."""

    def __init__(self, models_dir: Path, profile: str = "instant", **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.models_dir = models_dir
        self.profile = profile
        self.env = env
        self.log = models_dir.parent / f"sim-{self.port}.log"
        self._log_file = self.log.open("w")
        self.start()

    def start(self) -> None:
        executable = shutil.which("ollama-sim") or str(Path(sys.executable).with_name("ollama-sim"))
        self.process = subprocess.Popen(
            [
                executable,
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--backend",
                "scripted",
                "--profile",
                self.profile,
                "--models-dir",
                str(self.models_dir),
                "--preload",
                SIM_MODELS,
                "--log-level",
                "warning",
            ],
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            env={**os.environ, **self.env},
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"ollama-sim exited: {self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/api/version", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("ollama-sim did not start in 60 s")

    def kill(self) -> None:
        """SIGKILL: the AI server dies at once, its connections cut without a goodbye."""
        self.process.kill()
        self.process.wait(timeout=10)

    def fault(self, kind: str, **fields: Any) -> None:
        response = httpx.post(f"{self.url}/_sim/fault", json={"kind": kind, **fields}, timeout=5)
        response.raise_for_status()

    def clear_fault(self) -> None:
        httpx.delete(f"{self.url}/_sim/fault", timeout=5).raise_for_status()

    def stats(self) -> dict[str, Any]:
        return httpx.get(f"{self.url}/_sim/stats", timeout=5).json()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self._log_file.close()


def make_settings(upstream: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "OLLAMA_BASE_URL": upstream,
        "OLLAMA_API_KEY": API_KEY,
        "OLLAMA_MODEL": DEFAULT_MODEL,
        "OLLAMA_TIMEOUT": 10,
        "OLLAMA_CONNECT_TIMEOUT": 2,
        "TRADIA_LOG_LEVEL": "WARNING",
        # Each app its own document jobs directory (the default, /var/lib/tradia/jobs, is the
        # container's volume).
        "TRADIA_JOBS_DIR": tempfile.mkdtemp(prefix="tradia-jobs-"),
    }
    values.update(overrides)
    return Settings(**values)


class ServerThread:
    """Tradia served by uvicorn on a free port, in a thread of the test process."""

    def __init__(self, settings: Settings) -> None:
        self.app = create_app(settings)
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=0, log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("tradia did not start")
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


class AppProcess:
    """Tradia as deployed: `python -m tradia` in its own process, output captured in a file."""

    def __init__(self, upstream: str, log: Path, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        environment = {
            **os.environ,
            "OLLAMA_BASE_URL": upstream,
            "OLLAMA_API_KEY": API_KEY,
            "OLLAMA_MODEL": DEFAULT_MODEL,
            "OLLAMA_TIMEOUT": "10",
            "OLLAMA_CONNECT_TIMEOUT": "2",
            "TRADIA_HOST": "127.0.0.1",
            "TRADIA_PORT": str(self.port),
            "TRADIA_LOG_LEVEL": "INFO",
            "TRADIA_JOBS_DIR": str(log.parent / f"jobs-{self.port}"),
            **env,
        }
        self._log_file = log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tradia"],
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            env=environment,
        )

    def __enter__(self) -> AppProcess:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"tradia exited: {self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("tradia did not start in 30 s")

    def __exit__(self, *_: object) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log_file.close()

    def rss_kib(self) -> int:
        """Resident memory of the app process (VmRSS in /proc/<pid>/status)."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
        return int(line.split()[1])


@contextmanager
def running_app(upstream: str, **overrides: Any) -> Iterator[str]:
    with ServerThread(make_settings(upstream, **overrides)) as url:
        yield url


def stream_events(client: httpx.Client, path: str, **kwargs: Any) -> list[dict[str, Any]]:
    """The stream's events, each checked against its model by the app's stream client, as the
    JSON values the wire carries (what the assertions compare)."""
    return [e.model_dump(mode="json") for e in stream_client.post_events(client, path, **kwargs)]


def last(events: list[dict[str, Any]]) -> dict[str, Any]:
    return events[-1]


def of_type(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == kind]

"""The stack as local processes on 127.0.0.1: simulator, AI Traefik, app Traefik, the app.

    client --TLS+login--> app Traefik :websecure --> app (uvicorn)
      app --> app Traefik :ai --TLS+key--> AI Traefik --> simulator

The Traefik files come from bench.render (the roles' output); the app gets the role's
environment with local addresses. Every process logs to a file in the stack's directory.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import httpx

from bench.render import API_KEY, LOGIN, MODEL, Rendered

_BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class SimConfig:
    profile: str = "rtx4090"
    num_parallel: int = 1
    backend: str = "scripted"
    model: str = MODEL
    max_queue: int = 512


@dataclass
class LocalStack:
    """Start with `with LocalStack(rendered, sim, concurrency) as stack:`; all stop at exit."""

    rendered: Rendered
    sim: SimConfig
    concurrency: int
    app_model: str = MODEL
    _processes: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)

    @property
    def sim_url(self) -> str:
        return f"http://127.0.0.1:{self.rendered.ports.sim}"

    @property
    def ai_url(self) -> str:
        return f"https://127.0.0.1:{self.rendered.ports.ai_traefik}"

    @property
    def app_url(self) -> str:
        return f"https://127.0.0.1:{self.rendered.ports.app_websecure}"

    @property
    def ca(self) -> Path:
        return self.rendered.pki.ca_cert

    @property
    def ai_auth(self) -> tuple[str, str]:
        return ("api", API_KEY)

    @property
    def app_auth(self) -> tuple[str, str] | None:
        return LOGIN if self.rendered.login else None

    def __enter__(self) -> "LocalStack":
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    def _spawn(
        self, name: str, argv: list[str], env: dict[str, str], cwd: Path | None = None
    ) -> None:
        log = (self.rendered.directory / f"{name}.log").open("ab")
        process = subprocess.Popen(  # noqa: S603 - our own binaries, fixed arguments
            argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=cwd
        )
        self._processes.append((name, process))

    def _start(self) -> None:
        r, sim = self.rendered, self.sim
        base = dict(os.environ)
        sim_env = base | {
            "OLLAMA_HOST": f"127.0.0.1:{r.ports.sim}",
            "OLLAMA_SIM_PROFILE": sim.profile,
            "OLLAMA_NUM_PARALLEL": str(sim.num_parallel),
            "OLLAMA_MAX_QUEUE": str(sim.max_queue),
            "OLLAMA_SIM_BACKEND": sim.backend,
            "OLLAMA_SIM_PRELOAD": sim.model,
            "OLLAMA_MODELS": str(r.directory / "models"),
        }
        self._spawn("sim", [str(_BIN / "ollama-sim"), "serve"], sim_env)
        traefik = str(_BIN / "traefik")
        # The AI Traefik finds its key plugin in <working directory>/plugins-local, as deployed.
        self._spawn(
            "ai-traefik", [traefik, f"--configFile={r.ai_static}"], base, r.ai_static.parent
        )
        self._spawn("app-traefik", [traefik, f"--configFile={r.app_static}"], base)
        app_env = (
            base
            | r.app_env
            | {
                "OLLAMA_BASE_URL": f"http://127.0.0.1:{r.ports.app_ai}",
                "OLLAMA_API_KEY_FILE": str(r.directory / "app" / "secrets" / "ollama_api_key"),
                "OLLAMA_MODEL": self.app_model,
                "TRADIA_CONCURRENCY": str(self.concurrency),
                "TRADIA_HOST": "127.0.0.1",
                "TRADIA_PORT": str(r.ports.app),
                "TRADIA_FORWARDED_ALLOW_IPS": "127.0.0.1",
            }
        )
        self._spawn("app", [sys.executable, "-m", "tradia"], app_env)
        self._wait(f"{self.sim_url}/api/tags", lambda body: sim.model in body)
        self._wait(f"{self.ai_url}/api/version", auth=self.ai_auth)
        self._wait(f"{self.app_url}/readyz", auth=self.app_auth, timeout=90)

    def _wait(
        self,
        url: str,
        ready: Callable[[str], bool] | None = None,
        *,
        auth: tuple[str, str] | None = None,
        timeout: float = 120,
    ) -> None:
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            for name, process in self._processes:
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited ({process.returncode}); see its log")
            try:
                response = httpx.get(url, auth=auth, verify=str(self.ca), timeout=5)
                last = f"{response.status_code} {response.text[:200]}"
                if response.status_code == 200 and (ready is None or ready(response.text)):
                    return
            except httpx.HTTPError as exc:
                last = repr(exc)
            time.sleep(0.5)
        raise RuntimeError(f"{url} not ready after {timeout:.0f} s: {last}")

    def sim_stats(self) -> dict[str, object]:
        return dict(httpx.get(f"{self.sim_url}/_sim/stats", timeout=5).json())

    def stop(self) -> None:
        for _, process in reversed(self._processes):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for _, process in reversed(self._processes):
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self._processes.clear()

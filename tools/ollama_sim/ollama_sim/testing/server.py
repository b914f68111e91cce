"""The simulator (or any ASGI app) served by uvicorn in a thread of the test process."""

import socket
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn

from ollama_sim.app import build_app
from ollama_sim.settings import Settings, load_settings

START_TIMEOUT_S = 20.0


class ThreadedServer:
    """`with ThreadedServer(app) as server:` serves `app` at `server.url` until the block ends.

    The socket is bound before the thread starts, so `port` and `url` are known (and taken) at
    once: no window in which another process could grab a port picked earlier.
    """

    def __init__(self, app: Any, host: str = "127.0.0.1") -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, 0))
        self.port: int = self._socket.getsockname()[1]
        self.url = f"http://{host}:{self.port}"
        config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=1)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def __enter__(self) -> "ThreadedServer":
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self._socket.close()
                raise RuntimeError(f"the server at {self.url} did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()


class ThreadedSimulator(ThreadedServer):
    """The simulator built from `settings`, in a thread (see `simulator_settings`)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        super().__init__(build_app(settings))

    def __enter__(self) -> "ThreadedSimulator":
        super().__enter__()
        return self


def simulator_settings(models_dir: Path, catalog_dir: Path | None = None, **env: str) -> Settings:
    """Settings the way `ollama-sim serve` builds them: from OLLAMA_* variables only (never the
    test process's own environment), the store in `models_dir`."""
    environ = {"OLLAMA_MODELS": str(models_dir), **env}
    if catalog_dir is not None:
        environ["OLLAMA_SIM_CATALOG"] = str(catalog_dir)
    return load_settings(environ=environ)

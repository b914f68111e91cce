"""Start the simulator in-process (uvicorn in a thread) on a free port, for real-HTTP tests."""

import socket
import threading
import time
from pathlib import Path

import uvicorn
from ollama_sim.app import build_app
from ollama_sim.settings import Settings, load_settings

START_TIMEOUT_S = 20.0


class RunningServer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            build_app(settings), log_level="warning", timeout_graceful_shutdown=1
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def __enter__(self) -> "RunningServer":
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the simulator did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()


def make_settings(models: Path, catalog: Path, **env: str) -> Settings:
    """Settings the way the CLI builds them: from OLLAMA_* variables only."""
    return load_settings(
        environ={"OLLAMA_MODELS": str(models), "OLLAMA_SIM_CATALOG": str(catalog), **env}
    )

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import httpx
import pytest
from ollama_sim.catalog import ensure_catalog, smollm2_weights
from ollama_sim.testing import ThreadedSimulator, simulator_settings

SYNTHETIC = ("llama3.1:8b", "qwen3:8b", "qwen2.5vl:7b")

StartServer = Callable[..., AbstractContextManager[ThreadedSimulator]]


@pytest.fixture(scope="session")
def catalog_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("catalog")
    ensure_catalog(root)
    return root


@pytest.fixture(scope="session")
def start_server(tmp_path_factory: pytest.TempPathFactory, catalog_dir: Path) -> StartServer:
    """Start a fresh simulator with its own store; keyword arguments are OLLAMA_* variables."""

    def start(**env: str) -> ThreadedSimulator:
        models = tmp_path_factory.mktemp("models")
        return ThreadedSimulator(simulator_settings(models, catalog_dir, **env))

    return start


@pytest.fixture(scope="session")
def server(start_server: StartServer) -> Iterator[ThreadedSimulator]:
    """The shared contract server: instant profile, every catalog model already pulled."""
    preload = ",".join((*SYNTHETIC, "smollm2:135m") if smollm2_weights() else SYNTHETIC)
    with start_server(OLLAMA_SIM_PRELOAD=preload) as running:
        yield running


@pytest.fixture
def client(server: ThreadedSimulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        yield http


@pytest.fixture(autouse=True)
def _no_leftover_fault(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "server" in request.fixturenames:
        httpx.delete(f"{request.getfixturevalue('server').url}/_sim/fault", timeout=5)


def llama_required() -> bool:
    return os.environ.get("TRADIA_REQUIRE_LLAMA") == "1"

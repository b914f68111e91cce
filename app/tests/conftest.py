from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from tradia_testkit import ServerThread, Simulator, make_settings


@pytest.fixture(scope="session")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    simulator = Simulator(tmp_path_factory.mktemp("sim") / "models")
    yield simulator
    simulator.stop()


@pytest.fixture(autouse=True)
def _no_leftover_fault(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "sim" in request.fixturenames:
        request.getfixturevalue("sim").clear_fault()


@pytest.fixture(scope="session")
def app_url(sim: Simulator) -> Iterator[str]:
    with ServerThread(make_settings(sim.url)) as url:
        yield url


@pytest.fixture
def client(app_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=app_url, timeout=30) as http:
        yield http

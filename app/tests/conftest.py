from __future__ import annotations

import http.server
import threading
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


class _Gatekeeper(http.server.BaseHTTPRequestHandler):
    """Stands for Traefik's basicAuth refusing the key, or redirecting."""

    status = 401

    def _answer(self) -> None:
        self.send_response(self.status)
        if self.status == 302:
            self.send_header("Location", "https://elsewhere.invalid/api/chat")
        self.send_header("Content-Length", "0")
        self.end_headers()
        type(self).seen_auth = self.headers.get("Authorization")

    do_GET = do_POST = _answer

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def gatekeeper() -> Iterator[tuple[str, type[_Gatekeeper]]]:
    handler = type("Gate", (_Gatekeeper,), {})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()

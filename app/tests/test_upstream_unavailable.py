"""A 503 means two things upstream: Ollama's queue is full (its JSON error body), or the app
server's load balancer has no AI server left (Traefik's plain "no available server" once every
server failed its health check). Users must be told the AI server is down, not saturated."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from tradia_testkit import last, running_app, stream_events

TEXT = {"text": "Bonjour", "target": "en"}


def _handler(content_type: str, body: bytes) -> type[BaseHTTPRequestHandler]:
    class Answer503(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            self.send_response(503)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, *_: object) -> None:
            pass

    return Answer503


@pytest.fixture
def upstream_503(request: pytest.FixtureRequest) -> Iterator[str]:
    content_type, body = request.param
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(content_type, body))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


# What Traefik's load balancer writes when no server is healthy, and what Ollama writes when
# its queue is full (OLLAMA_MAX_QUEUE).
TRAEFIK_NO_SERVER = ("text/plain; charset=utf-8", b"no available server")
OLLAMA_BUSY = (
    "application/json; charset=utf-8",
    b'{"error":"server busy, please try again.  maximum pending requests exceeded"}',
)


@pytest.mark.parametrize(
    ("upstream_503", "kind"),
    [(TRAEFIK_NO_SERVER, "llm_unreachable"), (OLLAMA_BUSY, "llm_busy")],
    indirect=["upstream_503"],
    ids=["load-balancer-without-server", "ollama-queue-full"],
)
def test_503_is_told_apart(upstream_503: str, kind: str) -> None:
    with running_app(upstream_503) as url, httpx.Client(base_url=url, timeout=10) as http:
        error = last(stream_events(http, "/api/translate", json=TEXT))
        ready = http.get("/readyz")
    assert error["type"] == "error"
    assert error["error"] == kind, error
    assert ready.status_code == 503
    assert ready.json()["reason"] == kind

"""Readiness polling cannot load the AI server: every open tab polls /readyz, and all those
polls share one upstream model list, fetched at most once per cache period (single flight:
pollers arriving while it is fetched await that one call)."""

from __future__ import annotations

import http.server
import math
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from tradia_testkit import Simulator, running_app

POLLERS = 20
CACHE_S = 2.0
# The AI server takes this long to list its models: pollers pile up while it answers.
UPSTREAM_DELAY_S = 0.5
# While all pollers start at once, it answers this slowly, so that every one of them is sure to
# arrive while the first call is in flight: starting 20 threads and their connections can take
# longer than UPSTREAM_DELAY_S on a loaded machine, and a late poller rightly starts a new call.
BURST_DELAY_S = 5.0


class _CountingRelay(http.server.BaseHTTPRequestHandler):
    """Forwards to the simulator and counts requests per path, slowing /api/tags down."""

    upstream = ""
    counts: Counter[str]
    # When set, /api/tags answers this status instead of the simulator's list (a broken server).
    tags_status: int | None = None
    tags_delay: float = UPSTREAM_DELAY_S
    lock = threading.Lock()
    protocol_version = "HTTP/1.1"

    def _relay(self) -> None:
        with self.lock:
            self.counts[self.path] += 1
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        if self.path == "/api/tags":
            time.sleep(self.tags_delay)
            if self.tags_status is not None:
                self.send_response(self.tags_status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        answer = httpx.request(
            self.command, self.upstream + self.path, content=body, headers=dict(self.headers)
        )
        self.send_response(answer.status_code)
        self.send_header("Content-Type", answer.headers.get("content-type", "application/json"))
        self.send_header("Content-Length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)

    do_GET = do_POST = _relay

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def relay(sim: Simulator) -> Iterator[tuple[str, type[_CountingRelay]]]:
    handler = type("Relay", (_CountingRelay,), {"upstream": sim.url, "counts": Counter()})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()


def _poll(url: str, until: float) -> list[int]:
    statuses = []
    with httpx.Client(base_url=url, timeout=30) as client:
        while True:
            statuses.append(client.get("/readyz").status_code)
            if time.monotonic() >= until:
                return statuses


def test_concurrent_pollers_share_one_upstream_call(
    relay: tuple[str, type[_CountingRelay]],
) -> None:
    upstream, handler = relay
    counts = handler.counts
    with running_app(upstream, TRADIA_UPSTREAM_CACHE_SECONDS=CACHE_S) as url:
        # All pollers at once on a cold cache, each polling once: one call answers them all.
        handler.tags_delay = BURST_DELAY_S
        with ThreadPoolExecutor(POLLERS) as pool:
            first = list(pool.map(lambda _: _poll(url, 0), range(POLLERS)))
        assert [s for statuses in first for s in statuses] == [200] * POLLERS
        assert counts["/api/tags"] == 1, counts
        handler.tags_delay = UPSTREAM_DELAY_S
        # Then every poller loops as fast as it can for a few cache periods.
        counts.clear()
        started = time.monotonic()
        with ThreadPoolExecutor(POLLERS) as pool:
            looped = list(pool.map(lambda _: _poll(url, started + 2.5 * CACHE_S), range(POLLERS)))
        elapsed = time.monotonic() - started
    polls = sum(len(statuses) for statuses in looped)
    assert {s for statuses in looped for s in statuses} == {200}
    assert polls > 10 * POLLERS, polls
    # At most one upstream call per period begun while they polled.
    assert counts["/api/tags"] <= math.ceil(elapsed / CACHE_S), (counts, polls, elapsed)


def test_a_failed_check_is_shared_by_concurrent_pollers_then_retried(
    relay: tuple[str, type[_CountingRelay]],
) -> None:
    upstream, handler = relay
    counts = handler.counts
    with running_app(upstream, TRADIA_UPSTREAM_CACHE_SECONDS=CACHE_S) as url:
        handler.tags_status = 500
        handler.tags_delay = BURST_DELAY_S
        with ThreadPoolExecutor(POLLERS) as pool:
            down = list(pool.map(lambda _: httpx.get(f"{url}/readyz", timeout=30), range(POLLERS)))
        assert {r.status_code for r in down} == {503}
        assert counts["/api/tags"] == 1, counts
        handler.tags_status = None
        handler.tags_delay = UPSTREAM_DELAY_S
        # A failure is not kept: the next poll asks again and sees the server back at once.
        assert httpx.get(f"{url}/readyz", timeout=30).status_code == 200
        assert counts["/api/tags"] == 2, counts

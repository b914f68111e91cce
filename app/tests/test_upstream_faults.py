"""The AI server dies mid-stream: the user gets an error event within 2 s (fault detection, as
the client sees it), /readyz says why while it is down, and the next request succeeds once it
is back. Both ways to die: the simulator's `drop` fault, and the process killed with SIGKILL."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from tradia.stream_client import iter_events
from tradia_testkit import Simulator, last, of_type, running_app, stream_events

TEXT = {"text": "Bonjour, voici un texte assez long pour plusieurs jetons.", "target": "en"}
DETECTION_BOUND_S = 2.0


def timed_events(
    client: httpx.Client, on_event: Callable[[dict], None] | None = None
) -> list[tuple[float, dict]]:
    """Each event of a translation with the moment the client read it."""
    events: list[tuple[float, dict]] = []
    with client.stream("POST", "/api/translate", json=TEXT) as response:
        assert response.status_code == 200
        for parsed in iter_events(response):
            event = parsed.model_dump(mode="json")
            events.append((time.monotonic(), event))
            if on_event is not None:
                on_event(event)
    return events


def assert_lost_connection(events: list[tuple[float, dict]], since: float) -> None:
    moment, error = events[-1]
    assert error["type"] == "error", [e for _, e in events[-3:]]
    assert error["error"] == "generation_failed"
    assert "partial result was discarded" in error["message"]
    assert not [e for _, e in events if e["type"] in ("done", "result")]
    assert moment - since < DETECTION_BOUND_S, f"error seen {moment - since:.2f} s after the cut"


def test_drop_mid_stream_then_recovery(client: httpx.Client, sim: Simulator) -> None:
    sim.fault("drop", after=3, count=1)
    events = timed_events(client)
    tokens = [moment for moment, e in events if e["type"] == "token"]
    assert len(tokens) == 3
    # The simulator cuts the connection right after the third token.
    assert_lost_connection(events, since=tokens[-1])
    assert last(stream_events(client, "/api/translate", json=TEXT))["type"] == "done"


@pytest.fixture
def killable_sim(tmp_path: Path) -> Iterator[Simulator]:
    simulator = Simulator(tmp_path / "models")
    yield simulator
    simulator.stop()


def test_ai_server_killed_mid_stream_then_back(killable_sim: Simulator) -> None:
    # Slow tokens so the process is killed while the answer is streaming.
    killable_sim.fault("slow_tokens", delay=0.2, after=0)
    tokens: list[dict] = []
    killed_at: list[float] = []

    def kill_after_three_tokens(event: dict) -> None:
        if event["type"] == "token":
            tokens.append(event)
            if len(tokens) == 3:
                killable_sim.kill()
                killed_at.append(time.monotonic())

    with running_app(killable_sim.url) as url, httpx.Client(base_url=url, timeout=30) as http:
        events = timed_events(http, kill_after_three_tokens)
        assert killed_at, "the stream ended before the kill"
        assert_lost_connection(events, since=killed_at[0])

        down = http.get("/readyz")
        assert down.status_code == 503
        assert down.json()["reason"] == "llm_unreachable"
        refused = stream_events(http, "/api/translate", json=TEXT)
        assert last(refused)["error"] == "llm_unreachable"

        killable_sim.start()  # same port, no fault: the AI server is back
        assert http.get("/readyz").status_code == 200
        events = stream_events(http, "/api/translate", json=TEXT)
        assert last(events)["type"] == "done"
        assert of_type(events, "result")

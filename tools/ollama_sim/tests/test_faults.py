"""Fault injection through the admin route: each kind, counting, scoping to endpoints."""

import time

import httpx
import pytest

from .helpers import ndjson, user

CHAT = {"model": "llama3.1:8b", "messages": user("Some words to stream back to the client.")}


def _fault(client: httpx.Client, **fields) -> dict:
    response = client.post("/_sim/fault", json=fields)
    assert response.status_code == 200, response.text
    return response.json()


def test_fault_can_be_read_and_cleared(client: httpx.Client) -> None:
    assert client.get("/_sim/fault").json() == {"fault": None}
    state = _fault(client, kind="drop", after=2, count=3)
    assert state["fault"]["kind"] == "drop"
    assert state["remaining"] == 3
    assert client.delete("/_sim/fault").json() == {"fault": None}


def test_unknown_fault_kind_is_400_and_lists_the_kinds(client: httpx.Client) -> None:
    response = client.post("/_sim/fault", json={"kind": "meteor"})
    assert response.status_code == 400
    assert "slow_first_token" in response.json()["error"]


def test_not_found_fault(client: httpx.Client) -> None:
    _fault(client, kind="not_found")
    response = client.post("/api/chat", json=CHAT)
    assert response.status_code == 404
    assert response.json() == {"error": "model 'llama3.1:8b' not found"}


def test_midstream_error_without_streaming_is_500(client: httpx.Client) -> None:
    _fault(client, kind="midstream_error", after=2)
    response = client.post("/api/chat", json={**CHAT, "stream": False})
    assert response.status_code == 500
    assert response.json() == {"error": "an error was encountered while running the model"}


def _read_stream(client: httpx.Client, body: dict, received: list[str]) -> None:
    with client.stream("POST", "/api/chat", json=body) as response:
        assert response.status_code == 200
        received.extend(response.iter_lines())


def test_drop_cuts_the_connection_mid_stream(client: httpx.Client) -> None:
    _fault(client, kind="drop", after=3)
    received: list[str] = []
    with pytest.raises(httpx.RemoteProtocolError):
        _read_stream(client, CHAT, received)
    assert len(received) == 3
    assert all('"done":false' in line for line in received)


def test_drop_without_streaming_breaks_the_response(client: httpx.Client) -> None:
    _fault(client, kind="drop")
    with pytest.raises(httpx.RemoteProtocolError):
        client.post("/api/generate", json={"model": "llama3.1:8b", "prompt": "x", "stream": False})


def test_slow_first_token(client: httpx.Client) -> None:
    _fault(client, kind="slow_first_token", delay=0.6)
    started = time.perf_counter()
    with client.stream("POST", "/api/chat", json=CHAT) as response:
        next(response.iter_lines())
        first = time.perf_counter() - started
    assert first >= 0.6


def test_slow_tokens_delays_every_chunk_after_the_first_ones(client: httpx.Client) -> None:
    _fault(client, kind="slow_tokens", after=2, delay=0.1)
    body = {**CHAT, "options": {"num_predict": 6}}
    started = time.perf_counter()
    chunks = ndjson(client.post("/api/chat", json=body))
    elapsed = time.perf_counter() - started
    assert chunks[-1]["done"] is True
    assert elapsed >= 0.4  # chunks 3..6 each waited 0.1 s


def test_count_limits_how_many_requests_fail(client: httpx.Client) -> None:
    _fault(client, kind="error_500", count=2)
    statuses = [client.post("/api/chat", json=CHAT).status_code for _ in range(3)]
    assert statuses == [500, 500, 200]
    assert client.get("/_sim/fault").json() == {"fault": None}


def test_faults_leave_pull_alone_unless_asked(client: httpx.Client) -> None:
    _fault(client, kind="error_500")
    assert client.post("/api/pull", json={"model": "qwen3:8b", "stream": False}).status_code == 200
    _fault(client, kind="midstream_error", after=1, endpoints=["pull"])
    lines = ndjson(client.post("/api/pull", json={"model": "qwen3:8b"}))
    assert lines[0] == {"status": "pulling manifest"}
    assert list(lines[-1]) == ["error"]
    assert client.post("/api/chat", json=CHAT).status_code == 200

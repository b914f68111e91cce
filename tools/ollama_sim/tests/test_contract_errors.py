"""One test per row of ollama-api.md's "Errors and statuses" table, over real HTTP."""

import threading
import time

import httpx
import pytest

from .helpers import ndjson, user

BUSY = "server busy, please try again.  maximum pending requests exceeded"


@pytest.mark.parametrize("path", ["/api/chat", "/api/generate", "/api/show", "/api/pull"])
def test_empty_body_is_400(client: httpx.Client, path: str) -> None:
    response = client.post(path, content=b"")
    assert response.status_code == 400
    assert response.json() == {"error": "missing request body"}


@pytest.mark.parametrize("body", [b"{bad json", b'{"model": ', b"[1, 2]", b'{"model": 5}'])
def test_bad_json_is_400_with_the_decoder_message(client: httpx.Client, body: bytes) -> None:
    response = client.post("/api/chat", content=body)
    assert response.status_code == 400
    message = response.json()["error"]
    assert message
    assert message != "missing request body"


@pytest.mark.parametrize("path", ["/api/chat", "/api/generate"])
def test_model_is_required(client: httpx.Client, path: str) -> None:
    response = client.post(path, json={"model": "", "messages": user("hi"), "prompt": "hi"})
    assert response.status_code == 400
    assert response.json() == {"error": "model is required"}


@pytest.mark.parametrize("path", ["/api/chat", "/api/generate", "/api/show"])
def test_model_not_present_is_404(client: httpx.Client, path: str) -> None:
    response = client.post(path, json={"model": "ghost:7b", "messages": user("x"), "prompt": "x"})
    assert response.status_code == 404
    assert response.json() == {"error": "model 'ghost:7b' not found"}


def test_queue_full_is_503_with_ollamas_message(start_server) -> None:
    # One slot, one waiting place: a slow first token keeps the slot busy long enough.
    env = {"OLLAMA_NUM_PARALLEL": "1", "OLLAMA_MAX_QUEUE": "1", "OLLAMA_SIM_PRELOAD": "llama3.1:8b"}
    with start_server(**env) as sim:
        httpx.post(f"{sim.url}/_sim/fault", json={"kind": "slow_first_token", "delay": 1.5})
        body = {"model": "llama3.1:8b", "messages": user("hello")}
        results: list[int] = []

        def send() -> None:
            results.append(httpx.post(f"{sim.url}/api/chat", json=body, timeout=30).status_code)

        threads = [threading.Thread(target=send) for _ in range(2)]
        for thread in threads:
            thread.start()
            time.sleep(0.2)
        third = httpx.post(f"{sim.url}/api/chat", json=body, timeout=30)
        for thread in threads:
            thread.join(timeout=30)
    assert third.status_code == 503
    assert third.json() == {"error": BUSY}
    assert results == [200, 200]


def test_runner_crash_is_500(client: httpx.Client) -> None:
    client.post("/_sim/fault", json={"kind": "error_500", "count": 1})
    response = client.post("/api/chat", json={"model": "llama3.1:8b", "messages": user("x")})
    assert response.status_code == 500
    assert response.json()["error"].startswith("llama runner process has terminated: ")
    again = client.post("/api/chat", json={"model": "llama3.1:8b", "messages": user("x")})
    assert again.status_code == 200, "count=1 hits one request only"


def test_client_cancelled_while_queued_is_499_and_leaves_the_queue(start_server) -> None:
    env = {"OLLAMA_NUM_PARALLEL": "1", "OLLAMA_MAX_QUEUE": "1", "OLLAMA_SIM_PRELOAD": "llama3.1:8b"}
    with start_server(**env) as sim:
        httpx.post(f"{sim.url}/_sim/fault", json={"kind": "slow_first_token", "delay": 1.0})
        body = {"model": "llama3.1:8b", "messages": user("hello")}
        holder = threading.Thread(
            target=lambda: httpx.post(f"{sim.url}/api/chat", json=body, timeout=30)
        )
        holder.start()
        time.sleep(0.2)
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(f"{sim.url}/api/chat", json=body, timeout=httpx.Timeout(5, read=0.3))
        time.sleep(0.2)
        stats = httpx.get(f"{sim.url}/_sim/stats").json()
        assert stats["canceled_waiting"] == 1
        assert stats["waiting"] == 0
        # The waiting place is free again: a new request queues instead of getting 503.
        httpx.delete(f"{sim.url}/_sim/fault")
        queued = httpx.post(f"{sim.url}/api/chat", json=body, timeout=30)
        holder.join(timeout=30)
    assert queued.status_code == 200


def test_failure_mid_stream_is_a_last_error_line_with_status_200(client: httpx.Client) -> None:
    client.post("/_sim/fault", json={"kind": "midstream_error", "after": 3})
    response = client.post("/api/chat", json={"model": "llama3.1:8b", "messages": user("hi")})
    assert response.status_code == 200
    chunks = ndjson(response)
    assert len(chunks) == 4
    assert all(chunk["done"] is False for chunk in chunks[:3])
    assert chunks[-1] == {"error": "an error was encountered while running the model"}

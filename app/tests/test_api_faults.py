"""Every failure the simulator can inject ends the stream with an error event, never silently."""

from __future__ import annotations

import threading

import httpx
import pytest
from tradia_testkit import Simulator, free_port, last, of_type, running_app, stream_events

TEXT = {"text": "Bonjour, voici un texte assez long pour plusieurs jetons.", "target": "en"}


def assert_error(events: list[dict], kind: str) -> dict:
    error = last(events)
    assert error["type"] == "error", events[-3:]
    assert error["error"] == kind
    assert error["message"]
    assert not of_type(events, "done")
    assert not of_type(events, "result")
    return error


def test_error_500_before_first_token(client: httpx.Client, sim: Simulator) -> None:
    sim.fault("error_500", count=1)
    events = stream_events(client, "/api/translate", json=TEXT)
    assert_error(events, "generation_failed")
    assert not of_type(events, "token")


def test_model_not_found(client: httpx.Client, sim: Simulator) -> None:
    sim.fault("not_found", count=1)
    error = assert_error(stream_events(client, "/api/translate", json=TEXT), "model_missing")
    assert "llama3.1:8b" in error["message"]


def test_unknown_model_is_model_missing(client: httpx.Client) -> None:
    events = stream_events(client, "/api/translate", json={**TEXT, "model": "mistral:7b"})
    assert "ollama pull mistral:7b" in assert_error(events, "model_missing")["message"]


def test_midstream_error_line(client: httpx.Client, sim: Simulator) -> None:
    sim.fault("midstream_error", after=3, count=1)
    events = stream_events(client, "/api/translate", json=TEXT)
    assert len(of_type(events, "token")) == 3
    assert "discarded" in assert_error(events, "generation_failed")["message"]


@pytest.mark.parametrize("kind", ["slow_first_token", "slow_tokens"])
def test_slow_upstream_times_out(sim: Simulator, kind: str) -> None:
    sim.fault(kind, delay=3, after=1, count=1)
    with running_app(sim.url, OLLAMA_TIMEOUT=0.5) as url, httpx.Client(base_url=url) as http:
        events = stream_events(http, "/api/translate", json=TEXT)
    assert_error(events, "llm_timeout")


def test_whole_generation_ceiling(sim: Simulator) -> None:
    sim.fault("slow_tokens", delay=0.3, after=0, count=1)
    with (
        running_app(sim.url, TRADIA_GENERATION_TIMEOUT=1) as url,
        httpx.Client(base_url=url) as http,
    ):
        events = stream_events(http, "/api/translate", json=TEXT)
    assert "limit" in assert_error(events, "llm_timeout")["message"]


def test_structured_task_fault(client: httpx.Client, sim: Simulator) -> None:
    sim.fault("midstream_error", after=2, count=1)
    assert_error(
        stream_events(client, "/api/correct", json={"text": "Sa va bien."}), "generation_failed"
    )


def test_unreachable_server() -> None:
    with running_app(f"http://127.0.0.1:{free_port()}") as url, httpx.Client(base_url=url) as http:
        events = stream_events(http, "/api/translate", json=TEXT)
        assert_error(events, "llm_unreachable")
        ready = http.get("/readyz")
        settings = http.get("/api/settings").json()
    assert ready.status_code == 503
    assert ready.json()["reason"] == "llm_unreachable"
    assert settings["upstream_error"]["error"] == "llm_unreachable"
    assert settings["models"] == []


def test_refused_key(gatekeeper) -> None:
    url_upstream, handler = gatekeeper
    with running_app(url_upstream) as url, httpx.Client(base_url=url) as http:
        assert_error(stream_events(http, "/api/translate", json=TEXT), "llm_auth_failed")
        ready = http.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["reason"] == "llm_auth_failed"
    # Basic auth user "api", password = the key.
    assert handler.seen_auth == "Basic YXBpOnRlc3Qta2V5LTAxMjM0NTY3ODk="


def test_redirect_not_followed(gatekeeper) -> None:
    url_upstream, handler = gatekeeper
    handler.status = 302
    with running_app(url_upstream) as url, httpx.Client(base_url=url) as http:
        error = assert_error(stream_events(http, "/api/translate", json=TEXT), "llm_unreachable")
    assert "redirect" in error["message"]


def test_upstream_queue_full_is_busy(tmp_path) -> None:
    sim = Simulator(
        tmp_path / "models", profile="instant", OLLAMA_NUM_PARALLEL="1", OLLAMA_MAX_QUEUE="1"
    )
    try:
        sim.fault("slow_first_token", delay=2, count=1)
        with running_app(sim.url, TRADIA_CONCURRENCY=3) as url:
            results: list[list[dict]] = []

            def call() -> None:
                with httpx.Client(base_url=url, timeout=20) as http:
                    results.append(stream_events(http, "/api/translate", json=TEXT))

            threads = [threading.Thread(target=call) for _ in range(3)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    finally:
        sim.stop()
    # Every thread's outcome counted: one that died would otherwise leave the others to pass.
    assert len(results) == len(threads), results
    kinds = sorted(
        last(events)["type"] if last(events)["type"] == "done" else last(events)["error"]
        for events in results
    )
    # One runs, one waits in the only waiting place, the third is refused.
    assert kinds == ["done", "done", "llm_busy"]

"""Queue positions over HTTP, cancellation reaching the AI server, metrics per user."""

from __future__ import annotations

import threading
import time

import httpx
from tradia.stream_client import iter_events
from tradia_testkit import Simulator, last, of_type, running_app, stream_events

TEXT = {"text": "Bonjour, voici un texte pour la file d'attente.", "target": "en"}


def test_waiting_users_see_their_position(sim: Simulator) -> None:
    sim.fault("slow_first_token", delay=1, count=1)
    with running_app(sim.url, TRADIA_CONCURRENCY=1) as url:
        results: dict[str, list[dict]] = {}

        def call(name: str) -> None:
            with httpx.Client(base_url=url, timeout=20) as http:
                results[name] = stream_events(http, "/api/translate", json=TEXT)

        first = threading.Thread(target=call, args=("first",))
        first.start()
        time.sleep(0.3)
        second = threading.Thread(target=call, args=("second",))
        second.start()
        first.join()
        second.join()
    assert not of_type(results["first"], "queued")
    assert of_type(results["second"], "queued")[0]["position"] == 1
    assert last(results["first"])["type"] == last(results["second"])["type"] == "done"
    assert of_type(results["second"], "done")[0]["stats"]["queue_wait_ms"] > 300


def test_closing_the_stream_cancels_the_upstream_generation(sim: Simulator, app_url: str) -> None:
    sim.fault("slow_tokens", delay=0.2, after=1, count=1)
    before = sim.stats()["canceled_running"]
    with (
        httpx.Client(base_url=app_url, timeout=20) as http,
        http.stream("POST", "/api/translate", json=TEXT) as response,
    ):
        for event in iter_events(response):
            if event.type == "token":
                break  # the user pressed Stop: the connection closes here
    deadline = time.monotonic() + 5
    while sim.stats()["canceled_running"] == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sim.stats()["canceled_running"] == before + 1
    assert not sim.stats()["active"] or not any(sim.stats()["active"].values())


def test_metrics_count_per_user(client: httpx.Client) -> None:
    headers = {"X-Forwarded-User": "marie.dupont"}
    stream_events(client, "/api/translate", json=TEXT, headers=headers)
    body = client.get("/metrics").text
    assert 'tradia_requests_total{task="translation",user="marie.dupont"}' in body
    assert 'tradia_tokens_total{kind="completion",task="translation",user="marie.dupont"}' in body
    assert "tradia_time_to_first_token_seconds_bucket" in body
    assert "tradia_queue_wait_seconds_count" in body
    stream_events(client, "/api/translate", json=TEXT)
    assert 'user="anonymous"' in client.get("/metrics").text


def test_metrics_count_errors_by_kind(client: httpx.Client, sim: Simulator) -> None:
    sim.fault("error_500", count=1)
    stream_events(client, "/api/translate", json=TEXT)
    body = client.get("/metrics").text
    assert 'tradia_errors_total{kind="generation_failed",task="translation"}' in body


def test_user_header_name_is_configurable(sim: Simulator) -> None:
    with (
        running_app(sim.url, TRADIA_USER_HEADER="Remote-User") as url,
        httpx.Client(base_url=url) as http,
    ):
        stream_events(http, "/api/translate", json=TEXT, headers={"Remote-User": "Ali <x>"})
        body = http.get("/metrics").text
    assert 'user="Ali__x_"' in body

"""Faults the deployment must survive by itself: Ollama killed mid-stream, the AI server down,
Traefik restarted under load, dockerd restarted, both hosts rebooted. Each ends in a clear
message for the user and a system that comes back without anyone touching it.

These tests run after test_default.py (file order) and leave the stack serving."""

import json
import re
import threading
import time

import httpx
import pytest
import yaml
from tradia.stream_client import iter_events, parse_events

from conftest import (
    API_KEY,
    CURL_TIMED_OUT,
    clear_ai_fault,
    curl_ai,
    curl_ai_exit,
    healthy,
    on_controller_docker,
    set_ai_fault,
    wait_until,
)

TEXT = "Bonjour à tous. La réunion de demain est reportée à jeudi, même heure, même salle."
AI_CONTAINERS = ("tradia-ollama", "tradia-ai-traefik")
APP_CONTAINERS = ("tradia-app", "tradia-app-traefik")
# The app server's Traefik in front of the AI servers (health checks, retries, dial timeout).
AI_UPSTREAM_CONFIG = "/etc/tradia/app/traefik/dynamic/ai.yml"
# The error kind that says "the AI server is down" (llm_busy would tell users it is saturated).
DOWN = "llm_unreachable"


@pytest.fixture(scope="module")
def ca_pem(ai_server) -> str:
    return ai_server.file("/etc/tradia/ai/tls/ca.crt").content_string


def _seconds(duration: str) -> float:
    """A Traefik duration as the roles write them (validate.yml: digits then ms, s, m or h)."""
    match = re.fullmatch(r"(\d+)(ms|s|m|h)", duration)
    assert match, f"unexpected duration {duration!r}"
    unit = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[match[2]]
    return int(match[1]) * unit


def _ai_upstream(app_server) -> dict:
    """The deployed load balancer over the AI servers (the file holds the key: kept in memory)."""
    config = yaml.safe_load(app_server.file(AI_UPSTREAM_CONFIG).content_string)
    return config["http"]


def _connect_timeout(app_server) -> float:
    """The app's effective OLLAMA_CONNECT_TIMEOUT, as the running app reads its settings."""
    out = app_server.check_output(
        "docker exec tradia-app python3 -c %s",
        "from tradia.core.config import Settings; print(Settings().ollama_connect_timeout)",
    )
    return float(out)


def _error_bound(app_server) -> float:
    """Longest a refused request may take with the configured timeouts: the app's connect timeout,
    then each of Traefik's attempts dialling an AI server and waiting its retry interval. A hang
    would instead last the read timeout (OLLAMA_TIMEOUT, minutes)."""
    http = _ai_upstream(app_server)
    dial = _seconds(http["serversTransports"]["ai-servers"]["forwardingTimeouts"]["dialTimeout"])
    retry = http["middlewares"]["ai-retry"]["retry"]
    attempts = int(retry["attempts"])
    return _connect_timeout(app_server) + attempts * (dial + _seconds(retry["initialInterval"]))


def _health_check_period(app_server) -> float:
    """Time for Traefik's health check to find a dead AI server: one interval plus its timeout."""
    check = _ai_upstream(app_server)["services"]["ai-servers"]["loadBalancer"]["healthCheck"]
    return _seconds(check["interval"]) + _seconds(check["timeout"])


def _ready(client: httpx.Client) -> bool:
    return client.get("/readyz").status_code == 200


def _translates(client: httpx.Client) -> bool:
    with client.stream("POST", "/api/translate", json={"text": TEXT, "target": "en"}) as response:
        events = list(iter_events(response))
    return response.status_code == 200 and events[-1].type == "done"


class Stream(threading.Thread):
    """One user's translation, read in the background, with the time of each event."""

    def __init__(self, client: httpx.Client) -> None:
        super().__init__(daemon=True)
        self.client = client
        self.events: list[tuple[float, dict]] = []
        self.status: int | None = None
        self.failure: str | None = None

    def run(self) -> None:
        try:
            body = {"text": TEXT, "target": "en"}
            with self.client.stream("POST", "/api/translate", json=body) as response:
                self.status = response.status_code
                for event in iter_events(response):
                    self.events.append((time.monotonic(), event.model_dump(mode="json")))
        except httpx.HTTPError as error:  # a cut connection is a failure, not a clean end
            self.failure = repr(error)

    def tokens(self) -> int:
        return sum(1 for _, event in self.events if event["type"] == "token")

    def last(self) -> tuple[float, dict]:
        return self.events[-1] if self.events else (0.0, {})


def _slow_streams(ai_server, client: httpx.Client, count: int) -> list[Stream]:
    # One token a second for every generation until the fault is cleared (or Ollama restarts):
    # the streams are still running when the fault strikes.
    fault = {"kind": "slow_tokens", "after": 2, "delay": 1}
    set_ai_fault(ai_server, json.dumps(fault))
    streams = [Stream(client) for _ in range(count)]
    for stream in streams:
        stream.start()
    wait_until(lambda: all(s.tokens() >= 2 for s in streams), "every stream under way", 60)
    return streams


def test_ollama_killed_mid_stream_errors_fast_and_comes_back(ai_server, client):
    (stream,) = _slow_streams(ai_server, client, 1)
    pid = ai_server.check_output("docker inspect -f '{{.State.Pid}}' tradia-ollama")
    # Killed like a crash (not `docker kill`, which Docker counts as a wanted stop). The clock
    # starts once the command has returned: Ollama is dead by then, and the time docker exec
    # takes to start is not the app's.
    kill_sent = time.monotonic()
    on_controller_docker("exec", "ai-server", "kill", "-9", pid)
    killed_at = time.monotonic()
    stream.join(timeout=30)
    assert not stream.is_alive(), "the stream hangs after Ollama died"
    assert stream.failure is None, stream.failure
    at, event = stream.last()
    assert event["type"] == "error", event
    assert event["message"], event
    assert at > kill_sent, "the stream failed before the kill: another fault"
    assert at - killed_at < 2.0, f"the error reached the user {at - killed_at:.1f} s after the kill"

    # Docker restarts it (restart policy), and the next translation works.
    wait_until(lambda: healthy(ai_server, "tradia-ollama"), "Ollama restarted and healthy")
    restarts = ai_server.check_output("docker inspect -f '{{.RestartCount}}' tradia-ollama")
    assert int(restarts) >= 1
    wait_until(lambda: _ready(client), "the app ready again")
    assert _translates(client)


def _translation_error(client: httpx.Client) -> tuple[float, int, dict]:
    """(seconds, HTTP status, error) of a translation expected to fail: the error is the JSON
    body of a refusal before the stream, or the stream's last event."""
    start = time.monotonic()
    response = client.post("/api/translate", json={"text": TEXT, "target": "en"})
    seconds = time.monotonic() - start
    if response.status_code >= 500:
        return seconds, response.status_code, response.json()
    events = parse_events(response.text)
    assert events, f"HTTP {response.status_code} with no event"
    assert events[-1].type == "error", response.text[-600:]
    return seconds, response.status_code, events[-1].model_dump(mode="json")


def test_ai_server_down_is_reported_by_readyz(ai_server, app_server, client):
    bound = _error_bound(app_server)
    period = _health_check_period(app_server)
    ai_server.run_expect([0], "docker stop tradia-ollama")
    try:
        wait_until(lambda: client.get("/readyz").status_code == 503, "readyz says 503", 60)
        stopped_since = time.monotonic()
        # Both before and after Traefik's health check marks the AI server down (its own 503,
        # "no available server"), the user is told the server cannot be reached.
        while True:
            response = client.get("/readyz")
            body = response.json()
            assert response.status_code == 503, body
            assert body["status"] == "not_ready", body
            since = f"{time.monotonic() - stopped_since:.0f} s after the first 503"
            assert body["reason"] == DOWN, (since, body)
            assert body["message"], body
            assert API_KEY not in json.dumps(body)
            # A translation meanwhile gets a clear error, not a hang: within what the configured
            # timeouts allow for a refusal, far below the read timeout a hang would take.
            seconds, status, error = _translation_error(client)
            assert error["error"] == DOWN, (since, status, error)
            assert error["message"], error
            assert seconds < bound, f"the error took {seconds:.1f} s (bound {bound:.1f} s)"
            if time.monotonic() - stopped_since > period:
                break
            time.sleep(2)
    finally:
        ai_server.run_expect([0], "docker start tradia-ollama")
    wait_until(lambda: _ready(client), "the app ready once Ollama is back")
    assert _translates(client)


def test_traefik_restarted_under_load_fails_cleanly_then_serves(ai_server, client):
    # As many streams as the app sends at once to one AI server (2 x its AI servers).
    streams = _slow_streams(ai_server, client, 2)
    try:
        assert all(stream.is_alive() for stream in streams)
        ai_server.run_expect([0], "docker restart -t 2 tradia-ai-traefik")
        for stream in streams:
            stream.join(timeout=60)
            assert not stream.is_alive(), "a stream hangs after Traefik restarted"
            assert stream.failure is None, stream.failure  # the app's stream ends, with a message
            _, event = stream.last()
            assert event["type"] == "error", event
            assert event["message"], event
    finally:
        wait_until(lambda: healthy(ai_server, "tradia-ai-traefik"), "Traefik healthy again")
        clear_ai_fault(ai_server)
    wait_until(lambda: _ready(client), "the app ready again")
    assert _translates(client)


def test_dockerd_restart_on_the_app_server_brings_everything_back(app_server, client):
    app_server.run_expect([0], "systemctl restart docker")
    wait_until(lambda: healthy(app_server, *APP_CONTAINERS), "app containers healthy")
    wait_until(lambda: _ready(client), "the app ready again")
    assert _translates(client)


def _reboot(name: str, host) -> None:
    address = "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}"
    before = on_controller_docker("inspect", "-f", address, name).stdout.strip()
    on_controller_docker("restart", "-t", "20", name)
    after = on_controller_docker("inspect", "-f", address, name).stdout.strip()
    assert after == before, f"{name} came back with another address ({before} -> {after})"
    wait_until(
        lambda: host.run("systemctl is-system-running").stdout.strip() in ("running", "degraded"),
        f"{name} booted",
    )


def test_both_hosts_rebooted_come_back_with_firewall_and_containers(
    ai_server, app_server, outsider, ca_pem, client
):
    _reboot("ai-server", ai_server)
    _reboot("app-server", app_server)
    wait_until(lambda: healthy(ai_server, *AI_CONTAINERS), "AI containers healthy", 240)
    wait_until(lambda: healthy(app_server, *APP_CONTAINERS), "app containers healthy", 240)
    assert ai_server.service("tradia-ai-firewall").is_enabled
    assert "TRADIA-AI" in ai_server.check_output("iptables -S DOCKER-USER")
    # Dropped by the firewall: the connection times out (not refused, not answered).
    assert curl_ai_exit(outsider, ca_pem, "-u", f"api:{API_KEY}") == (CURL_TIMED_OUT, "000")
    assert curl_ai(app_server, ca_pem, "-u", f"api:{API_KEY}") == "200"
    wait_until(lambda: _ready(client), "the app ready after the reboot", 240)
    assert _translates(client)

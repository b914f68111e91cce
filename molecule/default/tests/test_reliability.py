"""Faults the deployment must survive by itself: Ollama killed mid-stream, the AI server down,
Traefik restarted under load, dockerd restarted, both hosts rebooted. Each ends in a clear
message for the user and a system that comes back without anyone touching it.

These tests run after test_default.py (file order) and leave the stack serving."""

import json
import threading
import time

import httpx
import pytest

from conftest import (
    API_KEY,
    clear_ai_fault,
    curl_ai,
    healthy,
    on_controller_docker,
    set_ai_fault,
    wait_until,
)

TEXT = "Bonjour à tous. La réunion de demain est reportée à jeudi, même heure, même salle."
AI_CONTAINERS = ("tradia-ollama", "tradia-ai-traefik")
APP_CONTAINERS = ("tradia-app", "tradia-app-traefik")


@pytest.fixture(scope="module")
def ca_pem(ai_server) -> str:
    return ai_server.file("/etc/tradia/ai/tls/ca.crt").content_string


def _ready(client: httpx.Client) -> bool:
    return client.get("/readyz").status_code == 200


def _translates(client: httpx.Client) -> bool:
    with client.stream("POST", "/api/translate", json={"text": TEXT, "target": "en"}) as response:
        events = [json.loads(line) for line in response.iter_lines() if line]
    return response.status_code == 200 and events[-1]["type"] == "done"


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
                for line in response.iter_lines():
                    if line:
                        self.events.append((time.monotonic(), json.loads(line)))
        except httpx.HTTPError as error:  # a cut connection is a failure, not a clean end
            self.failure = repr(error)

    def tokens(self) -> int:
        return sum(1 for _, event in self.events if event["type"] == "token")

    def last(self) -> tuple[float, dict]:
        return self.events[-1] if self.events else (0.0, {})


def _slow_streams(app_server, ca_pem: str, client: httpx.Client, count: int) -> list[Stream]:
    # One token a second for every generation until the fault is cleared (or Ollama restarts):
    # the streams are still running when the fault strikes.
    fault = {"kind": "slow_tokens", "after": 2, "delay": 1}
    set_ai_fault(app_server, ca_pem, json.dumps(fault))
    streams = [Stream(client) for _ in range(count)]
    for stream in streams:
        stream.start()
    wait_until(lambda: all(s.tokens() >= 2 for s in streams), "every stream under way", 60)
    return streams


def test_ollama_killed_mid_stream_errors_fast_and_comes_back(ai_server, app_server, ca_pem, client):
    (stream,) = _slow_streams(app_server, ca_pem, client, 1)
    pid = ai_server.check_output("docker inspect -f '{{.State.Pid}}' tradia-ollama")
    # Killed like a crash (not `docker kill`, which Docker counts as a wanted stop).
    killed_at = time.monotonic()
    on_controller_docker("exec", "ai-server", "kill", "-9", pid)
    stream.join(timeout=30)
    assert not stream.is_alive(), "the stream hangs after Ollama died"
    assert stream.failure is None, stream.failure
    at, event = stream.last()
    assert event["type"] == "error", event
    assert event["message"], event
    assert at - killed_at < 2.0, f"the error reached the user {at - killed_at:.1f} s after the kill"

    # Docker restarts it (restart policy), and the next translation works.
    wait_until(lambda: healthy(ai_server, "tradia-ollama"), "Ollama restarted and healthy")
    restarts = ai_server.check_output("docker inspect -f '{{.RestartCount}}' tradia-ollama")
    assert int(restarts) >= 1
    wait_until(lambda: _ready(client), "the app ready again")
    assert _translates(client)


def test_ai_server_down_is_reported_by_readyz(ai_server, client):
    ai_server.run_expect([0], "docker stop tradia-ollama")
    try:
        wait_until(lambda: client.get("/readyz").status_code == 503, "readyz says 503", 60)
        body = client.get("/readyz").json()
        assert body["status"] == "not_ready"
        assert body["reason"], body
        assert body["message"], body
        assert API_KEY not in json.dumps(body)
        # A translation meanwhile gets a clear error, not a hang.
        response = client.post("/api/translate", json={"text": TEXT, "target": "en"})
        events = [json.loads(line) for line in response.text.splitlines() if line]
        assert response.status_code >= 500 or events[-1]["type"] == "error", response.text
    finally:
        ai_server.run_expect([0], "docker start tradia-ollama")
    wait_until(lambda: _ready(client), "the app ready once Ollama is back")
    assert _translates(client)


def test_traefik_restarted_under_load_fails_cleanly_then_serves(
    ai_server, app_server, ca_pem, client
):
    # As many streams as the app sends at once to one AI server (2 x its AI servers).
    streams = _slow_streams(app_server, ca_pem, client, 2)
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
        clear_ai_fault(app_server)
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
    assert curl_ai(outsider, ca_pem, "-u", f"api:{API_KEY}") == "000"
    assert curl_ai(app_server, ca_pem, "-u", f"api:{API_KEY}") == "200"
    wait_until(lambda: _ready(client), "the app ready after the reboot", 240)
    assert _translates(client)

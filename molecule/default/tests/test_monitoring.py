"""Monitoring (roles/monitoring), with the app server as the monitoring host: Prometheus scrapes
every server over TLS with the scrape user's password through the ports the servers already
serve, the GPU's metrics come from the nvidia-smi collector, nobody else reaches the exporters,
and an AI server down reaches ops by e-mail (a real SMTP server on the controller, where the
inventory points Alertmanager), then its resolution.

Runs after test_load.py and before test_reliability.py (file order); leaves the stack serving."""

from __future__ import annotations

import json
import threading
import time
from email import message_from_bytes
from email.message import Message

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from conftest import CURL_TIMED_OUT, curl_status, inventory_vars, wait_until

MONITORING = inventory_vars("monitoring")
SCRAPE_PASSWORD: str = inventory_vars()["monitoring_scrape_password"]
PROMETHEUS = "http://127.0.0.1:9090"
# What prometheus.yml.j2 scrapes with the lab's inventory (the GPU through node exporter's
# textfile collector, so no job of its own): (job, instance).
EXPECTED_TARGETS = {
    ("node", "ai-server"),
    ("node", "app-server"),
    ("traefik", "ai-server"),
    ("traefik", "app-server"),
    ("tradia_app", "app-server"),
}
MIB = 1024 * 1024
SHIM_GPU_MEMORY_MIB = 23034  # molecule/gpu_and_docker_ce/files/shims/nvidia_smi.py


def _prometheus(app_server, path: str) -> dict:
    """A Prometheus API answer, asked on the monitoring host (it listens on its loopback only)."""
    out = app_server.check_output("curl -sf --max-time 10 %s", PROMETHEUS + path)
    answer = json.loads(out)
    assert answer["status"] == "success", answer
    return answer["data"]


def _query_url(expr: str) -> str:
    return "/api/v1/query?" + str(httpx.QueryParams({"query": expr}))


def _targets(app_server) -> list[dict]:
    return _prometheus(app_server, "/api/v1/targets?state=active")["activeTargets"]


def _all_up(app_server) -> bool:
    targets = _targets(app_server)
    found = {(t["labels"]["job"], t["labels"]["instance"]) for t in targets}
    return found == EXPECTED_TARGETS and all(t["health"] == "up" for t in targets)


def test_prometheus_scrapes_every_server_over_tls(app_server):
    try:
        wait_until(lambda: _all_up(app_server), "every target scraped", 90)
    finally:
        report = [
            (t["labels"]["job"], t["labels"]["instance"], t["health"], t["lastError"])
            for t in _targets(app_server)
        ]
    found = {(job, instance) for job, instance, _, _ in report}
    assert found == EXPECTED_TARGETS, report
    assert all(health == "up" for _, _, health, _ in report), report
    for target in _targets(app_server):
        # Across hosts, always HTTPS through the server's Traefik (the deployment CA verifies).
        assert target["scrapeUrl"].startswith("https://"), target["scrapeUrl"]


def test_gpu_memory_from_nvidia_smi_reaches_prometheus(app_server):
    """The collector's parsing path end to end: nvidia-smi's CSV -> textfile -> node exporter
    -> Prometheus -> the recording rule the alert and the dashboard read."""
    expr = 'tradia_gpu_memory_total_bytes{instance="ai-server"}'
    wait_until(lambda: _prometheus(app_server, _query_url(expr))["result"], expr, 60)
    (total,) = _prometheus(app_server, _query_url(expr))["result"]
    assert float(total["value"][1]) == SHIM_GPU_MEMORY_MIB * MIB, total
    assert total["metric"]["name"] == "NVIDIA L4", total
    ratio = 'tradia:gpu_memory_used_ratio{instance="ai-server"}'
    wait_until(lambda: _prometheus(app_server, _query_url(ratio))["result"], ratio, 60)
    (used,) = _prometheus(app_server, _query_url(ratio))["result"]
    assert 0 <= float(used["value"][1]) < 1, used


def test_the_apps_readiness_reaches_prometheus(app_server):
    expr = 'tradia_ready{instance="app-server"}'
    wait_until(lambda: _prometheus(app_server, _query_url(expr))["result"], expr, 60)
    (ready,) = _prometheus(app_server, _query_url(expr))["result"]
    assert ready["value"][1] == "1", ready


@pytest.mark.parametrize("path", ["/monitoring/node", "/monitoring/traefik"])
def test_exporters_need_the_scrape_password(app_server, ai_server, path):
    ca = ai_server.file("/etc/tradia/ai/tls/ca.crt").content_string
    url = f"https://ai-server:11434{path}"
    assert curl_status(app_server, url, ca_pem=ca) == (0, "401")
    assert curl_status(app_server, url, "-u", "prometheus:wrong-password", ca_pem=ca) == (0, "401")
    assert curl_status(app_server, url, "-u", f"prometheus:{SCRAPE_PASSWORD}", ca_pem=ca) == (
        0,
        "200",
    )


def test_outsiders_never_reach_the_exporters(outsider, app_ip):
    # The app server's 443 is open to everyone, but /monitoring/ only to the monitoring hosts:
    # even the right password from elsewhere gets 403.
    for path in ("/monitoring/node", "/monitoring/traefik", "/metrics"):
        rc, status = curl_status(
            outsider, f"https://{app_ip}{path}", "-k", "-u", f"prometheus:{SCRAPE_PASSWORD}"
        )
        assert (rc, status) == (0, "403"), path
    # The AI server's 11434 is closed to it altogether (its firewall drops the connection).
    rc, _ = curl_status(outsider, "https://ai-server:11434/monitoring/node", "-k", timeout=5)
    assert rc == CURL_TIMED_OUT


def _html(mail: Message) -> str:
    for part in mail.walk():
        if part.get_content_type() == "text/html":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError(f"no HTML part in {mail.get_content_type()} e-mail")


class Sink:
    """A real SMTP server on the controller: Alertmanager's e-mails, as received."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.lock = threading.Lock()

    # aiosmtpd calls its handler's hook by this name.
    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self.lock:
            self.messages.append(message_from_bytes(envelope.content or b""))
        return "250 OK"

    def subjects(self) -> list[str]:
        with self.lock:
            return [str(message["Subject"]) for message in self.messages]

    def first(self, *words: str) -> Message | None:
        with self.lock:
            for message in self.messages:
                if all(word in str(message["Subject"]) for word in words):
                    return message
        return None


@pytest.fixture
def smtp_sink():
    sink = Sink()
    controller = Controller(
        sink, hostname=MONITORING["monitoring_smtp_host"], port=MONITORING["monitoring_smtp_port"]
    )
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


def _firing(app_server, alertname: str) -> list[dict]:
    expr = f'ALERTS{{alertname="{alertname}", alertstate="firing"}}'
    return _prometheus(app_server, _query_url(expr))["result"]


def test_ai_server_down_is_mailed_to_ops_then_resolved(ai_server, app_server, smtp_sink, client):
    # A healthy lab raises nothing (else the e-mail below could be an older alert's).
    assert _firing(app_server, "TradiaAIServerDown") == []
    started = time.monotonic()
    ai_server.run_expect([0], "docker stop tradia-ollama")
    try:
        wait_until(
            lambda: smtp_sink.first("FIRING", "TradiaAIServerDown") is not None,
            f"the alert e-mail (received: {smtp_sink.subjects()})",
            180,
        )
    finally:
        ai_server.run_expect([0], "docker start tradia-ollama")
    mail = smtp_sink.first("FIRING", "TradiaAIServerDown")
    print(f"alert e-mail {time.monotonic() - started:.0f} s after Ollama stopped")
    assert mail is not None
    assert mail["To"] == MONITORING["monitoring_smtp_to"][0], mail["To"]
    assert MONITORING["monitoring_smtp_from"] in mail["From"], mail["From"]
    # Alertmanager's default e-mail (HTML): the alert's summary and its runbook step.
    html = _html(mail)
    assert "AI server ai-server" in html, html[:2000]
    assert "unreachable or not ready" in html, html[:2000]
    assert "README.md#what-to-watch" in html, html[:2000]
    wait_until(lambda: client.get("/readyz").status_code == 200, "the app ready again", 120)
    wait_until(
        lambda: smtp_sink.first("RESOLVED", "TradiaAIServerDown") is not None,
        f"the resolved e-mail (received: {smtp_sink.subjects()})",
        180,
    )

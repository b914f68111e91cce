"""The API key never leaks: not in the app's log output (at DEBUG, with upstream 401 and 500
errors), not in any API answer (/readyz, /api/settings, /metrics, refusals, error events)."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

import httpx
from tradia_testkit import AppProcess, Simulator

KEY = "leak-canary-5f2c9e7a41d04b38"
TEXT = {"text": "Bonjour à tous.", "target": "en"}
PNG = bytes.fromhex("89504e470d0a1a0a")


def key_forms(key: str) -> list[str]:
    """The key as it could leak: raw, and as the basic-auth header carries it."""
    basic = base64.b64encode(f"api:{key}".encode()).decode()
    return [key, basic, base64.b64encode(key.encode()).decode().rstrip("=")]


def exercise(app: AppProcess) -> list[str]:
    """Every kind of answer the app gives; returns their bodies."""
    bodies = []
    with httpx.Client(base_url=app.url, timeout=30) as http:
        for path in ("/readyz", "/api/settings", "/metrics", "/openapi.json", "/healthz"):
            bodies.append(http.get(path).text)
        bodies.append(http.post("/api/translate", json=TEXT).text)
        bodies.append(http.post("/api/translate", content=b"{").text)
        photo = {"photo": ("a.png", PNG, "image/png")}
        bodies.append(http.post("/api/minutes", data={"model": "qwen2.5vl:7b"}, files=photo).text)
    return bodies


def test_api_key_in_no_log_and_no_answer(sim: Simulator, gatekeeper, tmp_path: Path) -> None:
    gate_url, gate = gatekeeper
    bodies: list[str] = []
    logs = [tmp_path / "tradia-sim.log", tmp_path / "tradia-refused.log"]
    with AppProcess(sim.url, logs[0], OLLAMA_API_KEY=KEY, TRADIA_LOG_LEVEL="DEBUG") as app:
        bodies += exercise(app)
        for fault in ("error_500", "not_found", "midstream_error"):
            sim.fault(fault, after=1, count=1)
            bodies.append(httpx.post(f"{app.url}/api/translate", json=TEXT, timeout=30).text)
    with AppProcess(gate_url, logs[1], OLLAMA_API_KEY=KEY, TRADIA_LOG_LEVEL="DEBUG") as app:
        bodies += exercise(app)
    # The key was in use (so its absence below means something) and the errors did happen.
    assert gate.seen_auth == f"Basic {key_forms(KEY)[1]}"
    answers = "\n".join(bodies)
    for kind in ("generation_failed", "model_missing", "llm_auth_failed", "invalid_request"):
        assert kind in answers
    output = "\n".join(log.read_text() for log in logs)
    assert '"event": "llm_call"' in output
    assert '"status": "llm_auth_failed"' in output
    assert '"status": "generation_failed"' in output
    for form in key_forms(KEY):
        assert form not in output, "the API key is in the app's logs"
        assert form not in answers, "the API key is in an API answer"


def test_api_key_not_in_a_refused_configuration(tmp_path: Path) -> None:
    env = {"OLLAMA_API_KEY": KEY, "OLLAMA_BASE_URL": "ai.example:11434", "PATH": "/usr/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "tradia"], env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode != 0
    assert "OLLAMA_BASE_URL" in result.stderr
    for form in key_forms(KEY):
        assert form not in result.stdout + result.stderr

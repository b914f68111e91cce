"""One request, timed from the client: time to first token, tokens, outcome.

Two kinds of endpoint answer token by token: Ollama's /api/chat (the simulator, the AI server)
and Tradia's task routes (NDJSON events). Both are read as streams with one httpx client per
simulated user, so connections are reused as a browser would.
"""

import json
import ssl
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from tradia.api.events import DoneEvent, ErrorEvent, TokenEvent
from tradia.auth.session import COOKIE_NAME as SESSION_COOKIE
from tradia.stream_client import aiter_events


@dataclass
class Sample:
    task: str
    start: float  # time.monotonic() when sent
    end: float
    ok: bool
    ttft: float | None = None  # seconds from sending to the first token
    tokens: int = 0  # completion tokens the server reported
    queue_wait: float | None = None  # the app's own queue (Tradia reports it)
    error: str = ""

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class TaskRequest:
    """A Tradia task: a JSON body, or a form with files (documents, minutes)."""

    task: str
    path: str
    json: dict[str, Any] | None = None
    data: dict[str, str] | None = None
    files: list[tuple[str, tuple[str, bytes, str]]] | None = None


def client(
    base_url: str,
    *,
    ca: Path | None = None,
    auth: tuple[str, str] | None = None,
    local_address: str | None = None,
    timeout: float = 600,
    browser: bool = False,
) -> httpx.AsyncClient:
    """One simulated user. `local_address` (127.0.0.x) gives each user its own source address,
    as real users have: the app server's rate limit is per client address. `browser` speaks
    HTTP/2 over TLS, as browsers do with the app server (see bench/NOTES.md for why it matters:
    Traefik cuts some HTTP/1.1 streams when its CPU is contended)."""
    verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=str(ca)) if ca else False
    transport = httpx.AsyncHTTPTransport(verify=verify, local_address=local_address, http2=browser)
    return httpx.AsyncClient(
        base_url=base_url,
        auth=httpx.BasicAuth(*auth) if auth else None,
        transport=transport,
        timeout=httpx.Timeout(timeout, connect=10),
    )


async def sign_in(http: httpx.AsyncClient, user: tuple[str, str]) -> None:
    """The app's sign-in form (TRADIA_AUTH=local), posted as a browser posts it from the app's
    own page: afterwards `http` holds the session cookie and sends it with every request.
    Raises when the app does not answer with a session: samples would all be 401s."""
    response = await http.post(
        "/auth/login",
        data={"username": user[0], "password": user[1], "next": "/"},
        # The form's Origin is "null" under the app's Referrer-Policy no-referrer.
        headers={"Origin": "null", "Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "navigate"},
    )
    if response.status_code != 303 or SESSION_COOKIE not in http.cookies:
        raise RuntimeError(f"sign-in refused: {response.status_code} {response.text[:200]}")


async def ollama_chat(
    http: httpx.AsyncClient, body: dict[str, Any], task: str, max_tokens: int | None = None
) -> Sample:
    """POST /api/chat (stream): the first content chunk is the first token. With `max_tokens`
    the client stops reading after that many chunks (a real model may not stop by itself)."""
    start = time.monotonic()
    sample = Sample(task, start, start, ok=False)
    try:
        async with http.stream("POST", "/api/chat", json=body) as response:
            if response.status_code != 200:
                sample.error = f"http_{response.status_code}"
                return sample
            async for line in response.aiter_lines():
                if not line.strip():
                    continue
                chunk = json.loads(line)
                if "error" in chunk:
                    sample.error = "stream_error"
                    return sample
                if (chunk.get("message") or {}).get("content"):
                    if sample.ttft is None:
                        sample.ttft = time.monotonic() - start
                    sample.tokens += 1
                    if max_tokens is not None and sample.tokens >= max_tokens:
                        sample.ok = True
                        break
                if chunk.get("done"):
                    sample.tokens = int(chunk.get("eval_count") or 0)
                    sample.ok = True
    except httpx.HTTPError as exc:
        sample.error = type(exc).__name__
    finally:
        sample.end = time.monotonic()
    if not sample.ok and not sample.error:
        sample.error = "no_final_chunk"
    return sample


async def tradia_task(
    http: httpx.AsyncClient, request: TaskRequest, max_tokens: int | None = None
) -> Sample:
    """A Tradia task route: `token` events, then `done` with the generation's stats. With
    `max_tokens` the client stops reading after that many `token` events."""
    start = time.monotonic()
    sample = Sample(request.task, start, start, ok=False)
    try:
        async with http.stream(
            "POST", request.path, json=request.json, data=request.data, files=request.files
        ) as response:
            if response.status_code != 200:
                sample.error = f"http_{response.status_code}"
                return sample
            async for event in aiter_events(response):
                if isinstance(event, TokenEvent):
                    if sample.ttft is None:
                        sample.ttft = time.monotonic() - start
                    sample.tokens += 1
                    if max_tokens is not None and sample.tokens >= max_tokens:
                        sample.ok = True
                        break
                elif isinstance(event, ErrorEvent):
                    sample.error = str(event.error or "error")
                elif isinstance(event, DoneEvent):
                    sample.tokens = event.stats.completion_tokens if event.stats else 0
                    if event.stats is not None:
                        sample.queue_wait = event.stats.queue_wait_ms / 1000
                    sample.ok = not sample.error
    except httpx.HTTPError as exc:
        sample.error = type(exc).__name__
    finally:
        sample.end = time.monotonic()
    if not sample.ok and not sample.error:
        sample.error = "no_done_event"
    return sample

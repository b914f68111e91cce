"""Part 6, peers: Open WebUI (the best-known self-hosted front end for Ollama) beside Tradia, on
the same simulator, in the same run, with the same translation requests as part 1.

Paths, per simulator profile and OLLAMA_NUM_PARALLEL, at 1 and 20 users:
  direct       straight to the simulator (the baseline every "added" figure is taken over)
  chain        Tradia's whole chain with the users' login (part 1's (c), its own code)
  owui_ollama  Open WebUI's Ollama proxy, /ollama/api/chat, streamed NDJSON
  owui_openai  Open WebUI's OpenAI-compatible chat route, /api/chat/completions, streamed SSE
               (for an Ollama model it calls the simulator's /api/chat and converts the chunks)

Open WebUI runs from its own venv (bench.peers_install), offline, with a throwaway data
directory; its admin account and API key are made through its own API. Each product's server
processes are measured with psutil: CPU seconds over the path's requests, peak RSS (the tree's
sum, sampled). Tradia's server is the app plus both Traefiks (everything between the user and
the simulator); Open WebUI's is its one process tree.

Beyond speed (item 4 of issue 19): what a user queued behind others sees first, and how long a
user waits to learn that the AI server died in the middle of the answer.
"""

import asyncio
import contextlib
import json
import os
import secrets
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

import httpx
import psutil

from bench import peers_install
from bench.measure import Sample, client, ollama_chat
from bench.render import MODEL, Rendered, free_port
from bench.scenarios import relay
from bench.scenarios.common import summarise
from bench.stack import LocalStack, SimConfig
from bench.workload import closed_loop, ollama_body, translation

PEER_PATHS = ("owui_ollama", "owui_openai")
PATHS = ("direct", "chain", *PEER_PATHS)
# Tradia's server: everything between the user and the simulator.
TRADIA_SERVER = ("app", "app-traefik", "ai-traefik")
# The queue probe: this many users already hold or wait for the one slot when the probe sends.
AHEAD = 3
# The kill probe: the simulator dies after the probe has read this many tokens.
KILL_AFTER_TOKENS = 20
# How long a user is given to learn that the answer broke; longer counts as "nothing".
KILL_WAIT_S = 60.0


@dataclass(frozen=True)
class Cell:
    profile: str
    parallel: int
    users: tuple[int, ...]


# At one user OLLAMA_NUM_PARALLEL changes nothing (one stream is active), so one user runs at
# NUM_PARALLEL 1 only. l4 at NUM_PARALLEL 1 with 20 users is left out: ~6 s per answer, one at
# a time, is ~16 min for the four paths, and its TTFT is the queue (tens of seconds), where the
# milliseconds a front end adds cannot be seen (rtx4090 at NUM_PARALLEL 1 shows that case).
CELLS = (
    Cell("rtx4090", 1, (1, 20)),
    Cell("rtx4090", 4, (20,)),
    Cell("l4", 1, (1,)),
    Cell("l4", 4, (20,)),
)
QUICK_CELLS = (Cell("rtx4090", 4, (1, 20)),)


def per_user(users: int, quick: bool) -> int:
    if users == 1:
        return 3 if quick else 10
    return 1 if quick else 2


# Server resources


def tree(root: psutil.Process) -> list[psutil.Process]:
    with contextlib.suppress(psutil.Error):
        return [root, *root.children(recursive=True)]
    return []


def cpu_seconds(processes: list[psutil.Process]) -> float:
    """User + system CPU of the processes (those gone meanwhile are skipped)."""
    total = 0.0
    for process in processes:
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            total += times.user + times.system
    return total


def rss_bytes(processes: list[psutil.Process]) -> int:
    total = 0
    for process in processes:
        with contextlib.suppress(psutil.Error):
            total += process.memory_info().rss
    return total


@dataclass
class Meter:
    """CPU seconds and peak RSS of some process trees while the `with` block runs."""

    roots: list[int]
    interval: float = 0.2
    cpu_s: float = 0.0
    cpu_by_root: dict[int, float] = field(default_factory=dict)
    peak_rss: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _start_cpu: dict[int, dict[tuple[int, float], float]] = field(default_factory=dict)

    def _trees(self) -> dict[int, list[psutil.Process]]:
        found: dict[int, list[psutil.Process]] = {}
        for pid in self.roots:
            with contextlib.suppress(psutil.Error):
                found[pid] = tree(psutil.Process(pid))
        return found

    def _processes(self) -> list[psutil.Process]:
        return [process for processes in self._trees().values() for process in processes]

    def _cpu_by_process(self) -> dict[int, dict[tuple[int, float], float]]:
        # Per root, keyed by (pid, start time): a pid reused meanwhile is another process.
        found: dict[int, dict[tuple[int, float], float]] = {}
        for root, processes in self._trees().items():
            found[root] = {}
            for process in processes:
                with contextlib.suppress(psutil.Error):
                    found[root][(process.pid, process.create_time())] = cpu_seconds([process])
        return found

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak_rss = max(self.peak_rss, rss_bytes(self._processes()))

    def __enter__(self) -> "Meter":
        self._start_cpu = self._cpu_by_process()
        self.peak_rss = rss_bytes(self._processes())
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()
        end = self._cpu_by_process()
        self.cpu_by_root = {
            root: cpu_delta(self._start_cpu.get(root, {}), cpu) for root, cpu in end.items()
        }
        self.cpu_s = sum(self.cpu_by_root.values())


def cpu_delta(start: dict[tuple[int, float], float], end: dict[tuple[int, float], float]) -> float:
    """CPU used between two readings keyed by (pid, start time); a process born meanwhile
    counts from 0, one gone meanwhile is not counted (the servers keep their processes)."""
    return sum(max(0.0, cpu - start.get(pid, 0.0)) for pid, cpu in end.items())


# Open WebUI


def openai_body(body: dict[str, Any]) -> dict[str, Any]:
    """The OpenAI-style body for the same generation as the Ollama body: the same messages,
    the same options (Open WebUI passes `options` on to Ollama, `keep_alive` and `think` to the
    body's root), so the simulator keeps the model loaded with the same num_ctx."""
    options = dict(body.get("options") or {})
    for key in ("keep_alive", "think"):
        if key in body:
            options[key] = body[key]
    return {
        "model": body["model"],
        "messages": body["messages"],
        "stream": True,
        "options": options,
    }


@dataclass
class SseChunk:
    content: str = ""
    completion_tokens: int | None = None
    done: bool = False
    error: str = ""


def parse_sse_line(line: str) -> SseChunk | None:
    """One line of an OpenAI chat-completion stream; None for blank lines and comments."""
    line = line.strip()
    if not line.startswith("data:"):
        return None
    data = line[len("data:") :].strip()
    if data == "[DONE]":
        return SseChunk(done=True)
    chunk = json.loads(data)
    if chunk.get("error"):
        error = chunk["error"]
        return SseChunk(error=str(error.get("message") if isinstance(error, dict) else error))
    parsed = SseChunk()
    for choice in chunk.get("choices") or []:
        parsed.content += (choice.get("delta") or {}).get("content") or ""
    usage = chunk.get("usage")
    if usage and usage.get("completion_tokens") is not None:
        parsed.completion_tokens = int(usage["completion_tokens"])
    return parsed


async def openai_chat(http: httpx.AsyncClient, body: dict[str, Any], task: str) -> Sample:
    """POST /api/chat/completions (stream): the first content delta is the first token; the
    count is the final usage's completion_tokens (the deltas counted when there is none)."""
    start = time.monotonic()
    sample = Sample(task, start, start, ok=False)
    reported: int | None = None
    try:
        async with http.stream("POST", "/api/chat/completions", json=body) as response:
            if response.status_code != 200:
                sample.error = f"http_{response.status_code}"
                return sample
            async for line in response.aiter_lines():
                chunk = parse_sse_line(line)
                if chunk is None:
                    continue
                if chunk.error:
                    sample.error = "stream_error"
                    return sample
                if chunk.content:
                    if sample.ttft is None:
                        sample.ttft = time.monotonic() - start
                    sample.tokens += 1
                if chunk.completion_tokens is not None:
                    reported = chunk.completion_tokens
                if chunk.done:
                    sample.ok = True
    except httpx.HTTPError as exc:
        sample.error = type(exc).__name__
    finally:
        sample.end = time.monotonic()
    if reported is not None:
        sample.tokens = reported
    if not sample.ok and not sample.error:
        sample.error = "no_done_line"
    return sample


@dataclass
class OpenWebUI:
    """`with OpenWebUI(install, sim_url, directory) as owui:` started, admin made, API key in
    owui.api_key; stopped at exit. Its data directory is a temporary one, dropped at exit."""

    install: peers_install.Install
    sim_url: str
    directory: Path
    port: int = field(default_factory=free_port)
    api_key: str = ""
    process: subprocess.Popen[bytes] | None = None
    _data: tempfile.TemporaryDirectory[str] | None = None
    _log: BinaryIO | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self, data_dir: str) -> dict[str, str]:
        return dict(os.environ) | {
            "DATA_DIR": data_dir,
            "WEBUI_SECRET_KEY": secrets.token_hex(32),
            # No network: no model downloads, no update check (its embedding model for
            # retrieval then fails to load, which chat does not use).
            "OFFLINE_MODE": "true",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "ANONYMIZED_TELEMETRY": "false",
            "DO_NOT_TRACK": "true",
            "SCARF_NO_ANALYTICS": "true",
            "OLLAMA_BASE_URL": self.sim_url,
            "ENABLE_OLLAMA_API": "true",
            "ENABLE_OPENAI_API": "false",
            # API calls without a chat id start none of these, but a browser's chat does: off,
            # so that every generation the simulator sees is one the bench sent.
            "ENABLE_TITLE_GENERATION": "false",
            "ENABLE_TAGS_GENERATION": "false",
            "ENABLE_FOLLOW_UP_GENERATION": "false",
        }

    def __enter__(self) -> "OpenWebUI":
        self._data = tempfile.TemporaryDirectory(prefix="tradia-owui-")
        self._log = log = (self.directory / "open-webui.log").open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - the pinned install, fixed arguments
            [
                str(self.install.bin / "open-webui"),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            env=self.env(self._data.name),
            cwd=self._data.name,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            self._wait_healthy()
            self.api_key = self._configure()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
            self.process = None
        if self._data is not None:
            self._data.cleanup()
            self._data = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def _wait_healthy(self, timeout: float = 600) -> None:
        # Its first start imports torch and friends: minutes on a busy two-core machine.
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"open-webui exited ({self.process.returncode}); see its log")
            try:
                response = httpx.get(f"{self.url}/health", timeout=5)
                if response.status_code == 200:
                    return
                last = f"{response.status_code} {response.text[:200]}"
            except httpx.HTTPError as exc:
                last = repr(exc)
            time.sleep(1)
        raise RuntimeError(f"open-webui not healthy after {timeout:.0f} s: {last}")

    def _configure(self) -> str:
        """The first account signed up is the admin; API keys are off by default, so the admin
        turns them on in the admin config, then makes its key."""
        with httpx.Client(base_url=self.url, timeout=60) as http:
            signup = http.post(
                "/api/v1/auths/signup",
                json={
                    "name": "bench",
                    "email": "bench@example.com",
                    "password": secrets.token_urlsafe(24),
                },
            )
            signup.raise_for_status()
            if signup.json().get("role") != "admin":
                raise RuntimeError(f"the first account is not the admin: {signup.text[:200]}")
            http.headers["Authorization"] = f"Bearer {signup.json()['token']}"
            config = http.get("/api/v1/auths/admin/config")
            config.raise_for_status()
            http.post(
                "/api/v1/auths/admin/config", json=config.json() | {"ENABLE_API_KEYS": True}
            ).raise_for_status()
            key = http.post("/api/v1/auths/api_key")
            key.raise_for_status()
            return str(key.json()["api_key"])

    def models(self) -> list[str]:
        """The models it lists, read again from the simulator (a restarted one included)."""
        response = httpx.get(
            f"{self.url}/api/models",
            headers={"Authorization": f"Bearer {self.api_key}"},
            params={"refresh": "true"},
            timeout=60,
        )
        response.raise_for_status()
        return [m["id"] for m in response.json()["data"]]

    def client(self, route: str, user: int, timeout: float = 600) -> httpx.AsyncClient:
        base = f"{self.url}/ollama" if route == "owui_ollama" else self.url
        http = client(base, local_address=relay._address(user), timeout=timeout)
        http.headers["Authorization"] = f"Bearer {self.api_key}"
        return http


def _request(user: int, index: int) -> dict[str, Any]:
    return ollama_body(translation(relay.TEXT_CHARS, seed=user * 1000 + index), MODEL)


async def _peer_mode(owui: OpenWebUI, route: str, users: int, count: int) -> list[Sample]:
    """Part 1's procedure (one uncounted request per user first), through Open WebUI."""
    clients = [owui.client(route, user) for user in range(users)]

    async def send(user: int, index: int) -> Sample:
        body = _request(user, index)
        if route == "owui_ollama":
            return await ollama_chat(clients[user], body, "translate")
        return await openai_chat(clients[user], openai_body(body), "translate")

    try:
        await closed_loop(users, send, per_user=1)
        return await closed_loop(users, send, per_user=count)
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))


def _pids(stack: LocalStack, names: tuple[str, ...]) -> list[tuple[str, int]]:
    # LocalStack keeps its processes by name; the bench reads them, it does not drive them.
    return [(name, process.pid) for name, process in stack._processes if name in names]


def _measure_path(
    stack: LocalStack, owui: OpenWebUI, path: str, users: int, count: int
) -> dict[str, Any]:
    if path == "direct":
        roots: dict[str, int] = {}
    elif path == "chain":
        roots = dict(_pids(stack, TRADIA_SERVER))
    else:
        assert owui.process is not None
        roots = {"open-webui": owui.process.pid}
    with Meter(list(roots.values())) as meter:
        if path in ("direct", "chain"):
            samples = asyncio.run(relay._mode(stack, path, users, count))
        else:
            samples = asyncio.run(_peer_mode(owui, path, users, count))
    # The warm-up requests ran inside the meter too: they count in the CPU per request.
    sent = len(samples) + users
    return {
        **summarise(samples),
        "server_cpu_s": round(meter.cpu_s, 2) if roots else None,
        # Which of the server's processes the CPU went to (Tradia: the app, its Traefiks).
        "server_cpu_s_by_process": {
            name: round(meter.cpu_by_root.get(pid, 0.0), 2) for name, pid in roots.items()
        },
        "server_requests": sent,
        "server_peak_rss_mib": round(meter.peak_rss / 2**20, 1) if roots else None,
    }


def derive(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each row with the figures over its cell's direct row: added TTFT p50/p95 (ms), aggregate
    tokens/s as a ratio of direct, server CPU seconds per 100 requests."""
    out = []
    for row in rows:
        direct = next(
            (
                r
                for r in rows
                if r["path"] == "direct"
                and (r["profile"], r["parallel"], r["users"])
                == (row["profile"], row["parallel"], row["users"])
            ),
            None,
        )
        added = None
        ratio = None
        if direct and direct["ttft_ms"] and row["ttft_ms"]:
            added = [
                round(a - b, 1) for a, b in zip(row["ttft_ms"], direct["ttft_ms"], strict=True)
            ]
        if direct and direct["tokens_per_s"]:
            ratio = round(row["tokens_per_s"] / direct["tokens_per_s"], 3)
        cpu = row.get("server_cpu_s")
        per_100 = (
            round(cpu * 100 / row["server_requests"], 2)
            if cpu is not None and row.get("server_requests")
            else None
        )
        out.append(
            row | {"added_ttft_ms": added, "tokens_ratio": ratio, "server_cpu_s_per_100": per_100}
        )
    return out


# Beyond speed


@dataclass
class Seen:
    """What one line of a product's stream shows its user."""

    kind: str  # "queued", "token", "error", "done", "other"
    detail: str = ""


def classify(product: str, line: str) -> Seen | None:
    """A stream line as its user sees it: Tradia's NDJSON events, Ollama's NDJSON chunks (the
    peer's proxy), OpenAI SSE lines (the peer's chat route). None: nothing (blank, comment)."""
    line = line.strip()
    if not line:
        return None
    if product == "owui_openai":
        chunk = parse_sse_line(line)
        if chunk is None:
            return None
        if chunk.error:
            return Seen("error", chunk.error)
        if chunk.done:
            return Seen("done")
        return Seen("token") if chunk.content else Seen("other", "empty delta")
    event = json.loads(line)
    if product == "chain":
        kind = event.get("type", "")
        if kind == "queued":
            return Seen("queued", f"position {event.get('position')}")
        if kind == "error":
            return Seen("error", f"{event.get('error')}: {event.get('message')}")
        if kind in ("token", "done"):
            return Seen(kind)
        return Seen("other", kind)
    if event.get("error"):
        return Seen("error", str(event["error"]))
    if event.get("done"):
        return Seen("done")
    return Seen("token") if (event.get("message") or {}).get("content") else Seen("other", "")


def _probe_client(stack: LocalStack, owui: OpenWebUI, product: str, user: int) -> httpx.AsyncClient:
    if product == "chain":
        return client(
            stack.app_url,
            ca=stack.ca,
            auth=stack.app_auth,
            local_address=relay._address(user),
            browser=True,
            timeout=KILL_WAIT_S,
        )
    return owui.client(product, user, timeout=KILL_WAIT_S)


def _probe_request(product: str, seed: int) -> tuple[str, dict[str, Any]]:
    request = translation(relay.TEXT_CHARS, seed=seed)
    if product == "chain":
        assert request.json is not None
        return request.path, request.json
    body = ollama_body(request, MODEL)
    if product == "owui_openai":
        return "/api/chat/completions", openai_body(body)
    return "/api/chat", body


@dataclass
class Trace:
    """One probe request as its user lived it: seconds from sending, what was seen when."""

    headers_s: float | None = None
    seen: list[tuple[float, Seen]] = field(default_factory=list)
    end_s: float | None = None
    outcome: str = ""

    def first(self, kind: str | None = None) -> tuple[float, Seen] | None:
        return next(((t, s) for t, s in self.seen if kind is None or s.kind == kind), None)


async def _trace(
    http: httpx.AsyncClient,
    product: str,
    path: str,
    body: dict[str, Any],
    on_line: Callable[[Trace], None] | None = None,
) -> Trace:
    trace = Trace()
    start = time.monotonic()
    try:
        async with http.stream("POST", path, json=body) as response:
            trace.headers_s = time.monotonic() - start
            if response.status_code != 200:
                trace.outcome = f"http_{response.status_code}"
                return trace
            async for line in response.aiter_lines():
                seen = classify(product, line)
                if seen is None:
                    continue
                trace.seen.append((time.monotonic() - start, seen))
                if on_line:
                    on_line(trace)
                if seen.kind in ("error", "done"):
                    trace.outcome = seen.kind + (f": {seen.detail}" if seen.detail else "")
                    break
        if not trace.outcome:
            trace.outcome = "stream ended without an error or an end"
    except httpx.HTTPError as exc:
        trace.outcome = f"{type(exc).__name__}" + (f": {exc}" if str(exc) else "")
    finally:
        trace.end_s = time.monotonic() - start
    return trace


async def _queue_probe(stack: LocalStack, owui: OpenWebUI, product: str) -> dict[str, Any]:
    """AHEAD users send first (the one slot busy, the rest waiting), then the probe's user."""
    clients = [_probe_client(stack, owui, product, user) for user in range(AHEAD + 1)]
    try:
        ahead = []
        for user in range(AHEAD):
            path, body = _probe_request(product, seed=90_000 + user)
            ahead.append(asyncio.create_task(_trace(clients[user], product, path, body)))
            await asyncio.sleep(0.2)
        await asyncio.sleep(0.5)
        path, body = _probe_request(product, seed=90_000 + AHEAD)
        probe = await _trace(clients[AHEAD], product, path, body)
        await asyncio.gather(*ahead)
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
    first = probe.first()
    token = probe.first("token")
    queued = [s.detail for _, s in probe.seen if s.kind == "queued"]
    return {
        "product": product,
        "ahead": AHEAD,
        "headers_ms": _ms(probe.headers_s),
        "first_seen_ms": _ms(first[0]) if first else None,
        "first_seen": f"{first[1].kind} {first[1].detail}".strip() if first else None,
        "first_token_ms": _ms(token[0]) if token else None,
        "queue_updates": queued,
        "outcome": probe.outcome,
    }


async def _kill_probe(stack: LocalStack, owui: OpenWebUI, product: str) -> dict[str, Any]:
    """The simulator is killed (SIGKILL, as a crash or power loss) once the user has read
    KILL_AFTER_TOKENS tokens; then: how long until the user's stream says so, and how."""
    sim = next(p for name, p in stack._processes if name == "sim")
    killed_at: list[float] = []
    http = _probe_client(stack, owui, product, 0)

    def maybe_kill(trace: Trace) -> None:
        tokens = sum(1 for _, s in trace.seen if s.kind == "token")
        if not killed_at and tokens >= KILL_AFTER_TOKENS:
            os.killpg(sim.pid, signal.SIGKILL)
            killed_at.append(trace.seen[-1][0])

    try:
        path, body = _probe_request(product, seed=91_000)
        trace = await _trace(http, product, path, body, on_line=maybe_kill)
    finally:
        await http.aclose()
    after = [(t, s) for t, s in trace.seen if killed_at and t > killed_at[0]]
    return {
        "product": product,
        "killed_after_tokens": KILL_AFTER_TOKENS if killed_at else None,
        "seen_after_kill": sorted({s.kind for _, s in after}),
        # Until the stream says something is wrong, or ends, or the client gives up.
        "error_after_ms": _ms(trace.end_s - killed_at[0]) if killed_at and trace.end_s else None,
        "outcome": trace.outcome,
    }


def _ms(seconds: float | None) -> float | None:
    return round(seconds * 1000, 1) if seconds is not None else None


def _stack(rendered: Rendered, profile: str, parallel: int) -> LocalStack:
    # Tradia as its README advises: the app's concurrency = OLLAMA_NUM_PARALLEL.
    return LocalStack(rendered, SimConfig(profile=profile, num_parallel=parallel), parallel)


def _ready(owui: OpenWebUI) -> None:
    if MODEL not in owui.models():
        raise RuntimeError(f"open-webui does not list {MODEL}: {owui.models()}")


@contextlib.contextmanager
def _probing(rendered: Rendered, owui: OpenWebUI) -> Iterator[LocalStack]:
    with _stack(rendered, "rtx4090", 1) as stack:
        _ready(owui)
        yield stack


def run(workdir: Path, quick: bool, rendered: Rendered) -> dict[str, Any]:
    started = time.monotonic()
    install = peers_install.ensure()
    install_checked_s = time.monotonic() - started
    directory = workdir / "peers"
    directory.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    queue: list[dict[str, Any]] = []
    kill: list[dict[str, Any]] = []
    sim_url = f"http://127.0.0.1:{rendered.ports.sim}"
    with OpenWebUI(install, sim_url, directory) as owui:
        owui_start_s = time.monotonic() - started - install_checked_s
        for cell in QUICK_CELLS if quick else CELLS:
            with _stack(rendered, cell.profile, cell.parallel) as stack:
                _ready(owui)
                for users in cell.users:
                    for path in PATHS:
                        figures = _measure_path(stack, owui, path, users, per_user(users, quick))
                        rows.append(
                            {
                                "profile": cell.profile,
                                "parallel": cell.parallel,
                                "users": users,
                                "path": path,
                                **figures,
                            }
                        )
                        print(f"peers: {cell} {users} {path}: {figures}", flush=True)
        for product in ("chain", *PEER_PATHS):
            with _probing(rendered, owui) as stack:
                queue.append(asyncio.run(_queue_probe(stack, owui, product)))
            # A fresh simulator for each kill: the previous one is dead.
            with _probing(rendered, owui) as stack:
                kill.append(asyncio.run(_kill_probe(stack, owui, product)))
    return {
        "text_chars": relay.TEXT_CHARS,
        "peer": {
            "name": "Open WebUI",
            "version": install.version,
            "python": install.python,
            "install_seconds": install.install_seconds,
            "size_bytes": install.size_bytes,
            "reused": install.reused,
            "start_seconds": round(owui_start_s, 1),
        },
        "rows": derive(rows),
        "queue": queue,
        "kill": kill,
        "ahead": AHEAD,
        "kill_wait_s": KILL_WAIT_S,
    }

"""Count streams cut on the hops Tradia controls, with the CPU contended (bench/NOTES.md).

    python -m bench.stream_cut [--hop app|ai] [--requests N] [--busy 3] [--http2]
                               [--ai-link h2-tls|http1-tls|http1-plain]
                               [--body-write with-headers|after-headers] [--body-pause S]

A cut is a stream that ends without its final event: the app's `done`/`error` event, or
Ollama's `done` chunk / `{"error": ..}` line. Every complete stream ends with one, so a cut is
always detectable.

`--hop app` (default, 30 requests): sequential translations through the app server's Traefik
(TLS + login), as a user sends them; HTTP/1.1 unless `--http2` (what browsers speak).
`--body-write` (either hop) sends them one at a time with a raw HTTP/1.1 client (h11) that
writes each JSON body in the same write as its headers, or in a second write after them (as
httpx does), `--body-pause` seconds later: the switch of the race found in bench/NOTES.md.

`--hop ai` (default, 200 requests): the app -> AI hop alone. The app's own upstream client
(`build_http_client`, the app's settings and its /api/chat body) sends `--parallel` streams at a
time to the app server's Traefik `ai` entrypoint, which forwards them to the AI server's Traefik,
then to the simulator: the exact chain of a generation, without the user's hop. `--abandon K`
then leaves K long generations after three chunks, as the app does when its user disconnects,
and checks that the simulator cancels each (its slot freed), i.e. that the cancellation crossed
both Traefiks. The roles'
Traefik -> Traefik link negotiates HTTP/2 over TLS (ALPN); `--ai-link http1-tls` sets the
serversTransport's `disableHTTP2`, `--ai-link http1-plain` drops TLS from the link (what
app_server_ai_tls / ai_server_tls false render): both speak HTTP/1.1 there.

Renders the roles' Traefik files, starts the local stack (bench.stack) and keeps `--busy` CPU
loops running while the streams run; prints each cut, then the tally.
"""

import argparse
import asyncio
import base64
import json
import multiprocessing
import ssl
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import h11
import httpx
import yaml
from tradia.api.events import DoneEvent, ErrorEvent
from tradia.core.config import Settings
from tradia.stream_client import StreamEventError, parse_event
from tradia.upstream.errors import ErrorKind
from tradia.upstream.ollama_client import build_http_client

from bench.measure import Sample, client, tradia_task
from bench.render import API_KEY, MODEL, Rendered, render
from bench.stack import LocalStack, SimConfig
from bench.workload import ollama_body, translation

TEXT_CHARS = 400
# Tokens per stream on the AI hop: cuts come right after the first chunk (bench/NOTES.md),
# so long answers would only make the run longer.
AI_HOP_TOKENS = 48
# The scripted model quotes the user's text: 8000 characters make a ~2000-token answer, ~15 s
# at the rtx4090 profile's 128 tokens/s, so only a cancellation (not the answer's end) frees
# the simulator's slot within ABANDON_WAIT.
ABANDONED_CHARS = 8000
ABANDONED_TOKENS = 2000
ABANDON_WAIT = 5.0


class End(Enum):
    DONE = "done"
    ERROR = "error"
    CUT = "cut"


def ollama_end(lines: Iterable[str]) -> End:
    """How an Ollama /api/chat stream ended, from its NDJSON lines: only its last line counts
    (a torn line, the connection closed mid-chunk, is no ending)."""
    last = [line for line in lines if line.strip()][-1:]
    try:
        chunk = json.loads(last[0]) if last else {}
    except ValueError:
        return End.CUT
    if not isinstance(chunk, dict):
        return End.CUT
    if "error" in chunk:
        return End.ERROR
    return End.DONE if chunk.get("done") is True else End.CUT


@dataclass
class Tally:
    total: int = 0
    cut: int = 0
    errors: int = 0

    def add(self, end: End) -> None:
        self.total += 1
        self.cut += end is End.CUT
        self.errors += end is End.ERROR

    def __str__(self) -> str:
        return f"{self.cut} of {self.total} streams cut ({self.errors} ended with an error event)"


_ERROR_KINDS = frozenset(kind.value for kind in ErrorKind)


def sample_end(sample: Sample) -> End:
    """How a bench.measure.tradia_task stream ended. Its `error` is an error event's kind, an
    `http_<status>` refusal, a transport exception's class name or `no_done_event`: only the
    last two are cuts."""
    if sample.ok:
        return End.DONE
    if sample.error in _ERROR_KINDS or sample.error.startswith("http_"):
        return End.ERROR
    return End.CUT


def _spin() -> None:
    while True:
        pass


async def _app_hop(stack: LocalStack, requests: int, http2: bool) -> Tally:
    tally = Tally()
    http = client(stack.app_url, ca=stack.ca, auth=stack.app_auth, timeout=60, browser=http2)
    try:
        for number in range(requests):
            sample = await tradia_task(http, translation(TEXT_CHARS, seed=number))
            ending = sample_end(sample)
            tally.add(ending)
            if ending is not End.DONE:
                print(
                    number,
                    f"{ending.name} after {sample.duration:.2f} s: {sample.error}",
                    flush=True,
                )
    finally:
        await http.aclose()
    return tally


def tradia_end(lines: Iterable[str]) -> End:
    """How a Tradia task stream ended, from its NDJSON lines (its last event)."""
    last = [line for line in lines if line.strip()][-1:]
    try:
        event = parse_event(last[0]) if last else None
    except StreamEventError:
        return End.CUT
    if isinstance(event, ErrorEvent):
        return End.ERROR
    return End.DONE if isinstance(event, DoneEvent) else End.CUT


@dataclass(frozen=True)
class _RawTarget:
    """Where the raw HTTP/1.1 client sends its streams, and how they end."""

    port: int
    tls: ssl.SSLContext | None
    path: str
    auth: tuple[str, str]
    body: Callable[[int], dict[str, Any]]
    end: Callable[[Iterable[str]], End]


def _app_target(stack: LocalStack) -> _RawTarget:
    assert stack.app_auth is not None
    return _RawTarget(
        stack.rendered.ports.app_websecure,
        ssl.create_default_context(cafile=str(stack.ca)),
        "/api/translate",
        stack.app_auth,
        lambda number: dict(translation(TEXT_CHARS, seed=number).json or {}),
        tradia_end,
    )


def _ai_body(number: int) -> dict[str, Any]:
    body = ollama_body(translation(TEXT_CHARS, seed=number), MODEL)
    body["options"]["num_predict"] = AI_HOP_TOKENS
    return body


def _ai_target(stack: LocalStack) -> _RawTarget:
    """The app server's Traefik `ai` entrypoint, where the app sends its generations."""
    return _RawTarget(
        stack.rendered.ports.app_ai, None, "/api/chat", stack.ai_auth, _ai_body, ollama_end
    )


async def _raw_stream(
    target: _RawTarget,
    streams: tuple[asyncio.StreamReader, asyncio.StreamWriter],
    number: int,
    body_pause: float | None,
) -> tuple[End, bool]:
    """One stream over a kept-alive HTTP/1.1 connection, written by hand with h11: the body in
    the headers' write (`body_pause` None) or in a second write `body_pause` s after them.
    Returns how it ended and whether the connection can carry the next one."""
    reader, writer = streams
    body = json.dumps(target.body(number)).encode()
    login = base64.b64encode(":".join(target.auth).encode()).decode()
    h11_conn = h11.Connection(h11.CLIENT)
    head = h11_conn.send(
        h11.Request(
            method="POST",
            target=target.path,
            headers=[
                ("Host", f"127.0.0.1:{target.port}"),
                ("Authorization", f"Basic {login}"),
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(body))),
            ],
        )
    )
    rest = h11_conn.send(h11.Data(data=body)) + h11_conn.send(h11.EndOfMessage())
    if body_pause is None:
        writer.write(head + rest)
    else:
        writer.write(head)
        await writer.drain()  # its own write (TLS record), as httpx sends it
        await asyncio.sleep(body_pause)
        writer.write(rest)
    await writer.drain()
    text = b""
    status = 0
    while True:
        event = h11_conn.next_event()
        if event is h11.NEED_DATA:
            h11_conn.receive_data(await reader.read(65536))
            continue
        if isinstance(event, h11.Response):
            status = event.status_code
        if isinstance(event, h11.Data):
            text += event.data
        if isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
            break
    if status != 200:
        print(number, f"HTTP {status}: {text[:200]!r}", flush=True)
        ending = End.ERROR
    else:
        ending = target.end(text.decode(errors="replace").splitlines())
    return ending, isinstance(event, h11.EndOfMessage) and h11_conn.our_state is h11.DONE


async def _raw_hop(target: _RawTarget, requests: int, body_pause: float | None) -> Tally:
    """Sequential streams on one kept-alive connection (a new one after a cut)."""
    tally = Tally()
    streams = None
    for number in range(requests):
        if streams is None:
            streams = await asyncio.open_connection("127.0.0.1", target.port, ssl=target.tls)
        try:
            ending, reusable = await _raw_stream(target, streams, number, body_pause)
        except (OSError, h11.ProtocolError) as exc:
            ending, reusable = End.CUT, False
            print(number, f"transport error {type(exc).__name__}: {exc}", flush=True)
        tally.add(ending)
        if ending is End.CUT:
            print(number, "CUT", flush=True)
        if not reusable:
            streams[1].close()
            streams = None
    if streams is not None:
        streams[1].close()
    return tally


async def _ai_stream(http: httpx.AsyncClient, number: int) -> End:
    body = _ai_body(number)
    lines: list[str] = []
    try:
        async with http.stream("POST", "/api/chat", json=body) as response:
            if response.status_code != 200:
                await response.aread()
                print(number, f"HTTP {response.status_code}: {response.text[:200]}", flush=True)
                return End.ERROR
            async for line in response.aiter_lines():
                lines.append(line)
    except httpx.HTTPError as exc:
        lines.append("")
        print(number, f"transport error {type(exc).__name__}: {exc}", flush=True)
    end = ollama_end(lines)
    if end is End.CUT:
        print(number, f"CUT after {len(lines)} lines", flush=True)
    return end


async def _ai_hop(stack: LocalStack, requests: int, parallel: int) -> Tally:
    r = stack.rendered
    settings = Settings(  # type: ignore[call-arg]
        ollama_base_url=f"http://127.0.0.1:{r.ports.app_ai}",
        ollama_api_key=API_KEY,
        ollama_model=MODEL,
        concurrency=parallel,
    )
    tally = Tally()
    numbers = iter(range(requests))
    http = build_http_client(settings)  # the app's one client per process

    async def worker() -> None:
        for number in numbers:
            tally.add(await _ai_stream(http, number))

    try:
        await asyncio.gather(*(worker() for _ in range(parallel)))
    finally:
        await http.aclose()
    return tally


async def _abandon(stack: LocalStack, count: int) -> tuple[int, float]:
    """The app's client leaves `count` long generations after a few chunks, as the app does when
    its user disconnects; returns how many the simulator cancelled, and the slowest release (s).
    The cancellation must cross both Traefiks (an RST_STREAM on the HTTP/2 link)."""
    r = stack.rendered
    settings = Settings(  # type: ignore[call-arg]
        ollama_base_url=f"http://127.0.0.1:{r.ports.app_ai}",
        ollama_api_key=API_KEY,
        ollama_model=MODEL,
    )
    freed, slowest = 0, 0.0
    async with build_http_client(settings) as http, httpx.AsyncClient() as sim:
        for number in range(count):
            body = ollama_body(translation(ABANDONED_CHARS, seed=number), MODEL)
            body["options"]["num_predict"] = ABANDONED_TOKENS
            before = (await sim.get(f"{stack.sim_url}/_sim/stats")).json()["canceled_running"]
            async with http.stream("POST", "/api/chat", json=body) as response:
                lines = 0
                async for _ in response.aiter_lines():
                    lines += 1
                    if lines == 3:
                        break
            left = time.monotonic()
            while time.monotonic() - left < ABANDON_WAIT:
                stats = (await sim.get(f"{stack.sim_url}/_sim/stats")).json()
                if stats["canceled_running"] > before and not any(stats["active"].values()):
                    freed += 1
                    slowest = max(slowest, time.monotonic() - left)
                    break
                await asyncio.sleep(0.05)
            else:
                print(number, f"generation not cancelled {ABANDON_WAIT:g} s after leaving")
    return freed, slowest


def _ai_protocols(access_log: Path) -> dict[str, int]:
    """Requests per protocol in the AI server's Traefik access log (the TLS hop's protocol)."""
    counts: dict[str, int] = {}
    for line in access_log.read_text().splitlines():
        entry = json.loads(line)
        if entry.get("RequestPath") == "/api/chat":
            protocol = str(entry.get("RequestProtocol"))
            counts[protocol] = counts.get(protocol, 0) + 1
    return counts


def _edit_yaml(path: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    config: dict[str, Any] = yaml.safe_load(path.read_text())
    edit(config)
    path.write_text(yaml.safe_dump(config, sort_keys=False))


def _set_ai_link(rendered: Rendered, link: str) -> None:
    """Make the app Traefik -> AI Traefik link speak HTTP/1.1 over TLS or over plain TCP."""
    app_ai = rendered.directory / "app" / "traefik" / "dynamic" / "ai.yml"
    if link == "http1-tls":

        def disable_http2(config: dict[str, Any]) -> None:
            config["http"]["serversTransports"]["ai-servers"]["disableHTTP2"] = True

        _edit_yaml(app_ai, disable_http2)
    elif link == "http1-plain":

        def plain_servers(config: dict[str, Any]) -> None:
            balancer = config["http"]["services"]["ai-servers"]["loadBalancer"]
            del balancer["serversTransport"]
            del config["http"]["serversTransports"]
            for server in balancer["servers"]:
                server["url"] = server["url"].replace("https://", "http://")

        def plain_routers(config: dict[str, Any]) -> None:
            for router in config["http"]["routers"].values():
                router.pop("tls", None)

        _edit_yaml(app_ai, plain_servers)
        _edit_yaml(rendered.directory / "ai" / "traefik" / "dynamic" / "ollama.yml", plain_routers)


class _PlainAiStack(LocalStack):
    """LocalStack whose AI Traefik serves plain HTTP (for its readiness wait)."""

    @property
    def ai_url(self) -> str:
        return f"http://127.0.0.1:{self.rendered.ports.ai_traefik}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hop", choices=("app", "ai"), default="app")
    parser.add_argument("--requests", type=int, help="streams (default: 30 app, 200 ai)")
    parser.add_argument("--busy", type=int, default=3, help="CPU loops competing with the stack")
    parser.add_argument("--http2", action="store_true", help="app hop: speak HTTP/2 (browsers)")
    parser.add_argument("--parallel", type=int, default=2, help="ai hop: streams at a time")
    parser.add_argument(
        "--ai-link",
        choices=("h2-tls", "http1-tls", "http1-plain"),
        default="h2-tls",
        help="ai hop: the Traefik -> Traefik link (default: as the roles render it)",
    )
    parser.add_argument(
        "--abandon",
        type=int,
        default=0,
        help="ai hop: then leave this many long generations early, check the simulator frees them",
    )
    parser.add_argument(
        "--body-write",
        choices=("with-headers", "after-headers"),
        help="a raw HTTP/1.1 client (h11) writing each body with or after its headers",
    )
    parser.add_argument(
        "--body-pause",
        type=float,
        default=0.0,
        help="--body-write after-headers: seconds between the headers and the body",
    )
    args = parser.parse_args()
    requests = args.requests or (30 if args.hop == "app" else 200)
    abandoned, freed = "", 0
    loops = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(args.busy)]
    with tempfile.TemporaryDirectory(prefix="stream-cut-") as scratch:
        rendered = render(Path(scratch), login=True)
        _set_ai_link(rendered, args.ai_link)
        stack_type = _PlainAiStack if args.ai_link == "http1-plain" else LocalStack
        sim = SimConfig(profile="rtx4090", num_parallel=max(1, args.parallel))
        with stack_type(rendered, sim, max(1, args.parallel)) as stack:
            for loop in loops:
                loop.start()
            try:
                if args.body_write:
                    target = (_app_target if args.hop == "app" else _ai_target)(stack)
                    pause = None if args.body_write == "with-headers" else args.body_pause
                    tally = asyncio.run(_raw_hop(target, requests, pause))
                elif args.hop == "app":
                    tally = asyncio.run(_app_hop(stack, requests, args.http2))
                else:
                    tally = asyncio.run(_ai_hop(stack, requests, args.parallel))
                if args.hop == "ai" and args.abandon:
                    freed, slowest = asyncio.run(_abandon(stack, args.abandon))
                    abandoned = f"; {freed} of {args.abandon} abandoned generations cancelled"
                    abandoned += f" in the simulator (slowest {slowest:.2f} s)"
            finally:
                for loop in loops:
                    loop.terminate()
        if args.hop == "app":
            hop = "user -> app, " + ("HTTP/2" if args.http2 else "HTTP/1.1") + " over TLS"
        else:
            protocols = _ai_protocols(Path(scratch) / "ai-access.log")
            hop = f"app -> AI ({args.ai_link} link), AI Traefik saw {protocols}"
        if args.body_write:
            hop += f", raw client, body written {args.body_write}"
            if args.body_write == "after-headers" and args.body_pause:
                hop += f" (+{args.body_pause:g} s)"
    print(f"{hop}, {args.busy} busy loops: {tally}{abandoned}")
    # A script (or the lead's check) can rely on the status: 1 when a stream was cut or an
    # abandoned generation kept running.
    return 1 if tally.cut or freed < (args.abandon if args.hop == "ai" else 0) else 0


if __name__ == "__main__":
    sys.exit(main())

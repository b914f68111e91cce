"""Twenty colleagues at once through the deployed chain: browser -> app server's Traefik (TLS,
login, rate limit) -> app -> AI server's Traefik -> the real tiny model (llama.cpp on CPU).

Each user has its own HTTP/2 connection (what browsers speak to Traefik over TLS), translates
texts of different lengths into different languages, reads every stream to its end and pauses
a little, as people do, while the page polls /readyz as the UI does, for TRADIA_LOAD_SECONDS
(default 300). Every request must end with its `done` event (none refused, cut or timed out)
and the app's memory must stay within 10 % of what it used once warm. The figures go to
artifacts/molecule/load.json.

Meanwhile three other clients (on the outsider, the AI server and the app server: three
addresses, none the users') loop on /readyz as fast as the app server's per-client rate limit
lets each of them, as open tabs in several offices would. Together they ask more than the AI
server's limit per client; the app shares one upstream check among them, so no poll finds the
AI server busy (503 llm_busy), no user's generation is refused, and the AI server's Traefik
answers no 429.

Translations only: the lab's model (SmolLM2-135M) loops on the structured tasks (correction,
reformulation: JSON with the list of changes) until its output budget and the app rightly
refuses the truncated JSON; that is the model's limit, which app/tests cover with scripted
answers, not a fault of the stack this test is about.

Runs after test_default.py and before the fault tests (file order), on a healthy stack."""

import asyncio
import json
import os
import random
import ssl
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx
import pytest
import yaml
from tradia.stream_client import aiter_events

from conftest import ARTIFACTS, USER, wait_until

USERS = 20
SECONDS = float(os.environ.get("TRADIA_LOAD_SECONDS", "300"))
WARM_UP_SECONDS = min(60.0, SECONDS / 5)
MEMORY_GROWTH_LIMIT = 1.10
SAMPLE_EVERY_SECONDS = 10.0

SENTENCES = (
    "La réunion de demain est reportée à jeudi, même heure, même salle.",
    "Merci de relire le compte rendu avant vendredi midi.",
    "Le budget du projet a été validé par la direction hier soir.",
    "Nous avons besoin de deux volontaires pour l'accueil des stagiaires.",
    "Les nouveaux badges seront distribués lundi à l'accueil.",
)
PARAGRAPH = " ".join(SENTENCES)
TASKS = (
    ("/api/translate", lambda text: {"text": text, "target": "en"}),
    ("/api/translate", lambda text: {"text": text, "target": "de"}),
    ("/api/translate", lambda _text: {"text": PARAGRAPH, "target": "en"}),
)
READYZ_EVERY_SECONDS = 10.0
# The tight readiness pollers' hosts (each a client address of its own), and their output dir.
POLLER_HOSTS = ("outsider", "ai_server", "app_server")
POLL_DIR = "/tmp/tradia-polls"
APP_DYNAMIC_CONFIG = "/etc/tradia/app/traefik/dynamic/tradia.yml"


@dataclass
class Outcome:
    path: str
    seconds: float
    ok: bool
    detail: str = ""


@dataclass
class Load:
    outcomes: list[Outcome] = field(default_factory=list)
    memory_kib: list[tuple[float, int]] = field(default_factory=list)
    # The tight pollers: each one's rate, every status they got, the reasons of their 503s.
    poll_rate: float = 0.0
    poll_statuses: Counter[int] = field(default_factory=Counter)
    poll_reasons: Counter[str] = field(default_factory=Counter)
    # 429 answers of the AI server's Traefik during the run (its JSON access log).
    upstream_429: int = 0


async def _one_request(http: httpx.AsyncClient, rng: random.Random) -> Outcome:
    path, body = rng.choice(TASKS)
    start = time.monotonic()
    last: object = {}
    try:
        async with http.stream("POST", path, json=body(rng.choice(SENTENCES))) as response:
            if response.status_code != 200:
                await response.aread()
                detail = f"HTTP {response.status_code}: {response.text[:200]}"
                return Outcome(path, time.monotonic() - start, False, detail)
            async for event in aiter_events(response):
                last = event.model_dump(mode="json")
    # Any exception is a failed request (a malformed line as much as a cut connection): one
    # escaping here would end this user, or the whole run, instead of being counted.
    except Exception as exc:
        return Outcome(path, time.monotonic() - start, False, f"{type(exc).__name__}: {exc}")
    ok = isinstance(last, dict) and last.get("type") == "done"
    return Outcome(path, time.monotonic() - start, ok, "" if ok else repr(last)[:300])


async def _user(number: int, app_url: str, tls: ssl.SSLContext, until: float, load: Load) -> None:
    rng = random.Random(number)
    async with httpx.AsyncClient(
        base_url=app_url, verify=tls, auth=USER, http2=True, timeout=httpx.Timeout(900, connect=30)
    ) as http:

        async def poll_readiness() -> None:
            while time.monotonic() < until:
                start = time.monotonic()
                try:
                    response = await http.get("/readyz")
                    ok, detail = response.status_code == 200, f"HTTP {response.status_code}"
                except Exception as exc:  # counted as a failed poll, as above
                    ok, detail = False, f"{type(exc).__name__}: {exc}"
                load.outcomes.append(Outcome("/readyz", time.monotonic() - start, ok, detail))
                await asyncio.sleep(READYZ_EVERY_SECONDS)

        poller = asyncio.create_task(poll_readiness())
        # Users do not all click at the same instant.
        await asyncio.sleep(rng.uniform(0, 3))
        while time.monotonic() < until:
            load.outcomes.append(await _one_request(http, rng))
            await asyncio.sleep(rng.uniform(0.5, 2.0))
        await poller


def _app_rss_kib(app_server) -> int:
    """Resident memory of the app: its main process and any it started. Not `docker top`'s
    every process: Docker's health check runs `python3 -m tradia.healthcheck` in the container
    every 15 s, and a sample that caught one counted its ~11 MiB as the app's growth."""
    main = int(app_server.check_output("docker inspect -f '{{.State.Pid}}' tradia-app"))
    rows = [row.split() for row in app_server.check_output("ps -e -o pid=,ppid=,rss=").splitlines()]
    children: dict[int, list[tuple[int, int]]] = {}
    for pid, ppid, rss in rows:
        children.setdefault(int(ppid), []).append((int(pid), int(rss)))
    rss_of = {int(pid): int(rss) for pid, _, rss in rows}
    total, pending = rss_of.get(main, 0), [main]
    while pending:
        for pid, rss in children.get(pending.pop(), []):
            total += rss
            pending.append(pid)
    assert total > 0, f"no process {main} on the app server"
    return total


def _sample_memory(app_server, load: Load, stop: threading.Event, started: float) -> None:
    while not stop.is_set():
        load.memory_kib.append((time.monotonic() - started, _app_rss_kib(app_server)))
        stop.wait(SAMPLE_EVERY_SECONDS)


def _per_client_rate(app_server) -> float:
    """Requests per second the app server's Traefik allows one client (its rateLimit)."""
    config = yaml.safe_load(app_server.file(APP_DYNAMIC_CONFIG).content_string)
    limits = [
        m["rateLimit"]["average"]
        for m in config["http"]["middlewares"].values()
        if "rateLimit" in m
    ]
    assert len(limits) == 1, limits
    return float(limits[0])


def _start_poller(host, ca_pem: str, rate: float) -> None:
    """A curl loop on `host` polling /readyz at `rate` per second for SECONDS.

    One curl with --rate over a URL range: one kept-alive connection, each answer written as
    its body then a line with its status, then END.
    """
    host.run_expect([0], "rm -rf %s && mkdir -p %s", POLL_DIR, POLL_DIR)
    host.run_expect([0], "printf '%%s' %s > %s/ca.crt", ca_pem, POLL_DIR)
    command = (
        f"curl -s --cacert {POLL_DIR}/ca.crt -u {USER[0]}:{USER[1]} --max-time 30"
        f" --rate {max(1, int(rate * 60))}/m -w '\\n%{{http_code}}\\n'"
        f" 'https://app-server/readyz?poll=[1-{max(1, int(rate * SECONDS))}]'; echo END"
    )
    host.run_expect(
        [0],
        "nohup timeout %s sh -c %s < /dev/null > %s/poll.log 2>&1 &",
        str(int(SECONDS) + 120),
        command,
        POLL_DIR,
    )


def _collect_poller(host, load: Load) -> None:
    def finished() -> bool:
        return host.run("grep -q '^END$' %s/poll.log", POLL_DIR).rc == 0

    wait_until(finished, "a readiness poller to finish", seconds=180)
    for line in host.file(f"{POLL_DIR}/poll.log").content_string.splitlines():
        line = line.strip()
        if line.isdigit() and len(line) == 3:
            load.poll_statuses[int(line)] += 1
        elif line.startswith("{"):
            try:
                body = json.loads(line)
            except ValueError:
                continue
            if body.get("status") == "not_ready":
                load.poll_reasons[str(body.get("reason"))] += 1


def _upstream_429(ai_server, since: str) -> int:
    """429 answers in the AI server's Traefik access log (JSON lines) since `since`."""
    log = ai_server.run("docker logs --since %s tradia-ai-traefik", since)
    assert log.rc == 0, log.stderr
    count = 0
    for line in (log.stdout + log.stderr).splitlines():
        if line.startswith("{") and '"DownstreamStatus"' in line:
            try:
                count += json.loads(line).get("DownstreamStatus") == 429
            except ValueError:
                continue
    return count


@pytest.fixture(scope="module")
def load(request, app_server, ai_server, app_url: str, tls_context: ssl.SSLContext) -> Load:
    result = Load()
    stop = threading.Event()
    since = ai_server.check_output("date +%s")
    result.poll_rate = _per_client_rate(app_server)
    pollers = [request.getfixturevalue(name) for name in POLLER_HOSTS]
    ca_pem = app_server.file("/etc/tradia/app/tls/ca.crt").content_string
    for host in pollers:
        _start_poller(host, ca_pem, result.poll_rate)
    started = time.monotonic()
    sampler = threading.Thread(
        target=_sample_memory, args=(app_server, result, stop, started), daemon=True
    )
    sampler.start()

    async def everyone() -> None:
        until = time.monotonic() + SECONDS
        await asyncio.gather(*(_user(n, app_url, tls_context, until, result) for n in range(USERS)))

    try:
        asyncio.run(everyone())
    finally:
        stop.set()
        sampler.join()
    # One last sample once every stream has ended.
    result.memory_kib.append((time.monotonic() - started, _app_rss_kib(app_server)))
    for host in pollers:
        _collect_poller(host, result)
    result.upstream_429 = _upstream_429(ai_server, since)
    _write_report(result)
    return result


def _write_report(load: Load) -> None:
    durations = sorted(o.seconds for o in load.outcomes if o.path != "/readyz")
    report = {
        "users": USERS,
        "seconds": SECONDS,
        "requests": len(load.outcomes),
        "failed": [o.__dict__ for o in load.outcomes if not o.ok],
        "per_path": {
            path: sum(1 for o in load.outcomes if o.path == path)
            for path in ("/api/translate", "/readyz")
        },
        "request_seconds_p50": statistics.median(durations) if durations else None,
        "request_seconds_p95": durations[int(0.95 * (len(durations) - 1))] if durations else None,
        "app_rss_kib": load.memory_kib,
        "tight_pollers": {
            "clients": list(POLLER_HOSTS),
            "rate_per_s_each": load.poll_rate,
            "statuses": dict(load.poll_statuses),
            "not_ready_reasons": dict(load.poll_reasons),
        },
        "upstream_429": load.upstream_429,
    }
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "load.json").write_text(json.dumps(report, indent=2))


def test_no_request_fails(load: Load) -> None:
    failed = [o for o in load.outcomes if not o.ok]
    assert not failed, f"{len(failed)} of {len(load.outcomes)} failed, e.g. {failed[:3]}"


def test_every_user_was_served(load: Load) -> None:
    # At least one translation per user on average (the model runs on two CPU cores), and the
    # pages' readiness polls all along.
    assert sum(1 for o in load.outcomes if o.path == "/api/translate") >= USERS
    assert sum(1 for o in load.outcomes if o.path == "/readyz") >= USERS * SECONDS / 60


def test_app_memory_is_stable(load: Load) -> None:
    warm = [kib for moment, kib in load.memory_kib if moment >= WARM_UP_SECONDS]
    assert len(warm) >= 2, load.memory_kib
    baseline, peak = warm[0], max(warm)
    assert peak <= baseline * MEMORY_GROWTH_LIMIT, (
        f"app memory grew from {baseline} KiB to {peak} KiB under load: {load.memory_kib}"
    )


def test_tight_readiness_polling_throttles_nothing(load: Load) -> None:
    polls = sum(load.poll_statuses.values())
    # Each polled at the per-client limit the whole time (curl paces them; half of it at least
    # on a saturated lab, where an answer may take longer than the pace allows).
    expected = len(POLLER_HOSTS) * load.poll_rate * SECONDS
    assert polls >= 0.5 * expected, (polls, load.poll_rate, SECONDS)
    # 429 here would be the app server's own per-client limit; never a 503 (not ready).
    assert set(load.poll_statuses) <= {200, 429}, load.poll_statuses
    assert load.poll_statuses[200] >= 0.9 * polls, load.poll_statuses
    assert not load.poll_reasons, load.poll_reasons
    assert load.upstream_429 == 0, f"the AI server answered 429 {load.upstream_429} times"
    busy = [o for o in load.outcomes if "llm_busy" in o.detail]
    assert not busy, busy[:3]

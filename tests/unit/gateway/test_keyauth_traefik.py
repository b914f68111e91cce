"""The keyauth plugin in the real Traefik (3.7, .venv/bin/traefik): per-client keys, scopes,
reloads, access log and metrics, against a backend that records what reaches it."""

import base64
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from keyauth_gateway import (
    CLIENT_HEADER,
    Backend,
    Client,
    Gateway,
    basic,
    digest,
    dynamic_config,
    lines,
    write_yaml,
)
from prometheus_client.parser import text_string_to_metric_families

ALICE = Client(
    "alice",
    keys=("alice-key-0123456789abcdef0123456789abcdef", "alice-new-0123456789abcdef0123456789abc"),
)
BOB = Client(
    "bob", keys=("bob-key-0123456789abcdef0123456789abcdef01",), scopes=("inference", "models")
)
# Allowed only from a documentation network the tests never use.
CAROL = Client(
    "carol", keys=("carol-key-0123456789abcdef0123456789abcdef",), allowed_from=("192.0.2.0/24",)
)
# One request a minute, from any loopback address.
DAVE = Client(
    "dave",
    keys=("dave-key-0123456789abcdef0123456789abcdef0",),
    allowed_from=("127.0.0.0/8",),
    rate_limit=(1, 1, "1m"),
)
CLIENTS = [ALICE, BOB, CAROL, DAVE]


def bearer(client: Client, index: int = 0) -> dict[str, str]:
    return {"Authorization": f"Bearer {client.keys[index]}"}


@pytest.fixture
def backend() -> Iterator[Backend]:
    with Backend() as server:
        yield server


def start(tmp_path: Path, clients: list[Client], backend: Backend, **options: list[str]) -> Gateway:
    gateway = Gateway(tmp_path)
    gateway.start(dynamic_config(clients, backend.url), **options)
    return gateway


@pytest.fixture
def gateway(tmp_path: Path, backend: Backend) -> Iterator[Gateway]:
    """Traefik serving CLIENTS, ready once alice's key opens /api/version."""
    running = start(tmp_path, CLIENTS, backend)
    try:
        running.wait_status("/api/version", bearer(ALICE), 200, timeout_s=60)
        backend.seen.clear()
        yield running
    finally:
        running.stop()


def test_plugin_loads_and_a_request_without_key_gets_401(
    gateway: Gateway, backend: Backend
) -> None:
    loaded = [e for e in gateway.log() if e.get("message") == "Plugins loaded."]
    assert [e["plugins"] for e in loaded] == [["keyauth"]]
    response = httpx.post(f"{gateway.url}/api/chat", json={})
    assert response.status_code == 401
    challenges = response.headers.get_list("WWW-Authenticate")
    assert 'Basic realm="tradia-ai"' in challenges
    assert 'Bearer realm="tradia-ai"' in challenges
    assert response.json() == {"error": "unauthorized"}
    assert backend.seen == []


@pytest.mark.parametrize(
    "authorization",
    [
        f"Bearer {ALICE.keys[0]}x",
        basic("api", "not-a-key-0123456789abcdef0123456789abcdef"),
        # A real key under another client's name.
        basic("bob", ALICE.keys[0]),
        # What the configuration holds is no key.
        f"Bearer {digest(ALICE.keys[0])}",
    ],
    ids=["wrong-bearer", "wrong-basic", "other-clients-name", "digest-as-key"],
)
def test_a_wrong_key_gets_401(gateway: Gateway, backend: Backend, authorization: str) -> None:
    response = httpx.post(
        f"{gateway.url}/api/chat", json={}, headers={"Authorization": authorization}
    )
    assert response.status_code == 401
    assert backend.seen == []


@pytest.mark.parametrize(
    "authorization",
    [
        f"Bearer {ALICE.keys[0]}",
        basic("api", ALICE.keys[0]),
        basic("alice", ALICE.keys[0]),
        f"Bearer {ALICE.keys[1]}",
    ],
    ids=["bearer", "basic-api", "basic-own-name", "second-key"],
)
def test_a_key_names_its_client_and_never_reaches_the_backend(
    gateway: Gateway, backend: Backend, authorization: str
) -> None:
    # A forged name must be replaced by the key's owner, not kept beside it.
    headers = {"Authorization": authorization, CLIENT_HEADER: "bob"}
    response = httpx.post(f"{gateway.url}/api/chat", json={}, headers=headers)
    assert response.status_code == 200, response.text
    [seen] = backend.seen
    assert "authorization" not in seen.headers
    assert seen.clients == ["alice"]


def test_a_path_outside_the_clients_scopes_gets_403_without_the_backend(
    gateway: Gateway, backend: Backend
) -> None:
    response = httpx.post(f"{gateway.url}/api/pull", json={}, headers=bearer(ALICE))
    assert response.status_code == 403
    assert response.json() == {"error": "this client may not use /api/pull"}
    assert backend.seen == []
    # The same path is open to a client with the models scope.
    response = httpx.post(f"{gateway.url}/api/pull", json={}, headers=bearer(BOB))
    assert response.status_code == 200
    assert [(s.path, s.clients) for s in backend.seen] == [("/api/pull", ["bob"])]


def test_allow_list_and_rate_limit_apply_per_client(gateway: Gateway, backend: Backend) -> None:
    carol = httpx.get(f"{gateway.url}/api/version", headers=bearer(CAROL))
    assert carol.status_code == 403
    # From two source addresses: the bucket is the client's, not the address's.
    statuses = []
    for source in ("127.0.0.1", "127.0.0.2"):
        with httpx.Client(transport=httpx.HTTPTransport(local_address=source)) as client:
            statuses.append(
                client.get(f"{gateway.url}/api/version", headers=bearer(DAVE)).status_code
            )
    assert statuses == [200, 429]
    # dave's empty bucket is his alone.
    assert httpx.get(f"{gateway.url}/api/version", headers=bearer(ALICE)).status_code == 200
    assert [s.clients for s in backend.seen] == [["dave"], ["alice"]]


def test_a_reload_revokes_a_client_while_another_clients_stream_goes_on(
    gateway: Gateway, backend: Backend
) -> None:
    stream: dict[str, object] = {}

    def generate() -> None:
        with httpx.stream(
            "POST", f"{gateway.url}/api/generate", json={}, headers=bearer(BOB), timeout=60
        ) as response:
            stream["status"] = response.status_code
            stream["body"] = response.read().decode()

    reader = threading.Thread(target=generate)
    reader.start()
    assert backend.streaming.wait(30), "bob's stream never reached the backend"

    write_yaml(gateway.dynamic_file, dynamic_config([BOB, CAROL, DAVE], backend.url))
    gateway.wait_status("/api/version", bearer(ALICE), 401, timeout_s=30)
    assert reader.is_alive(), "bob's stream ended before the reload took effect"

    backend.release.set()
    reader.join(30)
    assert stream["status"] == 200
    chunks = list(lines(str(stream["body"])))
    assert chunks[-1]["done"] is True
    assert len(chunks) == chunks[-1]["chunks"] + 1
    # bob's key still opens new requests after the reload.
    assert httpx.get(f"{gateway.url}/api/version", headers=bearer(BOB)).status_code == 200


def test_the_access_log_names_the_client_and_holds_no_key(gateway: Gateway) -> None:
    key = ALICE.keys[0]
    for headers in (
        {"Authorization": f"Bearer {key}"},
        {"Authorization": basic("api", key)},
        {"Authorization": basic("alice", key)},
        # Refused: the forged name must not reach the log either.
        {"Authorization": f"Bearer {key}x", CLIENT_HEADER: "bob"},
    ):
        httpx.post(f"{gateway.url}/api/chat", json={}, headers=headers)
    gateway.stop()  # flushes the log

    log = gateway.access_log.read_text()
    for secret in (
        key,
        base64.b64encode(f"api:{key}".encode()).decode(),
        base64.b64encode(f"alice:{key}".encode()).decode(),
    ):
        assert secret not in log
    entries = [e for e in gateway.access_entries() if e["RequestPath"] == "/api/chat"]
    named = [(e["DownstreamStatus"], e.get(f"request_{CLIENT_HEADER}")) for e in entries]
    assert named == [(200, "alice")] * 3 + [(401, None)]


def client_router_totals(gateway: Gateway) -> dict[tuple[str, str], float]:
    """Each client router's counters (summed over their other labels), by (metric, client)."""
    totals: dict[tuple[str, str], float] = {}
    for family in text_string_to_metric_families(httpx.get(gateway.metrics_url).text):
        for sample in family.samples:
            router = sample.labels.get("router", "")
            client = router.removeprefix("ollama-client-").removesuffix("@file")
            if router.startswith("ollama-client-") and "-" not in client:
                key = (sample.name, client)
                totals[key] = totals.get(key, 0) + sample.value
    return totals


def test_metrics_count_requests_and_bytes_per_client(gateway: Gateway) -> None:
    before = client_router_totals(gateway)
    for client, count in ((ALICE, 3), (BOB, 1)):
        for _ in range(count):
            httpx.post(f"{gateway.url}/api/chat", json={"pad": "x" * 100}, headers=bearer(client))
    after = client_router_totals(gateway)

    def grew(name: str, client: str) -> float:
        return after[(name, client)] - before.get((name, client), 0)

    assert grew("traefik_router_requests_total", "alice") == 3
    assert grew("traefik_router_requests_total", "bob") == 1
    for name in ("traefik_router_requests_bytes_total", "traefik_router_responses_bytes_total"):
        assert grew(name, "alice") > grew(name, "bob") > 0


def test_an_entrypoint_middleware_runs_after_routing(tmp_path: Path, backend: Backend) -> None:
    """Why the routers are layered (parentRefs): with keyauth as an entrypoint middleware, a
    router matching X-Tradia-Client never sees the header the plugin sets."""
    config = dynamic_config([ALICE], backend.url)
    config["http"]["routers"] = {
        "alice": {
            "entryPoints": ["ollama"],
            "rule": f"Header(`{CLIENT_HEADER}`, `alice`)",
            "service": "ollama",
        }
    }
    gateway = Gateway(tmp_path)
    gateway.start(config, entrypoint_middlewares=["ollama-keyauth@file"])
    try:
        # The forged header routes, and only then does the plugin refuse the missing key...
        gateway.wait_status("/api/version", {CLIENT_HEADER: "alice"}, 401, timeout_s=60)
        # ...while a good key alone matches no router.
        assert httpx.get(f"{gateway.url}/api/version", headers=bearer(ALICE)).status_code == 404
    finally:
        gateway.stop()

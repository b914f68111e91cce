"""Issue 16: the AI server's port 11434 as a gateway for named API clients. molecule.yml's
inventory adds two clients beside the app servers, both allowed from the controller only (the
lab bridge's gateway): `automation` and `retired` (a small rate limit; removed and restored by
the revocation test). The official Ollama and OpenAI clients run here, on the controller, as an
automation tool would; the app servers' key is used from the app server, the `local` client's
from the AI host itself.

The revocation test reruns the AI play twice (without `retired`, then as the inventory says):
the tests after it find the lab converged."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import tarfile
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import ollama
import openai
import pytest
import testinfra
from lab import write_file
from prometheus_client.parser import text_string_to_metric_families

from conftest import (
    API_KEY,
    CURL_TIMED_OUT,
    LOCAL_CLIENT_KEY,
    MODEL,
    base64_credentials,
    clear_ai_fault,
    curl_ai,
    curl_ai_exit,
    curl_ai_locally,
    inventory_vars,
    run_playbook,
    set_ai_fault,
    wait_until,
)

PORT = 11434
CLIENT_FIELD = "request_X-Tradia-Client"  # the access log's field for the client's name
METRICS = "http://127.0.0.1:8082/metrics"
# In the simulator's catalog but not in the lab's store: were a refused pull to reach Ollama,
# the model would appear.
UNWANTED_MODEL = "llama3.1:8b"
# How long the revocation test's stream lasts: longer than the AI play takes to reach its
# routes file (it installs nothing new on a converged host).
STREAM_SECONDS = 120
LONG_PROMPT = "Write a long story about a lighthouse keeper and a storm, in many paragraphs."

# From molecule.yml's inventory: the tests hold no copy of a key.
CLIENTS: list[dict[str, Any]] = inventory_vars("ai_servers")["ai_server_api_clients"]
KEYS: dict[str, str] = {client["name"]: client["key"] for client in CLIENTS}


def _eth0_address(host: testinfra.host.Host) -> str:
    return host.check_output("ip -4 -o addr show dev eth0").split()[3].split("/")[0]


@pytest.fixture(scope="module")
def ca_pem(ai_server: testinfra.host.Host) -> str:
    return ai_server.file("/etc/tradia/ai/tls/ca.crt").content_string


@pytest.fixture(scope="module")
def ai_ca_file(ca_pem: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("ai-ca") / "ca.crt"
    path.write_text(ca_pem)
    return str(path)


@pytest.fixture(scope="module")
def ai_url(ai_server: testinfra.host.Host) -> str:
    """The AI server by address (the controller's resolver does not know the lab's names; the
    certificate has the address among its names)."""
    return f"https://{_eth0_address(ai_server)}:{PORT}"


def _as(
    client: str, ai_url: str, ai_ca_file: str, timeout: httpx.Timeout | float = 60
) -> httpx.Client:
    """An HTTPS client on the controller with `client`'s key (Basic, user = the client's name)."""
    return httpx.Client(
        base_url=ai_url, verify=ai_ca_file, auth=(client, KEYS[client]), timeout=timeout
    )


def _curl(
    on: testinfra.host.Host, ca_pem: str, method: str, path: str, *args: str
) -> tuple[str, str]:
    """(HTTP status, body) of one request to the AI server from a lab host."""
    write_file(on, "/tmp/tradia/ca.crt", ca_pem)
    result = on.run(
        "curl -s -X %s --max-time 60 --cacert /tmp/tradia/ca.crt -w %s" + " %s" * len(args) + " %s",
        method,
        "\\n%{http_code}",
        *args,
        f"https://ai-server:{PORT}{path}",
    )
    body, _, status = result.stdout.rpartition("\n")
    return status, body


def _models(app_server: testinfra.host.Host, ca_pem: str) -> set[str]:
    status, body = _curl(app_server, ca_pem, "GET", "/api/tags", "-u", f"api:{API_KEY}")
    assert status == "200", (status, body)
    return {model["name"] for model in json.loads(body)["models"]}


def test_the_official_clients_stream_from_the_controller(ai_url, ai_ca_file):
    # The Ollama client with Basic auth (its auth= goes to httpx), the OpenAI client with a
    # Bearer key: what automation tools use.
    message = [{"role": "user", "content": "Name three colours and say why you like them."}]
    with ollama.Client(
        host=ai_url, auth=("automation", KEYS["automation"]), verify=ai_ca_file, timeout=120
    ) as client:
        chunks = list(
            client.chat(model=MODEL, messages=message, stream=True, options={"num_predict": 32})
        )
    assert len(chunks) >= 3, chunks
    assert chunks[-1].done is True, chunks[-1]
    assert "".join(chunk.message.content or "" for chunk in chunks).strip()

    with httpx.Client(verify=ai_ca_file, timeout=120) as http:
        client = openai.OpenAI(
            base_url=f"{ai_url}/v1", api_key=KEYS["automation"], http_client=http
        )
        stream = client.chat.completions.create(
            model=MODEL, messages=message, stream=True, max_tokens=32
        )
        pieces = [
            c.choices[0].delta.content for c in stream if c.choices and c.choices[0].delta.content
        ]
    assert len(pieces) >= 2, pieces


def test_the_app_servers_key_infers_but_cannot_manage_models(app_server, ca_pem):
    auth = ("-u", f"api:{API_KEY}")
    assert _curl(app_server, ca_pem, "GET", "/api/version", *auth)[0] == "200"
    before = _models(app_server, ca_pem)
    assert MODEL in before, before
    assert UNWANTED_MODEL not in before, before

    pull = json.dumps({"model": UNWANTED_MODEL, "stream": False})
    status, body = _curl(app_server, ca_pem, "POST", "/api/pull", *auth, "-d", pull)
    assert (status, json.loads(body)) == ("403", {"error": "this client may not use /api/pull"})
    delete = json.dumps({"model": MODEL})
    status, body = _curl(app_server, ca_pem, "DELETE", "/api/delete", *auth, "-d", delete)
    assert (status, json.loads(body)) == ("403", {"error": "this client may not use /api/delete"})
    # Neither reached Ollama: nothing was pulled, nothing deleted.
    assert _models(app_server, ca_pem) == before


def test_the_local_client_manages_models_from_the_ai_host(ai_server):
    key_file = ai_server.file(LOCAL_CLIENT_KEY)
    assert (key_file.user, key_file.mode) == ("root", 0o600)
    pull = json.dumps({"model": MODEL, "stream": False})
    assert curl_ai_locally(ai_server, "/api/pull", "-X", "POST", "-d", pull) == (0, "200")
    assert curl_ai_locally(ai_server, "/api/tags") == (0, "200")


def test_a_key_counts_only_from_its_clients_sources(
    outsider, app_server, ca_pem, ai_url, ai_ca_file
):
    # Outside every client's sources the firewall drops the connection, whatever the key.
    automation = ("-u", f"automation:{KEYS['automation']}")
    assert curl_ai_exit(outsider, ca_pem, *automation) == (CURL_TIMED_OUT, "000")
    # Inside the firewall's union, a key used from another client's source: Traefik's 403.
    assert curl_ai(app_server, ca_pem, *automation) == "403"
    with httpx.Client(base_url=ai_url, verify=ai_ca_file, timeout=60) as http:
        assert http.get("/api/tags", auth=("api", API_KEY)).status_code == 403
        assert http.get("/api/tags", auth=("automation", KEYS["automation"])).status_code == 200


def test_a_missing_or_wrong_key_is_refused_and_bearer_equals_basic(
    app_server, ca_pem, ai_url, ai_ca_file
):
    with httpx.Client(base_url=ai_url, verify=ai_ca_file, timeout=60) as http:
        missing = http.get("/api/tags")
        assert missing.status_code == 401
        assert "Basic" in missing.headers["www-authenticate"], missing.headers
        assert http.get("/api/tags", auth=("api", "wrong-" + KEYS["automation"])).status_code == 401
        # Basic's user is `api` or the key's own client, no other client's name.
        assert http.get("/api/tags", auth=("retired", KEYS["automation"])).status_code == 401
        bearer = {"Authorization": f"Bearer {KEYS['automation']}"}
        assert http.get("/api/tags", headers=bearer).status_code == 200
    assert curl_ai(app_server, ca_pem, "-H", f"Authorization: Bearer {API_KEY}") == "200"
    assert curl_ai(app_server, ca_pem, "-u", f"api:{API_KEY}") == "200"


async def _burst(ai_url: str, ai_ca_file: str, client: str, count: int) -> list[int]:
    """The statuses of `count` GET /api/version sent at once with `client`'s key over one
    HTTP/2 connection (opened first, without a key, so that no handshake spreads them out)."""
    async with httpx.AsyncClient(
        base_url=ai_url, verify=ai_ca_file, http2=True, timeout=60
    ) as http:
        assert (await http.get("/api/version")).status_code == 401
        auth = (client, KEYS[client])
        responses = await asyncio.gather(
            *(http.get("/api/version", auth=auth) for _ in range(count))
        )
    return [response.status_code for response in responses]


def test_each_client_has_its_own_rate_limit(ai_url, ai_ca_file):
    retired = asyncio.run(_burst(ai_url, ai_ca_file, "retired", 10))
    assert set(retired) == {200, 429}, retired  # its burst of 2 served, the rest refused
    # automation's bucket (the default 100) is its own: the same burst right after, all served.
    assert asyncio.run(_burst(ai_url, ai_ca_file, "automation", 10)) == [200] * 10


def test_metrics_count_each_clients_requests_on_the_ai_host_only(ai_server, outsider):
    listeners = ai_server.check_output("ss -Hltn 'sport = :8082'").splitlines()
    assert {line.split()[3] for line in listeners} == {"127.0.0.1:8082"}, listeners
    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(
        ai_server.check_output("curl -sf --max-time 10 %s", METRICS)
    ):
        for sample in family.samples:
            if sample.labels.get("router") == "ollama-client-automation@file":
                totals[sample.name] = totals.get(sample.name, 0) + sample.value
    for name in (
        "traefik_router_requests_total",
        "traefik_router_requests_bytes_total",
        "traefik_router_responses_bytes_total",
    ):
        assert totals.get(name, 0) > 0, (name, totals)
    # Not from the network: nothing listens there, or the firewall drops it.
    probe = outsider.run("curl -s -o /dev/null --max-time 5 http://ai-server:8082/metrics")
    assert probe.rc in (7, CURL_TIMED_OUT), (probe.rc, probe.stdout)


class _Stream(threading.Thread):
    """A streamed /api/generate with automation's key, each line timed as it arrives."""

    def __init__(self, ai_url: str, ai_ca_file: str, request: dict[str, Any]) -> None:
        super().__init__(daemon=True)
        self.ai_url, self.ai_ca_file, self.request = ai_url, ai_ca_file, request
        self.status: int | None = None
        self.lines: list[tuple[float, dict[str, Any]]] = []
        self.failure: str | None = None

    def run(self) -> None:
        try:
            timeout = httpx.Timeout(30, read=120)
            with (
                _as("automation", self.ai_url, self.ai_ca_file, timeout=timeout) as http,
                http.stream("POST", "/api/generate", json=self.request) as response,
            ):
                self.status = response.status_code
                for line in response.iter_lines():
                    if line:
                        self.lines.append((time.monotonic(), json.loads(line)))
        except httpx.HTTPError as error:  # a cut stream is a failure, not an end
            self.failure = repr(error)


class _RevocationWatch(threading.Thread):
    """When retired's key is first refused (401), polled within its rate limit."""

    def __init__(self, ai_url: str, ai_ca_file: str) -> None:
        super().__init__(daemon=True)
        self.ai_url, self.ai_ca_file = ai_url, ai_ca_file
        self.stop = threading.Event()
        self.revoked_at: float | None = None

    def run(self) -> None:
        with _as("retired", self.ai_url, self.ai_ca_file) as http:
            while not self.stop.wait(2):
                try:
                    if http.get("/api/version").status_code == 401:
                        self.revoked_at = time.monotonic()
                        return
                except httpx.HTTPError:
                    pass  # a refused connection is no revocation: keep polling


def _started_at(ai_server: testinfra.host.Host) -> str:
    return ai_server.check_output(
        "docker inspect -f '{{.Name}} {{.State.StartedAt}}' tradia-ai-traefik tradia-ollama"
    )


@pytest.fixture
def clients_restored(ai_server: testinfra.host.Host) -> Iterator[None]:
    """The inventory's clients again afterwards (and no fault left), so that later tests find
    the lab as converged."""
    yield
    clear_ai_fault(ai_server)
    run = run_playbook("ai_server.yml")
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]


@pytest.mark.slow
@pytest.mark.usefixtures("clients_restored")
def test_a_removed_client_is_refused_while_another_clients_stream_goes_on(
    ai_server, ai_url, ai_ca_file, tmp_path
):
    started = _started_at(ai_server)
    request = {
        "model": MODEL,
        "prompt": LONG_PROMPT,
        "options": {"num_predict": 400, "temperature": 0, "seed": 7},
    }
    # The request once at full speed: how many lines it streams (greedy decoding gives the same
    # answer again), so that the simulator spreads them over STREAM_SECONDS below.
    measure = _Stream(ai_url, ai_ca_file, request)
    measure.run()
    assert (measure.status, measure.failure) == (200, None)
    lines = len(measure.lines)
    assert lines >= 20, f"the model stopped after {lines} lines: the stream would be too short"
    delay = round(STREAM_SECONDS / lines, 2)
    set_ai_fault(ai_server, json.dumps({"kind": "slow_tokens", "delay": delay, "count": 1}))

    stream = _Stream(ai_url, ai_ca_file, request)
    stream.start()
    wait_until(lambda: len(stream.lines) >= 2, "automation's stream under way", 60)
    watch = _RevocationWatch(ai_url, ai_ca_file)
    watch.start()
    # The inventory's clients but `retired`, as an administrator edits them.
    without_retired = tmp_path / "clients.json"
    without_retired.touch(mode=0o600)
    without_retired.write_text(
        json.dumps({"ai_server_api_clients": [c for c in CLIENTS if c["name"] != "retired"]})
    )
    try:
        run = run_playbook("ai_server.yml", "-e", f"@{without_retired}")
    finally:
        watch.stop.set()
        watch.join(30)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]

    with _as("retired", ai_url, ai_ca_file) as http:
        assert http.get("/api/version").status_code == 401
    assert watch.revoked_at is not None, "retired's key was never refused during the play"
    assert stream.lines[0][0] < watch.revoked_at, "the stream began after the revocation"
    assert stream.is_alive() or stream.lines[-1][0] > watch.revoked_at, (
        f"automation's stream ended before the revocation: raise STREAM_SECONDS ({lines} lines)"
    )
    stream.join(STREAM_SECONDS + 120)
    assert not stream.is_alive(), "automation's stream never ended"
    assert stream.failure is None, stream.failure
    assert stream.status == 200
    assert stream.lines[-1][1]["done"] is True, stream.lines[-1]
    # Traefik reloaded its routes file: neither container was restarted.
    assert _started_at(ai_server) == started


def _etc_tradia(ai_server: testinfra.host.Host) -> dict[str, str]:
    """Every file under /etc/tradia on the AI host, by path, read on the controller (the
    secrets never go into a command on the host)."""
    archive = base64.b64decode(ai_server.check_output("tar -C / -czf - etc/tradia | base64 -w0"))
    files = {}
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        for member in tar.getmembers():
            content = tar.extractfile(member) if member.isfile() else None
            if content is not None:
                files["/" + member.name] = content.read().decode(errors="replace")
    return files


def test_no_key_in_the_logs_or_the_configuration(ai_server):
    secrets = {
        f"{name}'s key{form}": value
        for name, key in (*KEYS.items(), ("app-servers", API_KEY))
        for form, value in (
            ("", key),
            (" as Basic api:", base64_credentials("api", key)),
            (f" as Basic {name}:", base64_credentials(name, key)),
        )
    }
    # The journal first: any later command on the host is recorded there too.
    journal = ai_server.run("journalctl --no-pager -q")
    assert journal.rc == 0, journal.stderr
    assert "dockerd" in journal.stdout, "the AI host's journal holds no dockerd entry"
    traefik = ai_server.run("docker logs tradia-ai-traefik")
    assert traefik.rc == 0, traefik.stderr
    log = traefik.stdout + traefik.stderr
    files = _etc_tradia(ai_server)
    local_key = files[LOCAL_CLIENT_KEY].strip()
    for what, value in secrets.items():
        assert value not in journal.stdout, f"{what} is in the AI host's journal"
        assert value not in log, f"{what} is in Traefik's logs"
        holding = [path for path, text in files.items() if value in text]
        assert holding == [], f"{what} is in {holding}"
    assert len(local_key) >= 32, "the local client's key is short"

    # Traefik's routes hold the digests instead: the files read above are its configuration.
    digests = [hashlib.sha256(key.encode()).hexdigest() for key in (*KEYS.values(), API_KEY)]
    for digest in digests:
        assert any(digest in text for text in files.values()), "a client's digest is missing"
    # The access log names the client (and never sends its Authorization header to the log).
    entries = [json.loads(line) for line in log.splitlines() if line.startswith('{"')]
    named = [e for e in entries if e.get(CLIENT_FIELD) == "automation"]
    assert any(e.get("DownstreamStatus") == 200 for e in named), "automation not in the log"
    assert not any("request_Authorization" in e for e in entries)
    # ...served from the address molecule.yml's subnet gives the controller, which its clients
    # are allowed from (its key from the app server was named too, and refused: 403).
    controller = CLIENTS[0]["allowed_from"][0].removesuffix("/32")
    served = {e["ClientHost"] for e in named if e.get("DownstreamStatus") == 200}
    assert served == {controller}, served
    refused = {e["ClientHost"] for e in named if e.get("DownstreamStatus") == 403}
    assert refused, "automation's key from the app server is not in the log as refused"
    assert controller not in refused, refused

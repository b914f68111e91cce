"""Document jobs over HTTP: created at once, followed and picked up again, downloaded by their
owner only, cancelled, expired, and resumed after the app restarts without sending a segment
twice.

The AI server is the simulator; a test double at the LLMService boundary (OllamaClient's
chat_stream) records every request and holds them on demand, so a job can be caught midway
without depending on timing.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from tradia.jobs.models import JobEvent
from tradia.jobs.store import JobStore
from tradia.state import AppState
from tradia.stream_client import parse_event
from tradia.upstream.ollama_client import ChatOutcome, ChatRequest, OllamaClient
from tradia_testkit import ServerThread, Simulator, make_settings, of_type, stream_events

JOBS = "/api/documents/jobs"
PARAGRAPHS = [f"Paragraphe numéro {n} du rapport." for n in range(1, 7)]
REPORT = "\n\n".join(PARAGRAPHS).encode() + b"\n"


def last_user(request: ChatRequest) -> str:
    return [m for m in request.messages if m["role"] == "user"][-1]["content"]


class Upstream:
    """Records what reaches the AI server and lets `budget` requests through (None: all); the
    others wait at the door until the budget is raised."""

    def __init__(self) -> None:
        self.requests: list[ChatRequest] = []
        self.answered: list[str] = []
        self.budget: int | None = None

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        original = OllamaClient.chat_stream
        double = self

        async def chat_stream(
            client: OllamaClient, request: ChatRequest
        ) -> AsyncIterator[str | ChatOutcome]:
            double.requests.append(request)
            # Polled: the test's thread changes the budget, not the app's event loop.
            while double.budget is not None and double.budget <= 0:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
            if double.budget is not None:
                double.budget -= 1
            async for item in original(client, request):
                if isinstance(item, ChatOutcome):
                    # The last item: the caller stops reading once it has it.
                    double.answered.append(last_user(request))
                yield item

        monkeypatch.setattr(OllamaClient, "chat_stream", chat_stream)

    def sent(self) -> list[str]:
        return [last_user(r) for r in self.requests]


@pytest.fixture
def upstream(monkeypatch: pytest.MonkeyPatch) -> Upstream:
    double = Upstream()
    double.install(monkeypatch)
    return double


class App:
    def __init__(self, server: ServerThread, client: httpx.Client) -> None:
        self.server = server
        self.client = client

    @property
    def state(self) -> AppState:
        return self.server.app.state.tradia


@contextmanager
def serving(sim: Simulator, jobs_dir: Path, **overrides: Any) -> Iterator[App]:
    server = ServerThread(make_settings(sim.url, TRADIA_JOBS_DIR=str(jobs_dir), **overrides))
    with server as url, httpx.Client(base_url=url, timeout=30) as client:
        yield App(server, client)


def wait_until(check: Callable[[], Any], timeout: float = 15) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def as_user(name: str) -> dict[str, str]:
    return {"X-Forwarded-User": name}


def create(
    client: httpx.Client,
    files: list[tuple[str, bytes]] | None = None,
    user: str = "alice",
    **form: str,
) -> httpx.Response:
    files = files or [("rapport.txt", REPORT)]
    return client.post(
        JOBS,
        data={"target": "en", **form},
        files=[("files", (name, data, "application/octet-stream")) for name, data in files],
        headers=as_user(user),
    )


def job(client: httpx.Client, job_id: str, user: str = "alice") -> dict[str, Any]:
    response = client.get(f"{JOBS}/{job_id}", headers=as_user(user))
    assert response.status_code == 200, response.text
    return response.json()


def finished(client: httpx.Client, job_id: str) -> dict[str, Any]:
    def ended() -> dict[str, Any] | None:
        body = job(client, job_id)
        return body if body["state"] not in ("queued", "running") else None

    return wait_until(ended)


def follow(client: httpx.Client, job_id: str, user: str = "alice") -> list[dict[str, Any]]:
    """Every line of the job's event stream, each checked against its model."""
    events = []
    with client.stream("GET", f"{JOBS}/{job_id}/events", headers=as_user(user)) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/x-ndjson"
        for line in response.iter_lines():
            data = json.loads(line)
            if data["type"] == "job":
                JobEvent.model_validate(data)
            else:
                assert data["type"] in ("documents", "queued", "progress", "file_done")
                parse_event(line)
            events.append(data)
    return events


def streamed_result(client: httpx.Client, files: list[tuple[str, bytes]]) -> bytes:
    events = stream_events(
        client,
        "/api/documents/translate",
        data={"target": "en"},
        files=[("files", (name, data, "application/octet-stream")) for name, data in files],
    )
    return base64.b64decode(of_type(events, "download")[0]["data_base64"])


def test_job_is_created_at_once_then_runs_to_its_result(
    sim: Simulator, upstream: Upstream, tmp_path: Path
) -> None:
    upstream.budget = 0
    with serving(sim, tmp_path / "jobs") as app:
        response = create(app.client)
        assert response.status_code == 202, response.text
        created = response.json()
        job_id = created["id"]
        assert len(job_id) >= 22
        assert response.headers["location"] == f"{JOBS}/{job_id}"
        # Nothing translated yet: the answer did not wait for the AI server.
        assert created["done"] == 0
        assert created["state"] in ("queued", "running")
        assert created["files"][0]["name"] == "rapport.txt"
        assert created["expires_at"] is None
        listed = app.client.get(JOBS, headers=as_user("alice")).json()["jobs"]
        assert [j["id"] for j in listed] == [job_id]
        early = app.client.get(f"{JOBS}/{job_id}/result", headers=as_user("alice"))
        assert early.status_code == 409
        assert early.json()["error"] == "job_not_finished"
        wait_until(lambda: job(app.client, job_id)["total"] == len(PARAGRAPHS))
        upstream.budget = None
        events = follow(app.client, job_id)
        final = events[-1]["job"]
        assert final["state"] == "done"
        assert final["done"] == final["total"] == len(PARAGRAPHS)
        assert final["files"][0] | {"failed_segments": None} == final["files"][0] | {
            "state": "done",
            "done": len(PARAGRAPHS),
            "segments": len(PARAGRAPHS),
            "output": "rapport.en.txt",
            "error": None,
            "failed_segments": None,
        }
        assert final["result"]["filename"] == "rapport.en.txt"
        assert final["expires_at"] is not None
        result = app.client.get(f"{JOBS}/{job_id}/result", headers=as_user("alice"))
        assert result.status_code == 200
        assert result.headers["content-type"].startswith("text/plain")
        assert 'filename="rapport.en.txt"' in result.headers["content-disposition"]
        assert result.headers["content-disposition"].startswith("attachment")
        assert len(result.content) == final["result"]["size"]
        # The same bytes as the streamed endpoint gives for the same file.
        assert result.content == streamed_result(app.client, [("rapport.txt", REPORT)])
        assert result.content.decode().count("You wrote") == len(PARAGRAPHS)


def test_followers_pick_the_job_up_where_it_is(
    sim: Simulator, upstream: Upstream, tmp_path: Path
) -> None:
    upstream.budget = 2
    with serving(sim, tmp_path / "jobs") as app:
        job_id = create(app.client).json()["id"]
        first: list[dict[str, Any]] = []
        # One tab follows from the start...
        reader = threading.Thread(target=lambda: first.extend(follow(app.client, job_id)))
        reader.start()
        wait_until(lambda: job(app.client, job_id)["done"] == 2)
        # ...another (or the same after a reload) comes back midway.
        second: list[dict[str, Any]] = []
        late = threading.Thread(target=lambda: second.extend(follow(app.client, job_id)))
        late.start()
        wait_until(lambda: upstream.requests and len(upstream.requests) == 3)
        upstream.budget = None
        reader.join(30)
        late.join(30)
    snapshot = second[0]
    assert snapshot["type"] == "job"
    assert snapshot["job"]["done"] == 2
    assert snapshot["job"]["state"] == "running"
    assert [e["done"] for e in of_type(second, "progress")] == [3, 4, 5, 6]
    assert second[-1]["job"]["state"] == "done"
    assert first[0]["job"]["done"] == 0
    assert [e["done"] for e in of_type(first, "progress")] == [1, 2, 3, 4, 5, 6]
    assert of_type(first, "file_done")[0]["output"] == "rapport.en.txt"
    assert first[-1]["job"]["state"] == "done"
    assert first[-1]["job"]["result"] == second[-1]["job"]["result"]


def test_each_segment_carries_the_one_before_as_context(
    sim: Simulator, upstream: Upstream, tmp_path: Path
) -> None:
    with serving(sim, tmp_path / "jobs") as app:
        job_id = create(app.client).json()["id"]
        finished(app.client, job_id)
    first, second = upstream.requests[0].messages, upstream.requests[1].messages
    assert [m["role"] for m in first] == ["system", "user"]
    assert [m["role"] for m in second] == ["system", "user", "assistant", "user"]
    assert second[1]["content"] == PARAGRAPHS[0]
    assert second[2]["content"].startswith(f'You wrote: "{PARAGRAPHS[0]}"')
    assert second[3]["content"] == PARAGRAPHS[1]


def test_delete_cancels_and_withdraws_queued_generations(
    sim: Simulator, upstream: Upstream, tmp_path: Path
) -> None:
    upstream.budget = 0
    jobs_dir = tmp_path / "jobs"
    with serving(sim, jobs_dir, TRADIA_CONCURRENCY=1, TRADIA_JOB_CONCURRENCY=2) as app:
        holding = create(app.client).json()["id"]
        wait_until(lambda: len(upstream.requests) == 1)  # holds the only generation slot
        waiting = create(app.client, [("autre.txt", b"Un autre texte.\n")]).json()["id"]
        wait_until(lambda: job(app.client, waiting)["queue_position"] == 1)
        assert app.state.queue.waiting == 1
        response = app.client.delete(f"{JOBS}/{waiting}", headers=as_user("alice"))
        assert response.status_code == 204
        assert app.state.queue.waiting == 0
        assert not (jobs_dir / waiting).exists()
        assert app.client.get(f"{JOBS}/{waiting}", headers=as_user("alice")).status_code == 404
        upstream.budget = None
        assert finished(app.client, holding)["state"] == "done"
    assert "Un autre texte." not in upstream.sent()


def test_another_user_gets_what_an_unknown_id_gets(
    sim: Simulator, upstream: Upstream, tmp_path: Path
) -> None:
    with serving(sim, tmp_path / "jobs") as app:
        job_id = create(app.client, user="alice").json()["id"]
        finished(app.client, job_id)
        unknown = "A" * 22
        for method, suffix in (
            ("GET", ""),
            ("GET", "/events"),
            ("GET", "/result"),
            ("DELETE", ""),
        ):
            theirs = app.client.request(method, f"{JOBS}/{job_id}{suffix}", headers=as_user("bob"))
            nobodys = app.client.request(
                method, f"{JOBS}/{unknown}{suffix}", headers=as_user("bob")
            )
            assert theirs.status_code == nobodys.status_code == 404, (method, suffix)
            assert theirs.json() == nobodys.json()
            assert theirs.json()["error"] == "job_not_found"
        assert app.client.get(JOBS, headers=as_user("bob")).json() == {"jobs": []}
        # Still there for its owner.
        assert app.client.get(f"{JOBS}/{job_id}/result", headers=as_user("alice")).is_success


@pytest.mark.parametrize(
    "job_id", ["..", "..%2F..%2Fetc", "A" * 21, "A" * 23, "AAAAAAAAAA.AAAAAAAAAAA"]
)
def test_malformed_id_is_not_found(
    sim: Simulator, upstream: Upstream, tmp_path: Path, job_id: str
) -> None:
    with serving(sim, tmp_path / "jobs") as app:
        response = app.client.get(f"{JOBS}/{job_id}/result", headers=as_user("alice"))
    assert response.status_code == 404
    assert response.json()["error"] in ("job_not_found", "not_found")


def test_unfinished_jobs_per_user_are_capped(
    sim: Simulator, upstream: Upstream, tmp_path: Path
) -> None:
    upstream.budget = 0
    with serving(sim, tmp_path / "jobs", TRADIA_MAX_JOBS_PER_USER=1) as app:
        first = create(app.client, user="alice")
        assert first.status_code == 202
        refused = create(app.client, user="alice")
        assert refused.status_code == 429
        assert refused.json()["error"] == "too_many_jobs"
        assert create(app.client, user="bob").status_code == 202
        upstream.budget = None
        finished(app.client, first.json()["id"])
        # Once it has ended, the next one is welcome.
        assert create(app.client, user="alice").status_code == 202


def test_finished_jobs_expire(sim: Simulator, upstream: Upstream, tmp_path: Path) -> None:
    jobs_dir = tmp_path / "jobs"
    retention_s = 1.0
    hours = str(retention_s / 3600)
    with serving(sim, jobs_dir, TRADIA_JOB_RETENTION_HOURS=hours) as app:
        swept = create(app.client).json()["id"]
        lazily = create(app.client).json()["id"]
        body = finished(app.client, lazily)
        finished(app.client, swept)
        expires = datetime.fromisoformat(body["expires_at"])
        updated = datetime.fromisoformat(body["updated_at"])
        assert (expires - updated).total_seconds() == pytest.approx(retention_s, abs=0.01)
        wait_until(lambda: time.time() > expires.timestamp() + 0.1)
        # Asked for after its expiry: gone, files and all.
        result = app.client.get(f"{JOBS}/{lazily}/result", headers=as_user("alice"))
        assert result.status_code == 404
        assert not (jobs_dir / lazily).exists()
    assert (jobs_dir / swept).exists()
    # Nobody asks for the other one: the start-up sweep deletes it.
    with serving(sim, jobs_dir, TRADIA_JOB_RETENTION_HOURS=hours):
        assert not (jobs_dir / swept).exists()


def test_restart_resumes_without_sending_a_segment_again(
    sim: Simulator, upstream: Upstream, tmp_path: Path
) -> None:
    jobs_dir = tmp_path / "jobs"
    upstream.budget = 3
    with serving(sim, jobs_dir) as app:
        job_id = create(app.client).json()["id"]
        wait_until(lambda: len(upstream.requests) == 4)  # the fourth waits at the door
        assert job(app.client, job_id)["done"] == 3
    before = list(upstream.answered)
    assert before == PARAGRAPHS[:3]
    assert json.loads((jobs_dir / job_id / "state.json").read_text())["job"]["state"] == "running"
    sent_before = len(upstream.requests)
    upstream.budget = None
    with serving(sim, jobs_dir) as app:
        body = finished(app.client, job_id)
        assert body["state"] == "done"
        assert body["done"] == len(PARAGRAPHS)
        result = app.client.get(f"{JOBS}/{job_id}/result", headers=as_user("alice")).content
        sent_after = upstream.sent()[sent_before:]
        assert result == streamed_result(app.client, [("rapport.txt", REPORT)])
    assert sent_after == PARAGRAPHS[3:]
    assert upstream.answered[: len(PARAGRAPHS)] == PARAGRAPHS
    # The fourth segment's context after the restart is the third, from its checkpoint.
    resumed = upstream.requests[sent_before].messages
    assert resumed[1]["content"] == PARAGRAPHS[2]
    assert resumed[2]["content"].startswith(f'You wrote: "{PARAGRAPHS[2]}"')


def test_restart_fails_a_job_whose_files_are_lost(
    sim: Simulator, upstream: Upstream, tmp_path: Path
) -> None:
    jobs_dir = tmp_path / "jobs"
    upstream.budget = 0
    with serving(sim, jobs_dir) as app:
        job_id = create(app.client).json()["id"]
        wait_until(lambda: len(upstream.requests) == 1)
    for path in (jobs_dir / job_id / "inputs").iterdir():
        path.unlink()
    upstream.budget = None
    with serving(sim, jobs_dir) as app:
        body = finished(app.client, job_id)
    assert body["state"] == "failed"
    assert body["error"]["code"] == "interrupted"
    assert "rapport.txt" in body["error"]["message"]
    assert body["files"][0]["state"] == "failed"


def test_store_refuses_ids_that_would_leave_its_directory(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs")
    store.prepare()
    victim = tmp_path / "victim"
    victim.mkdir()
    for job_id in ("../victim", "..", "A" * 21 + "/", "/tmp/x" + "A" * 16):
        with pytest.raises(ValueError, match="invalid job id"):
            store.delete(job_id)
        with pytest.raises(ValueError, match="invalid job id"):
            store.read_input(job_id, 0)
    assert victim.exists()


def test_a_jobs_dir_that_cannot_be_written_is_named_at_start(tmp_path: Path) -> None:
    # Not a permission test: the suite may run as root, which writes anywhere.
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(RuntimeError, match=r"TRADIA_JOBS_DIR .*a-file/jobs cannot hold"):
        JobStore(blocker / "jobs").prepare()


def test_formality_and_missing_terms_reach_the_job(
    sim: Simulator, upstream: Upstream, tmp_path: Path
) -> None:
    glossary = tmp_path / "glossary.csv"
    glossary.write_text("source,target,term,translation\nfr,de,rapport,Bericht\n", "utf-8")
    with serving(sim, tmp_path / "jobs", TRADIA_GLOSSARY_FILE=str(glossary)) as app:
        refused = create(app.client, target="en", formality="formal")
        assert refused.status_code == 422
        assert refused.json()["error"] == "formality_unsupported"
        created = create(app.client, target="de", source="fr", formality="informal").json()
        assert created["formality"] == "informal"
        body = finished(app.client, created["id"])
    system = upstream.requests[0].messages[0]["content"]
    assert '"du"' in system
    # The simulator echoes the French text: "Bericht" is missing from every segment.
    missing = body["files"][0]["terms_missing"]
    assert [m["segment"] for m in missing] == list(range(1, len(PARAGRAPHS) + 1))
    assert {(m["term"], m["expected"]) for m in missing} == {("rapport", "Bericht")}

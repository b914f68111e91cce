"""The typed contracts: stream events (api/events.py) as the client reads them and as
/openapi.json documents them, and the structured-output schemas sent as Ollama's `format`."""

from __future__ import annotations

import httpx
import pytest
from pydantic import BaseModel
from tradia.api.events import DoneEvent, ErrorEvent, MinutesResult, QueuedEvent
from tradia.main import create_app
from tradia.stream_client import StreamEventError, parse_event, parse_events
from tradia.tasks.correction import CorrectionAnswer, build_correction_request
from tradia.tasks.minutes import MinutesAnswer, build_minutes_request
from tradia.tasks.reformulation import TONES, ReformulationAnswer, build_reformulation_request
from tradia.upstream.ollama_client import ChatRequest, OllamaClient
from tradia_testkit import Simulator, make_settings

NDJSON = "application/x-ndjson"
TEXT = "Bonjour a tous, la reunion est demain a 9 h au 12 rue Victor Hugo."


@pytest.mark.parametrize(
    ("line", "names"),
    [
        ('{"type": "tokens", "text": "x"}', "unknown or missing 'type'"),
        ('{"text": "x"}', "unknown or missing 'type'"),
        ('{"type": "queued"}', "position"),
        ('{"type": "result", "title": "t", "summary": "s"}', "decisions"),
        ('{"type": "done", "done_reason": "stop", "truncated": false, "extra": 1}', "extra"),
        ('{"type": "error", "error": "disk_full", "message": "m"}', "error"),
    ],
)
def test_client_refuses_a_line_that_is_no_event(line: str, names: str) -> None:
    with pytest.raises(StreamEventError, match="not a Tradia stream event") as raised:
        parse_event(line)
    assert names in str(raised.value)


def test_client_reads_the_wire_format_into_the_models() -> None:
    queued, minutes, done, error = parse_events(
        '{"type":"queued","position":2,"file":"a.xml"}\n'
        '{"type":"result","title":"T","summary":"S","decisions":[],"actions":[],"markdown":"#"}\n'
        '{"type":"done","done_reason":"stop","truncated":false}\n'
        '{"type":"error","error":"llm_busy","message":"m"}\n'
    )
    assert queued == QueuedEvent(position=2, file="a.xml")
    assert isinstance(minutes, MinutesResult)
    assert isinstance(done, DoneEvent)
    assert done.stats is None
    assert isinstance(error, ErrorEvent)
    # Fields a stream does not carry stay off the line, as before the models.
    assert QueuedEvent(position=1).model_dump(mode="json") == {"type": "queued", "position": 1}
    assert "stats" not in done.model_dump(mode="json")


STREAMS = {
    "/api/translate": {"queued", "started", "detected", "token", "result", "done", "error"},
    "/api/correct": {"queued", "started", "token", "result", "done", "error"},
    "/api/reformulate": {"queued", "started", "token", "result", "done", "error"},
    "/api/minutes": {"queued", "started", "token", "result", "done", "error"},
    "/api/documents/translate": {
        "documents",
        "queued",
        "progress",
        "file_done",
        "download",
        "done",
        "error",
    },
}


def test_openapi_names_each_streaming_routes_events() -> None:
    schema = create_app(make_settings("http://127.0.0.1:9")).openapi()
    components = schema["components"]["schemas"]
    for path, kinds in STREAMS.items():
        content = schema["paths"][path]["post"]["responses"]["200"]["content"]
        assert list(content) == [NDJSON], (path, content)
        events = content[NDJSON]["schema"]
        assert set(events["discriminator"]["mapping"]) == kinds, path
        for ref in events["discriminator"]["mapping"].values():
            assert ref.rsplit("/", 1)[1] in components, ref


def _requests() -> list[tuple[ChatRequest, type[BaseModel]]]:
    return [
        (build_correction_request("llama3.1:8b", TEXT, "fr"), CorrectionAnswer),
        (build_reformulation_request("llama3.1:8b", TEXT, TONES[0], "en"), ReformulationAnswer),
        (build_minutes_request("llama3.1:8b", TEXT, [], "fr"), MinutesAnswer),
    ]


@pytest.mark.parametrize(("request_", "answer"), _requests())
def test_structured_format_is_the_answer_models_schema(
    sim: Simulator, request_: ChatRequest, answer: type[BaseModel]
) -> None:
    client = OllamaClient(httpx.AsyncClient(), make_settings(sim.url))
    body = client.chat_body(request_)
    assert body["format"] == answer.model_json_schema()
    # What the simulator generates for that schema is what the model parses.
    reply = httpx.post(f"{sim.url}/api/chat", json={**body, "stream": False}, timeout=30)
    reply.raise_for_status()
    answer.model_validate_json(reply.json()["message"]["content"])

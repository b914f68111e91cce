"""The browser-facing stream: NDJSON, one event per line, flushed as it happens.

Every stream ends with exactly one `done` or `error` event, so the UI can tell a complete
answer from a cut one.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi.responses import StreamingResponse

from tradia.api.events import DoneEvent, ErrorEvent, Event
from tradia.generation import Generation
from tradia.upstream.errors import ErrorKind, UpstreamError

log = logging.getLogger("tradia.stream")

STREAM_HEADERS = {
    "Cache-Control": "no-cache, no-transform",
    # Proxies that buffer by default (nginx) must pass each line through at once.
    "X-Accel-Buffering": "no",
}


NDJSON = "application/x-ndjson"


class NDJSONResponse(StreamingResponse):
    media_type = NDJSON


def document_streams(schema: dict[str, Any]) -> None:
    """Moves each streaming answer's event schema from application/json, where FastAPI writes a
    response model, to the application/x-ndjson entry the route declared empty."""
    for operation in (op for path in schema.get("paths", {}).values() for op in path.values()):
        for response in operation.get("responses", {}).values():
            content = response.get("content", {})
            if content.get(NDJSON) == {} and "application/json" in content:
                content[NDJSON] = content.pop("application/json")


def _line(event: Event) -> bytes:
    # json.dumps, not model_dump_json: the same bytes as ever (", " and ": " separators),
    # which clients that match substrings of a line rely on.
    return json.dumps(event.model_dump(mode="json"), ensure_ascii=False).encode("utf-8") + b"\n"


async def _encode(events: AsyncIterator[Event], task: str) -> AsyncIterator[bytes]:
    try:
        async for event in events:
            yield _line(event)
    except UpstreamError as exc:
        yield _line(ErrorEvent(error=exc.kind, message=exc.message))
    except Exception:
        log.exception("task_failed", extra={"task": task})
        yield _line(
            ErrorEvent(
                error=ErrorKind.GENERATION_FAILED,
                message="Tradia failed to process the answer. Try again.",
            )
        )


def ndjson_response(events: AsyncIterator[Event], task: str) -> NDJSONResponse:
    return NDJSONResponse(_encode(events, task), headers=STREAM_HEADERS)


def done_event(generation: Generation) -> DoneEvent:
    return DoneEvent(
        done_reason=generation.outcome.done_reason,
        truncated=generation.truncated,
        stats=generation.stats(),
    )


def require_text(generation: Generation) -> None:
    if not generation.text.strip():
        raise UpstreamError(
            ErrorKind.GENERATION_FAILED,
            "The AI server returned an empty answer"
            + (" (cut by the length limit)." if generation.truncated else ".")
            + " Try again.",
        )

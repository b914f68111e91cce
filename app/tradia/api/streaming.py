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

from tradia.generation import Event, Generation
from tradia.upstream.errors import ErrorKind, UpstreamError

log = logging.getLogger("tradia.stream")

STREAM_HEADERS = {
    "Cache-Control": "no-cache, no-transform",
    # Proxies that buffer by default (nginx) must pass each line through at once.
    "X-Accel-Buffering": "no",
}


def _line(event: dict[str, Any]) -> bytes:
    return json.dumps(event, ensure_ascii=False).encode("utf-8") + b"\n"


async def _encode(events: AsyncIterator[Event], task: str) -> AsyncIterator[bytes]:
    try:
        async for event in events:
            yield _line(event)
    except UpstreamError as exc:
        yield _line({"type": "error", **exc.to_dict()})
    except Exception:
        log.exception("task_failed", extra={"task": task})
        yield _line(
            {
                "type": "error",
                "error": ErrorKind.GENERATION_FAILED.value,
                "message": "Tradia failed to process the answer. Try again.",
            }
        )


def ndjson_response(events: AsyncIterator[Event], task: str) -> StreamingResponse:
    return StreamingResponse(
        _encode(events, task), media_type="application/x-ndjson", headers=STREAM_HEADERS
    )


def done_event(generation: Generation) -> Event:
    return {
        "type": "done",
        "done_reason": generation.outcome.done_reason,
        "truncated": generation.truncated,
        "stats": generation.stats(),
    }


def require_text(generation: Generation) -> None:
    if not generation.text.strip():
        raise UpstreamError(
            ErrorKind.GENERATION_FAILED,
            "The AI server returned an empty answer"
            + (" (cut by the length limit)." if generation.truncated else ".")
            + " Try again.",
        )

"""Reads Tradia's NDJSON streams as typed events (api/events.py): the one parser the app tests,
the molecule tests and bench share, so a change of the wire format breaks them all at once.

A line that is not one of the events raises StreamEventError naming the line: a client never
guesses at what it did not understand.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any, TypeVar

import httpx
from pydantic import TypeAdapter, ValidationError

from tradia.api.events import Event, StreamEvent

NDJSON = "application/x-ndjson"
_EVENTS: TypeAdapter[Event] = TypeAdapter(StreamEvent)
E = TypeVar("E", bound=Event)


class StreamEventError(ValueError):
    """A stream line that is not one of Tradia's events."""


def parse_event(line: str | bytes) -> Event:
    try:
        return _EVENTS.validate_json(line)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'line'}: {e['msg']}" for e in exc.errors()
        )
        shown = line if len(line) <= 200 else line[:200]
        raise StreamEventError(f"not a Tradia stream event ({problems}): {shown!r}") from exc


def iter_events(response: httpx.Response) -> Iterator[Event]:
    for line in response.iter_lines():
        if line.strip():
            yield parse_event(line)


async def aiter_events(response: httpx.Response) -> AsyncIterator[Event]:
    async for line in response.aiter_lines():
        if line.strip():
            yield parse_event(line)


def parse_events(text: str) -> list[Event]:
    """Every event of a stream already read whole."""
    return [parse_event(line) for line in text.splitlines() if line.strip()]


def post_events(client: httpx.Client, path: str, **kwargs: Any) -> list[Event]:
    """POSTs to a streaming route and reads the whole stream; anything but a 200 NDJSON answer
    raises httpx.HTTPStatusError or StreamEventError."""
    with client.stream("POST", path, **kwargs) as response:
        if response.status_code != 200:
            response.read()
            raise httpx.HTTPStatusError(
                f"{path} answered HTTP {response.status_code}: {response.text[:300]}",
                request=response.request,
                response=response,
            )
        content_type = response.headers.get("content-type", "")
        if not content_type.startswith(NDJSON):
            raise StreamEventError(f"{path} answered {content_type!r}, not {NDJSON}")
        return list(iter_events(response))


def of_type(events: list[Event], kind: type[E]) -> list[E]:
    return [event for event in events if isinstance(event, kind)]

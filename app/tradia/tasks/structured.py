"""Parsing of structured output (Ollama's `format` with a JSON Schema)."""

from __future__ import annotations

import json
from typing import Any

from tradia.upstream.errors import ErrorKind, UpstreamError


def parse_structured(text: str, truncated: bool) -> dict[str, Any]:
    """The JSON object the model was constrained to produce; a failure is reported, not guessed."""
    if truncated:
        raise UpstreamError(
            ErrorKind.GENERATION_FAILED,
            "The answer was truncated by the model's length limit before it was complete. Try a"
            " shorter text.",
        )
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise UpstreamError(
            ErrorKind.GENERATION_FAILED,
            "The AI server returned an answer that is not the expected structure. Try again.",
        ) from exc
    if not isinstance(value, dict):
        raise UpstreamError(
            ErrorKind.GENERATION_FAILED,
            "The AI server returned an answer that is not the expected structure. Try again.",
        )
    return value


def string_field(value: dict[str, Any], key: str) -> str:
    item = value.get(key)
    return item if isinstance(item, str) else ""


def object_list(value: dict[str, Any], key: str, fields: tuple[str, ...]) -> list[dict[str, str]]:
    items = value.get(key)
    if not isinstance(items, list):
        return []
    result = []
    for item in items:
        if isinstance(item, dict):
            result.append({f: str(item.get(f) or "") for f in fields})
        elif isinstance(item, str) and len(fields) == 1:
            result.append({fields[0]: item})
    return result

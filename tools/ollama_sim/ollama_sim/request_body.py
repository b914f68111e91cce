"""Request bodies decoded and checked the way Ollama's Go handlers do (same statuses/messages)."""

import json
from typing import Any

from starlette.requests import Request

from ollama_sim.names import InvalidModelName, ModelName
from ollama_sim.responses import ApiError

_GO_TYPES = {
    str: "string",
    bool: "bool",
    list: "array",
    dict: "object",
    int: "number",
    float: "number",
}


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    return _GO_TYPES.get(type(value), "value")


def _decoder_message(error: json.JSONDecodeError, text: str) -> str:
    """Go's encoding/json wording for the common syntax errors."""
    if error.pos >= len(text.rstrip()):
        return "unexpected EOF"
    return f"invalid character {text[error.pos]!r} looking for beginning of value"


async def read_json(request: Request, go_type: str, package: str = "api") -> dict[str, Any]:
    raw = await request.body()
    text = raw.decode("utf-8", errors="replace")
    if not text.strip():
        raise ApiError(400, "missing request body")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ApiError(400, _decoder_message(error, text)) from None
    if not isinstance(data, dict):
        raise ApiError(
            400,
            f"json: cannot unmarshal {_json_kind(data)} into Go value of type {package}.{go_type}",
        )
    return data


def field(data: dict[str, Any], key: str, kind: type | tuple[type, ...], go_type: str) -> Any:
    """data[key] if it has the expected JSON type (None when absent), else Go's 400."""
    value = data.get(key)
    if value is None:
        return None
    kinds = kind if isinstance(kind, tuple) else (kind,)
    # bool is an int in Python but not in JSON: `true` is no number.
    wrong_bool = isinstance(value, bool) and bool not in kinds
    if wrong_bool or not isinstance(value, kinds):
        expected = _GO_TYPES.get(kinds[0], "value")
        raise ApiError(
            400,
            f"json: cannot unmarshal {_json_kind(value)} into Go struct field "
            f"{go_type}.{key} of type {expected}",
        )
    return value


def model_name(data: dict[str, Any], go_type: str) -> tuple[str, ModelName]:
    """The requested model as given (for messages) and parsed; `name` is the old spelling."""
    given = field(data, "model", str, go_type) or field(data, "name", str, go_type) or ""
    if not given:
        raise ApiError(400, "model is required")
    try:
        return given, ModelName.parse(given)
    except InvalidModelName:
        raise ApiError(404, f"model '{given}' not found") from None

"""A small JSON Schema instance generator for the scripted backend's structured output.

Covers what structured-output schemas use (including pydantic's): type (also lists), enum,
const, object properties/required, array items/minItems/maxItems, string min/maxLength and a
few formats, integer/number minimum/maximum, boolean, null, anyOf/oneOf/allOf and local $refs.
Strings are cut from the request's words, so a test can see the user's text went through.
"""

import random
from typing import Any

_MAX_DEPTH = 12
_FORMATS = {
    "date": "2026-01-01",
    "date-time": "2026-01-01T00:00:00Z",
    "time": "00:00:00Z",
    "email": "user@example.com",
    "uri": "https://example.com/",
    "uuid": "00000000-0000-4000-8000-000000000000",
}


class InstanceGenerator:
    def __init__(self, root: dict[str, Any], words: list[str], rng: random.Random) -> None:
        self.root = root
        self.words = words or ["text"]
        self.rng = rng
        self.cursor = 0

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        ref = schema.get("$ref")
        if not isinstance(ref, str) or not ref.startswith("#"):
            return schema
        target: Any = self.root
        for part in ref.lstrip("#/").split("/"):
            if part:
                target = target[part.replace("~1", "/").replace("~0", "~")]
        return {**target, **{k: v for k, v in schema.items() if k != "$ref"}}

    def _text(self, count: int) -> str:
        picked = [self.words[(self.cursor + i) % len(self.words)] for i in range(count)]
        self.cursor += count
        return " ".join(picked)

    def _string(self, schema: dict[str, Any]) -> str:
        if schema.get("format") in _FORMATS:
            return _FORMATS[schema["format"]]
        text = self._text(self.rng.randint(2, 6))
        minimum, maximum = schema.get("minLength", 0), schema.get("maxLength")
        if len(text) < minimum:
            text = text.ljust(minimum, "x")
        return text[:maximum] if maximum is not None else text

    def _number(self, schema: dict[str, Any], integer: bool) -> int | float:
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
        high = schema.get("maximum", schema.get("exclusiveMaximum", low + 100))
        if "exclusiveMinimum" in schema:
            low += 1 if integer else 0.5
        if "exclusiveMaximum" in schema:
            high -= 1 if integer else 0.5
        if integer:
            return self.rng.randint(int(low), max(int(low), int(high)))
        return round(self.rng.uniform(low, max(low, high)), 2)

    def instance(self, schema: Any, depth: int = 0) -> Any:
        if not isinstance(schema, dict) or depth > _MAX_DEPTH:
            return None
        schema = self._resolve(schema)
        if "const" in schema:
            return schema["const"]
        if schema.get("enum"):
            return self.rng.choice(schema["enum"])
        for key in ("anyOf", "oneOf"):
            if schema.get(key):
                options = [s for s in schema[key] if self._resolve(s).get("type") != "null"]
                return self.instance((options or schema[key])[0], depth + 1)
        if schema.get("allOf"):
            merged: dict[str, Any] = {}
            for part in schema["allOf"]:
                merged.update(self._resolve(part))
            return self.instance(merged, depth + 1)
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind is None:
            kind = (
                "object" if "properties" in schema else "array" if "items" in schema else "string"
            )
        if kind == "object":
            properties = schema.get("properties", {})
            return {name: self.instance(sub, depth + 1) for name, sub in properties.items()}
        if kind == "array":
            minimum = schema.get("minItems", 1)
            maximum = schema.get("maxItems", max(minimum, 3))
            count = self.rng.randint(minimum, max(minimum, maximum))
            return [self.instance(schema.get("items", {}), depth + 1) for _ in range(count)]
        if kind == "string":
            return self._string(schema)
        if kind in ("integer", "number"):
            return self._number(schema, integer=kind == "integer")
        if kind == "boolean":
            return self.rng.random() < 0.5
        return None


def generate_instance(schema: dict[str, Any], words: list[str], rng: random.Random) -> Any:
    return InstanceGenerator(schema, words, rng).instance(schema)

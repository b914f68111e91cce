"""Small helpers shared by the real-HTTP tests."""

import json
import re
from typing import Any

import httpx

RFC3339_NANO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$")
HEX64 = re.compile(r"^[0-9a-f]{64}$")
METRICS = (
    "total_duration",
    "load_duration",
    "prompt_eval_count",
    "prompt_eval_duration",
    "eval_count",
    "eval_duration",
)


def ndjson(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.headers["content-type"].startswith("application/x-ndjson")
    return [json.loads(line) for line in response.text.splitlines() if line.strip()]


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def chat_text(chunks: list[dict[str, Any]]) -> str:
    return "".join(c["message"]["content"] for c in chunks if "message" in c)


def assert_final_metrics(final: dict[str, Any]) -> None:
    assert final["done"] is True
    for key in METRICS:
        assert isinstance(final[key], int), key
        assert final[key] > 0, key
    assert final["total_duration"] >= final["eval_duration"]

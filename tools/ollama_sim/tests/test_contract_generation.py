"""Chat/generate semantics: stream shape, think, format, options, keep_alive, load/unload."""

import base64
import json
import time

import httpx
import jsonschema
import pytest

from .helpers import METRICS, assert_final_metrics, chat_text, ndjson, user

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n fake image bytes").decode()


def _chat(client: httpx.Client, **body) -> list[dict]:
    response = client.post("/api/chat", json={"model": "llama3.1:8b", **body})
    assert response.status_code == 200, response.text
    return ndjson(response)


def test_non_final_chunks_omit_empty_fields(client: httpx.Client) -> None:
    chunks = _chat(client, messages=user("Some text to rewrite."))
    for chunk in chunks[:-1]:
        assert "done_reason" not in chunk
        assert "thinking" not in chunk["message"]
        assert not set(METRICS) & set(chunk)


def test_stream_false_returns_one_json_object(client: httpx.Client) -> None:
    response = client.post(
        "/api/chat",
        json={"model": "llama3.1:8b", "messages": user("one object please"), "stream": False},
    )
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert "one object please" in body["message"]["content"]
    assert body["done_reason"] == "stop"
    assert_final_metrics(body)


def test_generate_stream_false(client: httpx.Client) -> None:
    body = client.post(
        "/api/generate", json={"model": "llama3.1:8b", "prompt": "abc def", "stream": False}
    ).json()
    assert "abc def" in body["response"]
    assert_final_metrics(body)


def test_thinking_model_thinks_when_think_is_omitted(client: httpx.Client) -> None:
    chunks = _chat(client, model="qwen3:8b", messages=user("Why is the sky blue?"))
    thinking = [c for c in chunks if c["message"].get("thinking")]
    assert thinking, "a thinking model thinks by default"
    first_content = next(i for i, c in enumerate(chunks) if c["message"]["content"])
    assert chunks.index(thinking[-1]) < first_content, "thinking comes before the answer"
    for chunk in thinking:
        assert chunk["message"]["content"] == ""


def test_think_false_on_a_thinking_model_gives_no_thinking(client: httpx.Client) -> None:
    chunks = _chat(client, model="qwen3:8b", think=False, messages=user("Why?"))
    assert not any("thinking" in c["message"] for c in chunks)
    assert chat_text(chunks)


def test_generate_think_puts_thinking_at_top_level(client: httpx.Client) -> None:
    response = client.post(
        "/api/generate", json={"model": "qwen3:8b", "prompt": "Why?", "think": True}
    )
    chunks = ndjson(response)
    assert any(c.get("thinking") for c in chunks)


def test_think_true_on_a_non_thinking_model_is_400(client: httpx.Client) -> None:
    response = client.post(
        "/api/chat", json={"model": "llama3.1:8b", "think": True, "messages": user("x")}
    )
    assert response.status_code == 400
    assert response.json() == {"error": '"llama3.1:8b" does not support thinking'}


def test_format_json_gives_valid_json(client: httpx.Client) -> None:
    chunks = _chat(client, format="json", messages=user("Give JSON"))
    assert isinstance(json.loads(chat_text(chunks)), dict)


SCHEMAS = [
    {
        "type": "object",
        "properties": {
            "title": {"type": "string", "maxLength": 20},
            "score": {"type": "integer", "minimum": 1, "maximum": 5},
            "ratio": {"type": "number", "minimum": 0, "maximum": 1},
            "ok": {"type": "boolean"},
            "tone": {"type": "string", "enum": ["formal", "casual"]},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
        },
        "required": ["title", "score", "ratio", "ok", "tone", "tags"],
    },
    {
        "$defs": {
            "Edit": {
                "type": "object",
                "properties": {"before": {"type": "string"}, "after": {"type": "string"}},
                "required": ["before", "after"],
            }
        },
        "type": "object",
        "properties": {
            "edits": {"type": "array", "items": {"$ref": "#/$defs/Edit"}, "minItems": 1},
            "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        },
        "required": ["edits"],
        "additionalProperties": False,
    },
    {"type": "array", "items": {"type": "integer"}, "minItems": 3, "maxItems": 3},
]


@pytest.mark.parametrize("schema", SCHEMAS)
def test_format_schema_output_validates(client: httpx.Client, schema: dict) -> None:
    chunks = _chat(client, format=schema, messages=user("the quick brown fox jumps"))
    jsonschema.validate(json.loads(chat_text(chunks)), schema)


def test_num_predict_stops_with_length(client: httpx.Client) -> None:
    chunks = _chat(client, messages=user("a " * 200), options={"num_predict": 7})
    assert chunks[-1]["done_reason"] == "length"
    assert chunks[-1]["eval_count"] == 7
    assert len(chunks) == 8


def test_context_limit_stops_with_length(client: httpx.Client) -> None:
    chunks = _chat(client, messages=user("word " * 100), options={"num_ctx": 120})
    assert chunks[-1]["done_reason"] == "length"
    assert chunks[-1]["prompt_eval_count"] + chunks[-1]["eval_count"] <= 120


def test_seed_makes_answers_repeat(client: httpx.Client) -> None:
    def answer(seed: int) -> str:
        return chat_text(_chat(client, messages=user("Same text."), options={"seed": seed}))

    assert answer(42) == answer(42)
    assert len({answer(seed) for seed in range(6)}) > 1


def test_stop_sequence_cuts_the_answer(client: httpx.Client) -> None:
    full = chat_text(_chat(client, messages=user("alpha beta STOPHERE gamma")))
    assert "STOPHERE" in full
    chunks = _chat(client, messages=user("alpha beta STOPHERE gamma"), options={"stop": ["STOP"]})
    text = chat_text(chunks)
    assert "STOP" not in text
    assert full.startswith(text)
    assert chunks[-1]["done_reason"] == "stop"


def test_images_need_a_vision_model(client: httpx.Client) -> None:
    message = [{"role": "user", "content": "What is this?", "images": [PNG]}]
    refused = client.post("/api/chat", json={"model": "llama3.1:8b", "messages": message})
    assert refused.status_code == 400
    assert refused.json() == {"error": '"llama3.1:8b" does not support vision'}
    accepted = _chat(client, model="qwen2.5vl:7b", messages=message)
    assert "1 image" in chat_text(accepted)
    generate = client.post(
        "/api/generate", json={"model": "qwen2.5vl:7b", "prompt": "Describe", "images": [PNG]}
    )
    assert generate.status_code == 200


def test_tools_need_a_tools_model(client: httpx.Client) -> None:
    tool = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}
    refused = client.post(
        "/api/chat", json={"model": "qwen2.5vl:7b", "messages": user("x"), "tools": [tool]}
    )
    assert refused.status_code == 400
    assert refused.json() == {"error": '"qwen2.5vl:7b" does not support tools'}
    assert _chat(client, messages=user("x"), tools=[tool])[-1]["done"] is True


def _loaded(client: httpx.Client) -> dict[str, dict]:
    return {m["name"]: m for m in client.get("/api/ps").json()["models"]}


def test_empty_messages_load_and_keep_alive_zero_unloads(client: httpx.Client) -> None:
    load = client.post("/api/chat", json={"model": "qwen2.5vl:7b", "messages": []})
    assert load.headers["content-type"].startswith("application/json")
    body = load.json()
    assert (body["done"], body["done_reason"]) == (True, "load")
    assert body["message"] == {"role": "assistant", "content": ""}
    assert "qwen2.5vl:7b" in _loaded(client)
    unload = client.post(
        "/api/chat", json={"model": "qwen2.5vl:7b", "messages": [], "keep_alive": 0}
    )
    assert unload.json()["done_reason"] == "unload"
    assert "qwen2.5vl:7b" not in _loaded(client)


def test_generate_empty_prompt_loads(client: httpx.Client) -> None:
    body = client.post("/api/generate", json={"model": "qwen2.5vl:7b"}).json()
    assert (body["done_reason"], body["response"]) == ("load", "")
    body = client.post("/api/generate", json={"model": "qwen2.5vl:7b", "keep_alive": 0}).json()
    assert body["done_reason"] == "unload"


def test_keep_alive_zero_on_a_request_unloads_after_it(client: httpx.Client) -> None:
    _chat(client, model="qwen3:8b", think=False, messages=user("x"), keep_alive=0)
    assert "qwen3:8b" not in _loaded(client)


def test_keep_alive_expiry_unloads(client: httpx.Client) -> None:
    _chat(client, model="qwen3:8b", think=False, messages=user("x"), keep_alive="1s")
    entry = _loaded(client)["qwen3:8b"]
    assert entry["expires_at"].startswith(time.strftime("%Y-", time.gmtime()))
    deadline = time.monotonic() + 5
    while "qwen3:8b" in _loaded(client) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "qwen3:8b" not in _loaded(client)


def test_negative_keep_alive_means_forever(client: httpx.Client) -> None:
    _chat(client, model="qwen3:8b", think=False, messages=user("x"), keep_alive=-1)
    year = int(_loaded(client)["qwen3:8b"]["expires_at"][:4])
    assert year > 2200
    client.post("/api/chat", json={"model": "qwen3:8b", "messages": [], "keep_alive": 0})


def test_bad_keep_alive_is_400(client: httpx.Client) -> None:
    response = client.post(
        "/api/chat", json={"model": "qwen3:8b", "messages": user("x"), "keep_alive": "soon"}
    )
    assert response.status_code == 400


def test_changing_num_ctx_reloads_the_model(client: httpx.Client) -> None:
    loads_before = client.get("/_sim/stats").json()["loads"]
    _chat(client, messages=user("x"), options={"num_ctx": 2048})
    assert _loaded(client)["llama3.1:8b"]["context_length"] == 2048
    _chat(client, messages=user("x"), options={"num_ctx": 2048})
    final = _chat(client, messages=user("x"), options={"num_ctx": 8192})[-1]
    assert _loaded(client)["llama3.1:8b"]["context_length"] == 8192
    assert final["load_duration"] > 0
    assert client.get("/_sim/stats").json()["loads"] - loads_before == 2


def test_stats_count_streamed_prompt_and_eval_tokens(client: httpx.Client) -> None:
    before = client.get("/_sim/stats").json()
    chunks = _chat(client, model="llama3.1:8b", messages=[{"role": "user", "content": "count"}])
    after = client.get("/_sim/stats").json()
    final = chunks[-1]
    assert after["eval_tokens"] - before["eval_tokens"] == final["eval_count"]
    assert after["prompt_tokens"] - before["prompt_tokens"] == final["prompt_eval_count"]
    assert after["streamed_tokens"] - before["streamed_tokens"] == len(chunks) - 1

"""The official `openai` Python client against the simulator's `/v1` routes (Ollama's
OpenAI-compatible API): what the gateway and automation tools send works here as on Ollama."""

import itertools
import json
import math
import statistics
import time
from collections.abc import Iterator

import httpx
import openai
import pytest
from ollama_sim.profiles import PROFILES
from ollama_sim.testing import ThreadedSimulator

RTX4090 = PROFILES["rtx4090"]
LONG_TEXT = "abcde " * 1500  # quoted back by the scripted answer: more tokens than any test reads
MODEL = "llama3.1:8b"
API_KEY = "tradia-gateway-key"  # any Bearer key: Ollama (and so the simulator) ignores it


def _client(server: ThreadedSimulator) -> openai.OpenAI:
    # No retries: a test must see the first answer, not a retried one.
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=API_KEY, max_retries=0, timeout=30)


@pytest.fixture
def oai(server: ThreadedSimulator) -> Iterator[openai.OpenAI]:
    with _client(server) as client:
        yield client


@pytest.fixture(scope="module")
def rtx4090(start_server) -> Iterator[ThreadedSimulator]:
    env = {"OLLAMA_SIM_PROFILE": "rtx4090", "OLLAMA_SIM_PRELOAD": "llama3.1:8b"}
    with start_server(**env) as running:
        # Load the model once: the tests time generation, not the cold load.
        httpx.post(f"{running.url}/api/chat", json={"model": "llama3.1:8b", "messages": []})
        yield running


def _user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def test_chat_stream_arrives_token_by_token_at_the_profile_rate(
    rtx4090: ThreadedSimulator,
) -> None:
    with _client(rtx4090) as client:
        # A first short stream: the client's one-time setup is not timed below.
        list(client.chat.completions.create(model=MODEL, messages=_user("x"), stream=True))
        started = time.perf_counter()
        stream = client.chat.completions.create(
            model="llama3.1:8b",
            messages=_user(LONG_TEXT),
            max_tokens=64,
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks, arrivals = [], []
        for chunk in stream:
            chunks.append(chunk)
            arrivals.append(time.perf_counter() - started)
    content = [
        (chunk, at)
        for chunk, at in zip(chunks, arrivals, strict=True)
        if chunk.choices and chunk.choices[0].delta.content
    ]
    assert all(chunk.object == "chat.completion.chunk" for chunk in chunks)
    assert len({chunk.id for chunk in chunks}) == 1
    assert content[0][0].choices[0].delta.role == "assistant"
    assert content[0][0].choices[0].delta.content == "You"
    finish = chunks[-2]
    assert finish.choices[0].finish_reason == "length"
    assert finish.choices[0].delta.content is None
    usage = chunks[-1].usage
    assert chunks[-1].choices == []
    assert usage is not None
    assert usage.completion_tokens == len(content) == 64
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    # Token by token, seen by the client: 63 intervals between the first and last content chunk
    # at the profile's single-stream rate (a buffered answer would arrive all at once).
    # Token by token as the client sees it: the typical gap between content chunks is one decode
    # step of the profile (a buffered answer would arrive in one burst, gaps near 0). A stall of
    # the test process only delays chunks (they then arrive in a burst), so the median gap is
    # compared, and the times are lower bounds: no chunk can come before the profile allows.
    gaps = sorted(b[1] - a[1] for a, b in itertools.pairwise(content))
    interval = RTX4090.decode_interval_s(1)
    assert statistics.median(gaps) == pytest.approx(interval, rel=0.15), gaps
    expected_ttft = RTX4090.overhead_s + RTX4090.prefill_s(usage.prompt_tokens, 1) + interval
    assert content[0][1] >= expected_ttft * 0.95
    assert content[-1][1] >= (expected_ttft + 63 * interval) * 0.95


def test_chat_without_stream_has_usage_and_the_native_answer(
    oai: openai.OpenAI, client: httpx.Client
) -> None:
    reply = oai.chat.completions.create(
        model="llama3.1:8b", messages=_user("Make this formal: hey there"), seed=7
    )
    native = client.post(
        "/api/chat",
        json={
            "model": "llama3.1:8b",
            "messages": _user("Make this formal: hey there"),
            "stream": False,
            "options": {"seed": 7},
        },
    ).json()
    assert reply.object == "chat.completion"
    assert reply.model == "llama3.1:8b"
    assert reply.system_fingerprint == "fp_ollama"
    choice = reply.choices[0]
    assert choice.finish_reason == "stop"
    assert choice.message.role == "assistant"
    # The seed is mapped to the native option: the same answer as /api/chat with that seed.
    assert choice.message.content == native["message"]["content"]
    assert reply.usage is not None
    assert reply.usage.prompt_tokens == native["prompt_eval_count"]
    assert reply.usage.completion_tokens == native["eval_count"]
    assert reply.usage.total_tokens == native["prompt_eval_count"] + native["eval_count"]


def test_chat_max_tokens_stop_and_json_schema_map_to_native_options(oai: openai.OpenAI) -> None:
    short = oai.chat.completions.create(model="llama3.1:8b", messages=_user("x"), max_tokens=3)
    assert short.choices[0].finish_reason == "length"
    assert short.usage is not None
    assert short.usage.completion_tokens == 3
    stopped = oai.chat.completions.create(model="llama3.1:8b", messages=_user("x"), stop="wrote")
    assert stopped.choices[0].message.content == "You "
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    structured = oai.chat.completions.create(
        model="llama3.1:8b",
        messages=_user("a number"),
        response_format={"type": "json_schema", "json_schema": {"name": "n", "schema": schema}},
    )
    assert isinstance(json.loads(structured.choices[0].message.content or "")["n"], int)


def test_reasoning_effort_none_turns_thinking_off(oai: openai.OpenAI) -> None:
    thinking = oai.chat.completions.create(model="qwen3:8b", messages=_user("hi"))
    plain = oai.chat.completions.create(
        model="qwen3:8b", messages=_user("hi"), reasoning_effort="none"
    )
    # Ollama puts the thought in `reasoning`, a field OpenAI's types do not declare.
    assert (thinking.choices[0].message.model_extra or {}).get("reasoning")
    assert "reasoning" not in (plain.choices[0].message.model_extra or {})


def test_models_list_and_retrieve(oai: openai.OpenAI) -> None:
    listed = {model.id: model for model in oai.models.list()}
    assert {"llama3.1:8b", "qwen3:8b", "qwen2.5vl:7b"} <= set(listed)
    assert listed["llama3.1:8b"].object == "model"
    assert listed["llama3.1:8b"].owned_by == "library"
    assert listed["llama3.1:8b"].created > 0
    one = oai.models.retrieve("qwen3:8b")
    assert (one.id, one.object, one.owned_by) == ("qwen3:8b", "model", "library")
    with pytest.raises(openai.NotFoundError):
        oai.models.retrieve("missing:1b")


def test_embeddings_are_deterministic_unit_vectors(
    oai: openai.OpenAI, client: httpx.Client
) -> None:
    # The client asks for base64 by default: decoded, it must equal the float answer.
    first = oai.embeddings.create(model="llama3.1:8b", input=["alpha", "beta"])
    again = oai.embeddings.create(model="llama3.1:8b", input="alpha", encoding_format="float")
    short = oai.embeddings.create(model="llama3.1:8b", input="alpha", dimensions=8)
    assert [item.index for item in first.data] == [0, 1]
    alpha, beta = first.data[0].embedding, first.data[1].embedding
    assert len(alpha) == len(beta) > 8
    assert math.fsum(x * x for x in alpha) == pytest.approx(1.0, rel=1e-5)
    assert again.data[0].embedding == pytest.approx(alpha, rel=1e-5, abs=1e-7)
    assert alpha != beta
    assert len(short.data[0].embedding) == 8
    assert math.fsum(x * x for x in short.data[0].embedding) == pytest.approx(1.0, rel=1e-5)
    assert first.usage.prompt_tokens == first.usage.total_tokens > 0
    bad = client.post("/v1/embeddings", json={"model": "llama3.1:8b", "input": []})
    assert bad.status_code == 400
    assert bad.json()["error"]["message"] == "invalid input"


def test_completions_with_and_without_stream(oai: openai.OpenAI) -> None:
    whole = oai.completions.create(model="llama3.1:8b", prompt="hello there", seed=3)
    pieces = list(
        oai.completions.create(
            model="llama3.1:8b",
            prompt="hello there",
            seed=3,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert whole.object == "text_completion"
    assert whole.choices[0].finish_reason == "stop"
    assert "hello there" in whole.choices[0].text
    assert whole.usage is not None
    assert whole.usage.completion_tokens > 1
    text_chunks = [p for p in pieces if p.choices and p.choices[0].text]
    assert len(text_chunks) == whole.usage.completion_tokens
    assert "".join(p.choices[0].text for p in text_chunks) == whole.choices[0].text
    assert pieces[-2].choices[0].finish_reason == "stop"
    assert pieces[-1].usage is not None
    assert pieces[-1].usage.completion_tokens == whole.usage.completion_tokens


def test_unknown_model_is_not_found(oai: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as missing:
        oai.chat.completions.create(model="nope:1b", messages=_user("hi"))
    assert missing.value.status_code == 404
    assert missing.value.body == {
        "message": "model 'nope:1b' not found",
        "type": "not_found_error",
        "param": None,
        "code": None,
    }
    with pytest.raises(openai.NotFoundError):
        oai.completions.create(model="nope:1b", prompt="hi", stream=True)


def test_malformed_bodies_are_bad_requests(oai: openai.OpenAI, client: httpx.Client) -> None:
    with pytest.raises(openai.BadRequestError) as empty:
        oai.chat.completions.create(model="llama3.1:8b", messages=[])
    assert empty.value.body["message"] == "[] is too short - 'messages'"
    with pytest.raises(openai.BadRequestError) as wrong_type:
        oai.chat.completions.create(model="llama3.1:8b", messages="hi")  # type: ignore[arg-type]
    assert wrong_type.value.body["type"] == "invalid_request_error"
    not_json = client.post("/v1/chat/completions", content=b"{not json")
    assert not_json.status_code == 400
    assert not_json.json() == {
        "error": {
            "message": "invalid character 'n' looking for beginning of value",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
    }


def test_a_bearer_key_is_accepted_and_ignored(server: ThreadedSimulator) -> None:
    body = {"model": "llama3.1:8b", "messages": _user("hi"), "max_tokens": 2}
    for headers in ({"Authorization": f"Bearer {API_KEY}"}, {"Authorization": "Bearer x"}, {}):
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as http:
            assert http.get("/v1/models").status_code == 200, headers
            reply = http.post("/v1/chat/completions", json=body)
            assert reply.status_code == 200, headers
            assert reply.json()["usage"]["completion_tokens"] == 2


def test_a_midstream_error_ends_the_stream_without_finish_reason(
    oai: openai.OpenAI, client: httpx.Client
) -> None:
    client.post("/_sim/fault", json={"kind": "midstream_error", "after": 3, "count": 1})
    chunks = list(
        oai.chat.completions.create(model="llama3.1:8b", messages=_user("hi"), stream=True)
    )
    # Ollama's writer turns the native error line into one empty delta, then stops: no
    # finish_reason and no [DONE].
    assert [c.choices[0].delta.content for c in chunks] == ["You", " wrote", ":", ""]
    assert all(c.choices[0].finish_reason is None for c in chunks)


def test_disconnect_mid_stream_frees_the_slot(rtx4090: ThreadedSimulator) -> None:
    stats_url = f"{rtx4090.url}/_sim/stats"
    before = httpx.get(stats_url).json()
    with _client(rtx4090) as client:
        stream = client.chat.completions.create(
            model="llama3.1:8b", messages=_user(LONG_TEXT), max_tokens=1400, stream=True
        )
        for received, _chunk in enumerate(stream, start=1):
            if received == 5:
                break
        stream.close()  # closes the connection mid-stream
        started = time.perf_counter()
        client.chat.completions.create(model="llama3.1:8b", messages=_user("short"), max_tokens=3)
        waited = time.perf_counter() - started
    after = httpx.get(stats_url).json()
    # The rest of the 1400 tokens would hold the only slot for ~11 s; the next request starts at
    # once instead (its own 3 tokens take a fraction of that).
    held_s = (1400 - 5) * RTX4090.decode_interval_s(1)
    assert waited < held_s / 4, (waited, held_s)
    assert after["canceled_running"] - before["canceled_running"] == 1
    assert after["active"] == {"llama3.1:8b": 0}

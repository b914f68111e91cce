"""Slots, queueing, disconnects and the rtx4090 timing profile, measured over real HTTP."""

import asyncio
import json
import time
from collections.abc import Iterator

import httpx
import pytest
from ollama_sim.profiles import PARALLEL_EXPONENT, PROFILES
from ollama_sim.testing import ThreadedSimulator

LONG_TEXT = "abcde " * 1500  # the scripted answer quotes it: far more tokens than any test reads
# Every bound below is derived from the profile the server runs, never a wall-clock constant.
RTX4090 = PROFILES["rtx4090"]
RTX4090_DECODE = RTX4090.decode_tokens_per_s
RTX4090_LOAD_S = RTX4090.load_s


def _expected_ttft(prompt_tokens: int, active: int = 1) -> float:
    """What the profile costs before the first token: overhead, prefill and one decode step."""
    return (
        RTX4090.overhead_s
        + RTX4090.prefill_s(prompt_tokens, active)
        + RTX4090.decode_interval_s(active)
    )


@pytest.fixture(scope="module")
def rtx4090(start_server) -> Iterator[ThreadedSimulator]:
    env = {"OLLAMA_SIM_PROFILE": "rtx4090", "OLLAMA_SIM_PRELOAD": "llama3.1:8b"}
    with start_server(**env) as running:
        yield running


@pytest.fixture(scope="module")
def rtx4090_x4(start_server) -> Iterator[ThreadedSimulator]:
    env = {
        "OLLAMA_SIM_PROFILE": "rtx4090",
        "OLLAMA_NUM_PARALLEL": "4",
        "OLLAMA_SIM_PRELOAD": "llama3.1:8b",
    }
    with start_server(**env) as running:
        httpx.post(f"{running.url}/api/chat", json={"model": "llama3.1:8b", "messages": []})
        yield running


def _body(num_predict: int, text: str = LONG_TEXT) -> dict:
    return {
        "model": "llama3.1:8b",
        "messages": [{"role": "user", "content": text}],
        "options": {"num_predict": num_predict},
    }


async def _timed_stream(client: httpx.AsyncClient, body: dict) -> dict:
    """Send a chat; return its final chunk plus client-side first/last token times."""
    started = time.perf_counter()
    first = last = 0.0
    async with client.stream("POST", "/api/chat", json=body) as response:
        assert response.status_code == 200
        async for line in response.aiter_lines():
            chunk = json.loads(line)
            if not chunk["done"]:
                last = time.perf_counter() - started
                first = first or last
    return {**chunk, "ttft": first, "last": last}


def test_first_use_and_a_num_ctx_change_load_the_model(rtx4090: ThreadedSimulator) -> None:
    with httpx.Client(base_url=rtx4090.url, timeout=30) as client:
        cold = client.post("/api/chat", json={**_body(2), "stream": False}).json()
        warm = client.post("/api/chat", json={**_body(2), "stream": False}).json()
        other_ctx = {**_body(2), "stream": False, "options": {"num_predict": 2, "num_ctx": 8192}}
        reloaded = client.post("/api/chat", json=other_ctx).json()
    assert cold["load_duration"] / 1e9 == pytest.approx(RTX4090_LOAD_S, rel=0.15)
    assert warm["load_duration"] / 1e9 < RTX4090_LOAD_S * 0.05
    assert reloaded["load_duration"] / 1e9 == pytest.approx(RTX4090_LOAD_S, rel=0.15)


async def test_decode_rate_matches_the_rtx4090_profile(rtx4090: ThreadedSimulator) -> None:
    async with httpx.AsyncClient(base_url=rtx4090.url, timeout=30) as client:
        await client.post("/api/chat", json={"model": "llama3.1:8b", "messages": []})
        final = await _timed_stream(client, _body(128))
    assert final["eval_count"] == 128
    assert final["done_reason"] == "length"
    reported = final["eval_count"] / final["eval_duration"] * 1e9
    assert reported == pytest.approx(RTX4090_DECODE, rel=0.10)
    # Seen by the client: 127 intervals between the first and the last token.
    observed = 127 / (final["last"] - final["ttft"])
    assert observed == pytest.approx(RTX4090_DECODE, rel=0.15)
    # Warm TTFT as the client sees it: the profile's overhead + prefill + one token, plus
    # loopback HTTP (about 1.2x here); never less than the profile, and not twice as much.
    expected = _expected_ttft(final["prompt_eval_count"])
    assert expected * 0.95 <= final["ttft"] <= expected * 2, (final["ttft"], expected)


async def test_disconnect_frees_the_slot_and_stops_generating(rtx4090: ThreadedSimulator) -> None:
    async with httpx.AsyncClient(base_url=rtx4090.url, timeout=30) as client:
        await client.post("/api/chat", json={"model": "llama3.1:8b", "messages": []})
        before = (await client.get("/_sim/stats")).json()
        async with client.stream("POST", "/api/chat", json=_body(1400)) as response:
            lines = 0
            async for _line in response.aiter_lines():
                lines += 1
                if lines == 5:
                    break  # leaving the block closes the connection mid-stream
        started = time.perf_counter()
        final = await _timed_stream(client, _body(3, "short"))
        waited = time.perf_counter() - started
        after = (await client.get("/_sim/stats")).json()
    # The rest of the 1400 tokens would hold the only slot for ~11 s: the next request starts
    # at once instead. Waiting for the slot costs that time whole; a quarter of it cannot.
    held_s = (1400 - lines) * RTX4090.decode_interval_s(1)
    assert waited < held_s / 4, (waited, held_s)
    assert final["ttft"] < held_s / 4, (final["ttft"], held_s)
    assert final["ttft"] >= _expected_ttft(final["prompt_eval_count"]) * 0.95
    assert after["canceled_running"] - before["canceled_running"] == 1
    assert after["active"] == {"llama3.1:8b": 0}


async def test_slots_limit_concurrency_and_the_rest_queue(rtx4090_x4: ThreadedSimulator) -> None:
    async with httpx.AsyncClient(base_url=rtx4090_x4.url, timeout=30) as client:
        results = await asyncio.gather(*(_timed_stream(client, _body(30)) for _ in range(6)))
        stats = (await client.get("/_sim/stats")).json()
    assert stats["max_active"]["llama3.1:8b"] == 4
    ttfts = sorted(result["ttft"] for result in results)
    # Four start together; the last two wait for a free slot: one generation of 30 tokens at
    # the rate each of four streams gets.
    generation_s = 30 * RTX4090.decode_interval_s(4)
    assert ttfts[4] > ttfts[3] + generation_s / 2, (ttfts, generation_s)


async def test_parallel_throughput_grows_sublinearly(rtx4090_x4: ThreadedSimulator) -> None:
    async with httpx.AsyncClient(base_url=rtx4090_x4.url, timeout=30) as client:
        solo = await _timed_stream(client, _body(64))
        together = await asyncio.gather(*(_timed_stream(client, _body(64)) for _ in range(4)))

    def rate(chunk: dict) -> float:
        return chunk["eval_count"] / chunk["eval_duration"] * 1e9

    single = rate(solo)
    aggregate = sum(rate(chunk) for chunk in together)
    assert single == pytest.approx(RTX4090_DECODE, rel=0.10)
    assert 1.5 <= aggregate / single <= 2.5
    assert aggregate / single == pytest.approx(4**PARALLEL_EXPONENT, rel=0.12)
    assert all(rate(chunk) < single * 0.8 for chunk in together), "lower per-user speed"

"""Part 5, real model: the simulator's llama backend (SmolLM2-135M on llama.cpp, CPU) alone,
one request at a time, then the same translations through the whole local chain. Each answer
is read for its first MAX_TOKENS tokens (the client then hangs up)."""

import asyncio
from pathlib import Path
from typing import Any

from bench.measure import Sample, client, ollama_chat, tradia_task
from bench.render import Rendered
from bench.scenarios.common import summarise
from bench.stack import LocalStack, SimConfig
from bench.workload import closed_loop, ollama_body, translation

MODEL = "smollm2:135m"
# The tiny model does not always stop by itself: the rate is read over its first tokens.
MAX_TOKENS = 150


async def _measure(stack: LocalStack, requests: int) -> dict[str, list[Sample]]:
    direct = client(stack.sim_url)

    async def send_direct(user: int, index: int) -> Sample:
        body = ollama_body(translation(300, index), MODEL)
        return await ollama_chat(direct, body, "translate", MAX_TOKENS)

    async def send_chain(user: int, index: int) -> Sample:
        # A connection per request, closed when the client hangs up: that is what stops the
        # generation. (httpx leaves an abandoned HTTP/2 stream open without RST_STREAM, so on a
        # shared connection the app would keep generating and the next request would queue.)
        chain = client(stack.app_url, ca=stack.ca, auth=stack.app_auth, browser=True)
        try:
            return await tradia_task(chain, translation(300, index), MAX_TOKENS)
        finally:
            await chain.aclose()

    try:
        await closed_loop(1, send_chain, per_user=1)  # loads the model with the app's num_ctx
        return {
            "direct": await closed_loop(1, send_direct, per_user=requests),
            "chain": await closed_loop(1, send_chain, per_user=requests),
        }
    finally:
        await direct.aclose()


def run(workdir: Path, quick: bool, rendered: Rendered) -> dict[str, Any]:
    sim = SimConfig(backend="llama", model=MODEL, num_parallel=1)
    with LocalStack(rendered, sim, concurrency=1, app_model=MODEL) as stack:
        results = asyncio.run(_measure(stack, 3 if quick else 8))
    return {
        "model": MODEL,
        "max_tokens": MAX_TOKENS,
        "rows": [{"mode": m, **summarise(s)} for m, s in results.items()],
    }

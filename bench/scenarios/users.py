"""Part 2, twenty users: a mixed workload (short translations and corrections, long meeting
minutes and documents) through the whole local chain, on the l4 and rtx4090 profiles with
OLLAMA_NUM_PARALLEL 1, 2 and 4 (the app's concurrency set to match, as the README advises).

Throughput is the simulator's own count of streamed tokens over a window in which all twenty
users keep sending; capacity is what the simulated GPU delivers on the same mix of requests
(bench.capacity), so their ratio is the share of the backend the stack used.
"""

import asyncio
import time
from pathlib import Path
from typing import Any

from bench.capacity import Mix, decode_ceiling, profile, workload_capacity
from bench.measure import Sample, client, tradia_task
from bench.render import Rendered
from bench.scenarios.common import summarise
from bench.stack import LocalStack, SimConfig
from bench.workload import MIX, SHORT_TASKS, closed_loop, mixed_request, task_request

USERS = 20
PROFILES = ("l4", "rtx4090")
PARALLEL = (1, 2, 4)
# The window starts once every user has sent its first request.
SETTLE_S = 3.0


def _counters(stats: dict[str, Any]) -> dict[str, int]:
    keys = ("completed", "prompt_tokens", "eval_tokens", "streamed_tokens")
    return {key: int(stats[key]) for key in keys}


async def _load(stack: LocalStack, seconds: float) -> tuple[list[Sample], dict[str, Any]]:
    clients = [
        client(
            stack.app_url,
            ca=stack.ca,
            auth=stack.app_auth,
            local_address=f"127.0.0.{10 + u}",
            browser=True,
        )
        for u in range(USERS)
    ]

    async def send(user: int, index: int) -> Sample:
        return await tradia_task(clients[user], mixed_request(user, index))

    async def window() -> dict[str, Any]:
        await asyncio.sleep(SETTLE_S)
        first, t0 = await asyncio.to_thread(stack.sim_stats), time.monotonic()
        await asyncio.sleep(seconds - SETTLE_S)
        last, t1 = await asyncio.to_thread(stack.sim_stats), time.monotonic()
        return {"start": _counters(first), "end": _counters(last), "seconds": t1 - t0}

    try:
        # The model loads on first use: one request before the clock starts.
        await tradia_task(clients[0], task_request("translate", 0))
        before = _counters(await asyncio.to_thread(stack.sim_stats))
        until = time.monotonic() + seconds
        samples, measured = await asyncio.gather(closed_loop(USERS, send, until=until), window())
        after = _counters(await asyncio.to_thread(stack.sim_stats))
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
    measured["run"] = {key: after[key] - before[key] for key in after}
    return samples, measured


def _row(
    prof_name: str, parallel: int, samples: list[Sample], measured: dict[str, Any]
) -> dict[str, Any]:
    prof = profile(prof_name)
    run = measured["run"]
    mix = Mix(run["completed"], run["prompt_tokens"], run["eval_tokens"])
    streamed = measured["end"]["streamed_tokens"] - measured["start"]["streamed_tokens"]
    throughput = streamed / measured["seconds"]
    capacity = workload_capacity(prof, mix, parallel)
    short = [s for s in samples if s.task in SHORT_TASKS]
    long = [s for s in samples if s.task not in SHORT_TASKS]
    return {
        "profile": prof_name,
        "parallel": parallel,
        "all": summarise(samples),
        "short": summarise(short),
        "long": summarise(long),
        "by_task": {task: sum(1 for s in samples if s.task == task) for task, _ in MIX},
        "llm_calls": mix.requests,
        "throughput_tokens_per_s": round(throughput, 1),
        "capacity_tokens_per_s": round(capacity, 1),
        "decode_ceiling_tokens_per_s": round(decode_ceiling(prof, parallel), 1),
        "share_of_capacity": round(throughput / capacity, 4) if capacity else 0.0,
    }


def run(workdir: Path, quick: bool, rendered: Rendered) -> dict[str, Any]:
    rows = []
    for prof_name in PROFILES:
        # l4 is three times slower: a longer window holds as many long tasks.
        seconds = (15 if quick else 40) * (2 if prof_name == "l4" else 1)
        for parallel in PARALLEL:
            sim = SimConfig(profile=prof_name, num_parallel=parallel)
            with LocalStack(rendered, sim, concurrency=parallel) as stack:
                samples, measured = asyncio.run(_load(stack, seconds))
            rows.append(_row(prof_name, parallel, samples, measured))
    return {"users": USERS, "mix": dict(MIX), "rows": rows}

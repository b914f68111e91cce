"""Part 4, scale-out: 1, 2 and 3 AI servers behind the app server's Traefik, saturated.

Each step adds a lab host with scripts/demo.sh (TRADIA_LAB_AI_SERVERS=n): the new host goes into
the lab's inventory and site.yml is rerun, nothing else. Each AI server keeps the role's
OLLAMA_NUM_PARALLEL (2) and the app its default concurrency (2 per AI server); six users per AI
server keep every slot busy. Throughput and spread come from each simulator's own counters.
"""

import asyncio
import time
from pathlib import Path
from typing import Any

from bench import lab
from bench.measure import Sample, client, tradia_task
from bench.workload import closed_loop, translation

USERS_PER_SERVER = 6
SETTLE_S = 3.0
# The app server's Traefik checks the AI servers every 10 s: a new one joins within that.
JOIN_S = 12.0


async def _saturate(servers: int, seconds: float) -> tuple[list[Sample], dict[str, Any]]:
    hosts = lab.ai_hosts(servers)
    users = USERS_PER_SERVER * servers
    url, ca = lab.app_url(), lab.ca_cert()
    clients = [client(url, ca=ca, auth=lab.LOGIN, browser=True) for _ in range(users)]

    async def send(user: int, index: int) -> Sample:
        return await tradia_task(clients[user], translation(800, seed=user * 1000 + index))

    def counters() -> dict[str, dict[str, int]]:
        return {host: lab.sim_stats(host) for host in hosts}

    async def window() -> dict[str, Any]:
        await asyncio.sleep(SETTLE_S)
        first, t0 = await asyncio.to_thread(counters), time.monotonic()
        await asyncio.sleep(seconds - SETTLE_S)
        last, t1 = await asyncio.to_thread(counters), time.monotonic()
        return {
            "seconds": t1 - t0,
            "streamed": {
                h: last[h]["streamed_tokens"] - first[h]["streamed_tokens"] for h in hosts
            },
            "completed": {h: last[h]["completed"] - first[h]["completed"] for h in hosts},
        }

    try:
        await closed_loop(users, send, per_user=1)  # connections open, every model loaded
        samples, measured = await asyncio.gather(
            closed_loop(users, send, until=time.monotonic() + seconds), window()
        )
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
    return samples, measured


def run(workdir: Path, quick: bool) -> dict[str, Any]:
    seconds = 15 if quick else 40
    shape = lab.running_shape()
    steps: list[dict[str, Any]] = []
    if shape is None or shape[1] != lab.PROFILE or shape[0] > 1:
        lab.down()
        lab.deploy(1, workdir, "scaleout-1")
    for servers in (1, 2, 3):
        step: dict[str, Any] = {"servers": servers}
        if servers > 1:
            grown = lab.deploy(servers, workdir, f"scaleout-{servers}")
            step["site_seconds"] = grown.site_seconds
            step["changed"] = grown.changed
            lab.wait(JOIN_S)
        samples, measured = asyncio.run(_saturate(servers, seconds))
        step["requests"] = len(samples)
        step["failed"] = sum(1 for s in samples if not s.ok)
        step["errors"] = sorted({s.error for s in samples if not s.ok})
        step["throughput_tokens_per_s"] = round(
            sum(measured["streamed"].values()) / measured["seconds"], 1
        )
        step["completed_by_server"] = measured["completed"]
        steps.append(step)
    base = steps[0]["throughput_tokens_per_s"]
    for step in steps:
        step["ratio"] = round(step["throughput_tokens_per_s"] / base, 3) if base else 0.0
    return {"profile": lab.PROFILE, "users_per_server": USERS_PER_SERVER, "steps": steps}

"""Part 1, relay overhead: the same translation requests (a) straight to the simulator, (b)
through the AI server's Traefik (TLS + basic auth), (c) through the whole chain (app server's
Traefik with the users' login, the app, the AI server's Traefik), at 1 and 20 users, rtx4090.

(c) runs twice: with the app server's login (what the lab ships: one bcrypt check per request)
and without it, to tell the login's cost from the relay's.
"""

import asyncio
from pathlib import Path
from typing import Any

from bench.measure import Sample, client, ollama_chat, tradia_task
from bench.render import MODEL, Rendered
from bench.scenarios.common import summarise
from bench.stack import LocalStack, SimConfig
from bench.workload import closed_loop, ollama_body, translation

PROFILE = "rtx4090"
TEXT_CHARS = 800


def _address(user: int) -> str:
    return f"127.0.0.{10 + user}"


async def _mode(stack: LocalStack, mode: str, users: int, per_user: int) -> list[Sample]:
    clients = []
    for user in range(users):
        if mode == "direct":
            clients.append(client(stack.sim_url, local_address=_address(user)))
        elif mode == "ai_traefik":
            clients.append(
                client(stack.ai_url, ca=stack.ca, auth=stack.ai_auth, local_address=_address(user))
            )
        else:
            clients.append(
                client(
                    stack.app_url,
                    ca=stack.ca,
                    auth=stack.app_auth,
                    local_address=_address(user),
                    browser=True,
                )
            )

    async def send(user: int, index: int) -> Sample:
        request = translation(TEXT_CHARS, seed=user * 1000 + index)
        if mode in ("direct", "ai_traefik"):
            return await ollama_chat(clients[user], ollama_body(request, MODEL), "translate")
        return await tradia_task(clients[user], request)

    try:
        # One warm-up request per user: connections (and TLS sessions) open, as for a user
        # already on the page. Not counted.
        await closed_loop(users, send, per_user=1)
        return await closed_loop(users, send, per_user=per_user)
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))


def run(workdir: Path, quick: bool, rendered: dict[str, Rendered]) -> dict[str, Any]:
    """`rendered`: the roles' files with the app server's login ("login") and without ("open")."""
    rows: list[dict[str, Any]] = []
    for users in (1, 20):
        per_user = (3 if quick else 20) if users == 1 else (1 if quick else 5)
        sim = SimConfig(profile=PROFILE, num_parallel=users)
        plan = [("login", ["direct", "ai_traefik", "chain"]), ("open", ["chain_no_login"])]
        for variant, modes in plan:
            with LocalStack(rendered[variant], sim, concurrency=users) as stack:
                for mode in modes:
                    samples = asyncio.run(
                        _mode(stack, "chain" if mode == "chain_no_login" else mode, users, per_user)
                    )
                    rows.append({"users": users, "mode": mode, **summarise(samples)})
    return {"profile": PROFILE, "text_chars": TEXT_CHARS, "rows": rows}

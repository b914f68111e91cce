"""Part 1, relay overhead: the same translation requests (a) straight to the simulator, (b)
through the AI server's Traefik (TLS + basic auth), (c) through the whole chain (app server's
Traefik with the users' login, the app, the AI server's Traefik), at 1 and 20 users, rtx4090.

(c) runs twice: with the app server's login (Traefik's basic auth: one bcrypt check per
request) and without it, to tell the login's cost from the relay's. (d) is the whole chain as
the session modes deploy it (app_server_auth: local): Traefik asks for no password, each user
signs in once through the app's form (not counted), then sends its session cookie.
"""

import asyncio
from pathlib import Path
from typing import Any

from bench.measure import Sample, client, ollama_chat, sign_in, tradia_task
from bench.render import LOGIN, MODEL, Rendered, bcrypt_cost
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
            # From the app server's address, as the app's requests come: the AI server's
            # gateway lets the app servers' client in from their addresses only (403 otherwise).
            clients.append(client(stack.ai_url, ca=stack.ca, auth=stack.ai_auth))
        else:
            # chain_session: stack.app_auth is None (no Traefik login), the cookie signs in.
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
        if mode == "chain_session":
            await asyncio.gather(*(sign_in(c, LOGIN) for c in clients))
        # One warm-up request per user: connections (and TLS sessions) open, as for a user
        # already on the page. Not counted.
        await closed_loop(users, send, per_user=1)
        return await closed_loop(users, send, per_user=per_user)
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))


def run(workdir: Path, quick: bool, rendered: dict[str, Rendered]) -> dict[str, Any]:
    """`rendered`: the roles' files with the app server's login ("login"), without ("open") and
    with the app's own sign-in ("session"). Each variant is its own stack, started in turn (a
    restart is cheaper on two cores than a second app and Traefik running beside the first)."""
    rows: list[dict[str, Any]] = []
    for users in (1, 20):
        per_user = (3 if quick else 20) if users == 1 else (1 if quick else 5)
        sim = SimConfig(profile=PROFILE, num_parallel=users)
        plan = [
            ("login", ["direct", "ai_traefik", "chain"]),
            ("open", ["chain_no_login"]),
            ("session", ["chain_session"]),
        ]
        for variant, modes in plan:
            with LocalStack(rendered[variant], sim, concurrency=users) as stack:
                for mode in modes:
                    sent = "chain" if mode == "chain_no_login" else mode
                    samples = asyncio.run(_mode(stack, sent, users, per_user))
                    rows.append({"users": users, "mode": mode, **summarise(samples)})
    app = {variant: r.directory / "app" for variant, r in rendered.items()}
    return {
        "profile": PROFILE,
        "text_chars": TEXT_CHARS,
        "rows": rows,
        # What the roles rendered for this run (their defaults), whatever they are by then.
        "bcrypt_cost": {
            "login": bcrypt_cost(app["login"] / "traefik" / "users"),
            "session": bcrypt_cost(app["session"] / "auth" / "users"),
        },
    }

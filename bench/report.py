"""bench/RESULTS.md from the parts' JSON results (bench/results/<part>.json) and NOTES.md."""

import json
from pathlib import Path
from typing import Any

from bench import goals

TITLES = {
    "relay": "1. Relay overhead",
    "users": "2. Twenty users, mixed workload",
    "deploy": "3. Deployment",
    "scaleout": "4. Scale-out",
    "llama": "5. Real model (SmolLM2-135M on llama.cpp)",
    "peers": "6. Peers: Open WebUI on the same simulator",
}
MODES = {
    "direct": "(a) straight to the simulator",
    "ai_traefik": "(b) AI server's Traefik (TLS + key)",
    "chain": "(c) whole chain, with the users' login",
    "chain_no_login": "(c') whole chain, no login",
    "chain_session": "(d) whole chain, signed in (session cookie)",
}


def table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1f}"
    if isinstance(value, list) and len(value) == 2:
        return f"{_cell(value[0])} / {_cell(value[1])}"
    return str(value)


def _meta(part: dict[str, Any]) -> str:
    m = part["meta"]
    load = " / ".join(f"{x:.2f}" for x in m["before"]["load_1_5_15"])
    load_after = " / ".join(f"{x:.2f}" for x in m["after"]["load_1_5_15"])
    return (
        f"_Run {m['before']['time']}, {m['seconds']:.0f} s, {m['before']['cpus']} CPUs "
        f"({m['before']['cpu_model'] or 'unknown'}), load average 1/5/15 min {load} before, "
        f"{load_after} after{', QUICK run' if m['quick'] else ''}._"
    )


def relay_section(r: dict[str, Any]) -> str:
    rows = [
        [
            row["users"],
            MODES.get(row["mode"], row["mode"]),
            row["requests"],
            row["failed"],
            row["ttft_ms"],
            row["tokens_per_s"],
            row["stream_tokens_per_s_p50"],
        ]
        for row in r["rows"]
    ]
    return (
        f"Profile `{r['profile']}`, the same translation requests ({r['text_chars']} characters)"
        " in every mode, OLLAMA_NUM_PARALLEL = app concurrency = users."
        + _relay_logins(r.get("bcrypt_cost") or {})
        + "\n\n"
        + table(
            [
                "users",
                "path",
                "requests",
                "failed",
                "TTFT p50 / p95 ms",
                "aggregate tok/s",
                "per-stream tok/s p50",
            ],
            rows,
        )
        + "\n\n![TTFT by path](results/relay.png)"
    )


def _relay_logins(costs: dict[str, int | None]) -> str:
    """How (c) and (d) sign users in, with the bcrypt costs the roles rendered for the run."""
    text = ""
    if costs.get("login"):
        text += (
            f" (c): Traefik's basic auth, bcrypt cost {costs['login']}, checked by Traefik on"
            " every request."
        )
    if costs.get("session"):
        text += (
            " (d): the app's own sign-in (app_server_auth local, Traefik without a login), bcrypt"
            f" cost {costs['session']}, checked once at sign-in (not counted), then a signed"
            " session cookie on every request."
        )
    return text


def users_section(r: dict[str, Any]) -> str:
    rows = [
        [
            row["profile"],
            row["parallel"],
            row["all"]["requests"],
            row["all"]["failed"],
            row["llm_calls"],
            row["throughput_tokens_per_s"],
            row["capacity_tokens_per_s"],
            f"{row['share_of_capacity']:.1%}",
            row["short"]["queue_wait_ms"],
            row["short"]["ttft_ms"],
            row["long"]["ttft_ms"],
        ]
        for row in r["rows"]
    ]
    mix = ", ".join(f"{task} {weight:.0%}" for task, weight in r["mix"].items())
    return (
        f"{r['users']} users in a closed loop, mix: {mix}. Through the whole chain; the app's"
        " concurrency = OLLAMA_NUM_PARALLEL. Capacity = what the simulated GPU delivers on the"
        " same requests with every slot busy (bench/capacity.py). Queue wait is the app's own"
        " (its `done` event), TTFT is the client's (queue included).\n\n"
        + table(
            [
                "profile",
                "NUM_PARALLEL",
                "requests",
                "failed",
                "LLM calls",
                "tok/s",
                "capacity tok/s",
                "share",
                "short: queue wait p50 / p95 ms",
                "short: TTFT p50 / p95 ms",
                "long: TTFT p50 / p95 ms",
            ],
            rows,
        )
        + "\n\n![Share of capacity and short-task TTFT](results/users.png)"
    )


def deploy_section(r: dict[str, Any]) -> str:
    rows = [
        [
            run["run"],
            run["site_seconds"],
            run["total_changed"],
            run["failed"],
            ", ".join(f"{h} {c}" for h, c in run["changed"].items()),
        ]
        for run in r["runs"]
    ]
    return (
        "Fresh lab (scripts/demo.sh: one AI server, one app server), `site.yml` twice.\n\n"
        + table(["run", "site.yml s", "changed", "failed", "changed per host"], rows)
    )


def scaleout_section(r: dict[str, Any]) -> str:
    rows = [
        [
            step["servers"],
            step.get("site_seconds"),
            step["requests"],
            step["failed"],
            step["throughput_tokens_per_s"],
            f"{step['ratio']:.2f}x",
            ", ".join(f"{h}: {n}" for h, n in step["completed_by_server"].items()),
        ]
        for step in r["steps"]
    ]
    return (
        f"Lab with the scripted `{r['profile']}` simulator, OLLAMA_NUM_PARALLEL 2 per AI server,"
        f" {r['users_per_server']} users per AI server, app concurrency 2 per AI server (the"
        " roles' defaults). Each added server: `TRADIA_LAB_AI_SERVERS=n scripts/demo.sh`, i.e."
        " one more host in the lab inventory and site.yml rerun.\n\n"
        + table(
            [
                "AI servers",
                "site.yml s (adding it)",
                "requests",
                "failed",
                "tok/s",
                "ratio",
                "requests per server in the window",
            ],
            rows,
        )
        + "\n\n![Scale-out](results/scaleout.png)"
    )


def llama_section(r: dict[str, Any]) -> str:
    rows = [
        [
            {"direct": "straight to the simulator, idle", "chain": "whole chain"}[row["mode"]],
            row["requests"],
            row["failed"],
            row["ttft_ms"],
            row["stream_tokens_per_s_p50"],
            row["tokens_per_s"],
        ]
        for row in r["rows"]
    ]
    return (
        f"`{r['model']}`, one user, one request at a time, the same translations (300"
        f" characters) both ways, each read for its first {r.get('max_tokens', '-')} tokens.\n\n"
    ) + table(
        ["path", "requests", "failed", "TTFT p50 / p95 ms", "decode tok/s p50", "tok/s incl. TTFT"],
        rows,
    )


PEER_PATHS = {
    "direct": "straight to the simulator",
    "chain": "Tradia, whole chain with login",
    "owui_ollama": "Open WebUI, /ollama/api/chat",
    "owui_openai": "Open WebUI, /api/chat/completions",
}


def peers_section(r: dict[str, Any]) -> str:
    peer = r["peer"]
    installed = (
        f"installed earlier in {peer['install_seconds']:.0f} s"
        if peer["reused"]
        else f"installed by this run in {peer['install_seconds']:.0f} s"
    )
    rows = [
        [
            row["profile"],
            row["parallel"],
            row["users"],
            PEER_PATHS.get(row["path"], row["path"]),
            row["requests"],
            row["failed"],
            row["ttft_ms"],
            row["added_ttft_ms"],
            row["tokens_per_s"],
            f"{row['tokens_ratio']:.3f}x" if row["tokens_ratio"] is not None else None,
            row["server_cpu_s_per_100"],
            row["server_peak_rss_mib"],
        ]
        for row in r["rows"]
    ]
    queue = [
        [
            PEER_PATHS.get(q["product"], q["product"]),
            q["headers_ms"],
            q["first_seen"],
            q["first_seen_ms"],
            q["first_token_ms"],
            ", ".join(q["queue_updates"]) or "-",
        ]
        for q in r["queue"]
    ]
    kill = [
        [
            PEER_PATHS.get(k["product"], k["product"]),
            k["killed_after_tokens"],
            k["error_after_ms"],
            k["outcome"],
        ]
        for k in r["kill"]
    ]
    return (
        f"Open WebUI {peer['version']} (PyPI `open-webui`, bench/requirements-peers.txt, Python"
        f" {peer['python']}), its own venv {peer['size_bytes'] / 1e9:.1f} GB, {installed};"
        f" started offline in {peer['start_seconds']:.0f} s, admin and API key made through its"
        " API. Both products in front of the same simulator, in the same run, with part 1's"
        f" translation requests ({r['text_chars']} characters). Tradia's app concurrency ="
        " OLLAMA_NUM_PARALLEL; Open WebUI passes every request on (the simulator queues them)."
        " Added = over the straight path in the same cell. Server = Tradia's app and both"
        " Traefiks, Open WebUI's process tree; CPU per 100 requests sent (warm-up included),"
        " peak RSS summed over the processes.\n\n"
        + table(
            [
                "profile",
                "NUM_PARALLEL",
                "users",
                "path",
                "requests",
                "failed",
                "TTFT p50 / p95 ms",
                "added p50 / p95 ms",
                "aggregate tok/s",
                "tok/s vs direct",
                "server CPU s / 100 req",
                "server peak RSS MiB",
            ],
            rows,
        )
        + "\n\n![Added TTFT by product](results/peers.png)\n\n"
        f"**A user queued behind others** (rtx4090, NUM_PARALLEL 1, Tradia's concurrency 1;"
        f" {r['ahead']} users sent just before, through the same product): what the stream"
        " shows first, and when (ms from sending).\n\n"
        + table(
            [
                "product",
                "headers ms",
                "first thing seen",
                "at ms",
                "first token ms",
                "queue updates seen",
            ],
            queue,
        )
        + "\n\n**The AI server dies mid-answer** (the simulator SIGKILLed after the user read"
        f" some tokens): time until the user's stream shows an error or ends (the client gives"
        f" up after {r['kill_wait_s']:.0f} s), and what it shows.\n\n"
        + table(
            ["product", "killed after tokens", "error seen after ms", "what the user gets"], kill
        )
    )


SECTIONS = {
    "relay": relay_section,
    "users": users_section,
    "deploy": deploy_section,
    "scaleout": scaleout_section,
    "llama": llama_section,
    "peers": peers_section,
}


def goals_table(results: dict[str, dict[str, Any]]) -> str:
    rows = []
    for part, check in goals.CHECKS.items():
        if part in results:
            rows += [
                [part, g.goal, g.measured, "met" if g.met else "**missed**"]
                for g in check(results[part])
            ]
    return table(["part", "goal", "measured", ""], rows)


def render(results: dict[str, dict[str, Any]], notes: str) -> str:
    parts = [
        "# Benchmarks",
        "",
        "Generated by `make bench` (bench/; `BENCH_PARTS`, `BENCH_QUICK=1`) from"
        " bench/results/*.json; do not edit by hand: the analysis is in bench/NOTES.md and"
        " copied below. Every ratio compares figures measured in the same run, on the same"
        " machine. The GPU is simulated (tools/ollama_sim, scripted backend with a timing"
        " profile), so the figures measure our stack against a known backend capacity, not a"
        " real GPU.",
        "",
        "## Goals",
        "",
        goals_table(results),
    ]
    for part, title in TITLES.items():
        if part in results:
            parts += [
                "",
                f"## {title}",
                "",
                _meta(results[part]),
                "",
                SECTIONS[part](results[part]),
            ]
    if notes.strip():
        parts += ["", notes.strip()]
    return "\n".join(parts) + "\n"


def write(results_dir: Path, out: Path, notes_file: Path) -> None:
    results = {
        part: json.loads((results_dir / f"{part}.json").read_text())
        for part in TITLES
        if (results_dir / f"{part}.json").is_file()
    }
    notes = notes_file.read_text() if notes_file.is_file() else ""
    out.write_text(render(results, notes))

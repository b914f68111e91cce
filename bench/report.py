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


SECTIONS = {
    "relay": relay_section,
    "users": users_section,
    "deploy": deploy_section,
    "scaleout": scaleout_section,
    "llama": llama_section,
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

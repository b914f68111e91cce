"""Small PNG plots for RESULTS.md (matplotlib, no display)."""

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

_SIZE = (6.0, 3.2)
_DPI = 80


def relay(result: dict[str, Any], out: Path) -> None:
    modes = ["direct", "ai_traefik", "chain_no_login", "chain", "chain_session"]
    labels = ["(a) sim", "(b) AI Traefik", "(c') chain, no login", "(c) chain", "(d) session"]
    fig, axes = plt.subplots(1, 2, figsize=_SIZE, dpi=_DPI)
    for ax, users in zip(axes, (1, 20), strict=True):
        rows = {r["mode"]: r for r in result["rows"] if r["users"] == users}
        p50 = [rows[m]["ttft_ms"][0] if m in rows and rows[m]["ttft_ms"] else 0 for m in modes]
        p95 = [rows[m]["ttft_ms"][1] if m in rows and rows[m]["ttft_ms"] else 0 for m in modes]
        ax.bar(range(len(modes)), p95, color="#c8d6e5", label="p95")
        ax.bar(range(len(modes)), p50, color="#2e86de", label="p50")
        ax.set_xticks(range(len(modes)), labels, rotation=30, ha="right", fontsize=7)
        ax.set_title(f"TTFT, {users} user{'s' if users > 1 else ''} (ms)", fontsize=9)
        ax.tick_params(axis="y", labelsize=7)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def users(result: dict[str, Any], out: Path) -> None:
    fig, axes = plt.subplots(1, 2, figsize=_SIZE, dpi=_DPI)
    for profile, color in (("l4", "#ee5253"), ("rtx4090", "#2e86de")):
        rows = [r for r in result["rows"] if r["profile"] == profile]
        parallel = [r["parallel"] for r in rows]
        axes[0].plot(
            parallel, [r["share_of_capacity"] * 100 for r in rows], "o-", color=color, label=profile
        )
        axes[1].plot(
            parallel,
            [(r["short"]["ttft_ms"] or [0, 0])[1] / 1000 for r in rows],
            "o-",
            color=color,
            label=profile,
        )
    axes[0].axhline(95, color="grey", linestyle="--", linewidth=1)
    axes[0].set_title("throughput, % of capacity", fontsize=9)
    axes[1].set_title("short tasks: TTFT p95 (s)", fontsize=9)
    for ax in axes:
        ax.set_xlabel("OLLAMA_NUM_PARALLEL", fontsize=8)
        ax.set_xticks([1, 2, 4])
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def scaleout(result: dict[str, Any], out: Path) -> None:
    steps = result["steps"]
    servers = [s["servers"] for s in steps]
    fig, ax = plt.subplots(figsize=(3.6, 3.0), dpi=_DPI)
    ax.plot(servers, servers, "--", color="grey", linewidth=1, label="linear")
    ax.plot(servers, [s["ratio"] for s in steps], "o-", color="#2e86de", label="measured")
    ax.set_xlabel("AI servers", fontsize=8)
    ax.set_ylabel("throughput / one server", fontsize=8)
    ax.set_xticks(servers)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def peers(result: dict[str, Any], out: Path) -> None:
    """Added TTFT p50 (bar) and p95 (tick) over the straight path, per cell and product."""
    paths = [("chain", "Tradia", "#2e86de"), ("owui_ollama", "OWUI /ollama", "#ee5253")]
    paths.append(("owui_openai", "OWUI /api/chat", "#ff9f43"))
    cells = sorted({(r["profile"], r["parallel"], r["users"]) for r in result["rows"]})
    fig, ax = plt.subplots(figsize=(max(_SIZE[0], 1.4 * len(cells)), _SIZE[1]), dpi=_DPI)
    width = 0.8 / len(paths)
    rows = {(r["profile"], r["parallel"], r["users"], r["path"]): r for r in result["rows"]}
    for i, (path, label, color) in enumerate(paths):
        added = [rows.get((*cell, path), {}).get("added_ttft_ms") for cell in cells]
        x = [c + (i - (len(paths) - 1) / 2) * width for c in range(len(cells))]
        ax.bar(x, [a[0] if a else 0 for a in added], width, color=color, label=label)
        ax.plot(x, [a[1] if a else 0 for a in added], "_", color="black", markersize=8)
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_xticks(range(len(cells)), [f"{p}\nNP {n}, {u} u" for p, n, u in cells], fontsize=7)
    ax.set_title("added TTFT over the simulator, p50 (bar) / p95 (tick), ms", fontsize=9)
    ax.tick_params(axis="y", labelsize=7)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


PLOTS = {"relay": relay, "users": users, "scaleout": scaleout, "peers": peers}

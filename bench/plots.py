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


PLOTS = {"relay": relay, "users": users, "scaleout": scaleout}

"""`python -m bench` (make bench): run the parts, save their results, write RESULTS.md.

Env: BENCH_PARTS (comma-separated, default relay,users,deploy,scaleout,llama; `peers` runs
only when named: it installs Open WebUI, ~7 GB, into $TRADIA_CACHE/peers/ and takes half an
hour), BENCH_QUICK=1 (a short smoke run: few requests, short windows). Parts not run keep their
last results in bench/results/, so RESULTS.md always shows every part, each with its own date.
"""

import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import machine, plots, report
from bench.render import Rendered, render
from bench.scenarios import deploy, llama, peers, relay, scaleout, users

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
DEFAULT_PARTS = ("relay", "users", "deploy", "scaleout", "llama")
PARTS = (*DEFAULT_PARTS, "peers")


def main() -> int:
    wanted = os.environ.get("BENCH_PARTS", ",".join(DEFAULT_PARTS))
    parts = [p.strip() for p in wanted.split(",") if p.strip()]
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        print(f"bench: unknown part(s) {unknown}; known: {', '.join(PARTS)}", file=sys.stderr)
        return 2
    quick = os.environ.get("BENCH_QUICK", "") not in ("", "0")
    workdir = Path(tempfile.mkdtemp(prefix="tradia-bench-"))
    logs = Path(os.environ.get("TRADIA_CACHE", Path.home() / ".cache" / "tradia")) / "bench"
    logs.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(exist_ok=True)
    renders: dict[str, Rendered] = {}

    def rendered(variant: str) -> Rendered:
        if variant not in renders:
            renders[variant] = render(
                workdir / f"render-{variant}",
                login=variant == "login",
                session=variant == "session",
            )
        return renders[variant]

    runners: dict[str, Callable[[], dict[str, Any]]] = {
        "relay": lambda: relay.run(
            workdir, quick, {v: rendered(v) for v in ("login", "open", "session")}
        ),
        "users": lambda: users.run(workdir, quick, rendered("login")),
        "deploy": lambda: deploy.run(logs, quick),
        "scaleout": lambda: scaleout.run(logs, quick),
        "llama": lambda: llama.run(workdir, quick, rendered("login")),
        "peers": lambda: peers.run(workdir, quick, rendered("login")),
    }
    try:
        for part in parts:
            print(f"bench: {part}{' (quick)' if quick else ''} ...", flush=True)
            before, started = machine.snapshot(), time.monotonic()
            result = runners[part]()
            seconds = time.monotonic() - started
            result["meta"] = {
                "before": before,
                "after": machine.snapshot(),
                "seconds": round(seconds, 1),
                "quick": quick,
            }
            (RESULTS / f"{part}.json").write_text(json.dumps(result, indent=1) + "\n")
            if part in plots.PLOTS:
                plots.PLOTS[part](result, RESULTS / f"{part}.png")
            print(f"bench: {part} done in {seconds:.0f} s", flush=True)
    finally:
        # The stacks' logs (Traefik access logs, the app's) are kept next to the lab's.
        shutil.copytree(workdir, logs / "last-run", dirs_exist_ok=True, ignore=_keys)
        shutil.rmtree(workdir, ignore_errors=True)
        report.write(RESULTS, HERE / "RESULTS.md", HERE / "NOTES.md")
    print(f"bench: wrote {HERE / 'RESULTS.md'}")
    return 0


def _keys(directory: str, names: list[str]) -> list[str]:
    """Leave the throwaway keys and the models out of the kept logs."""
    return [n for n in names if n.endswith(".key") or n in ("models", "secrets")]


if __name__ == "__main__":
    sys.exit(main())

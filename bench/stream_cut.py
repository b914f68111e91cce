"""Reproduce the stream cuts of bench/NOTES.md: HTTP/1.1-over-TLS streams through the app
server's Traefik, with the CPU contended, some end right after the first event.

    python -m bench.stream_cut [--requests 30] [--busy 3] [--http2]

Renders the roles' Traefik files, starts the local stack (bench.stack), keeps `--busy` CPU
loops running, sends sequential translations with one client and prints each cut. With
`--http2` (what browsers speak) none is expected.
"""

import argparse
import asyncio
import multiprocessing
import tempfile
from pathlib import Path

from bench.measure import client, tradia_task
from bench.render import render
from bench.stack import LocalStack, SimConfig
from bench.workload import translation

TEXT_CHARS = 400


def _spin() -> None:
    while True:
        pass


async def _translations(stack: LocalStack, requests: int, http2: bool) -> int:
    cuts = 0
    http = client(stack.app_url, ca=stack.ca, auth=stack.app_auth, timeout=60, browser=http2)
    try:
        for number in range(requests):
            sample = await tradia_task(http, translation(TEXT_CHARS, seed=number))
            if sample.ok:
                print(number, "done", flush=True)
            else:
                cuts += 1
                print(number, f"CUT after {sample.duration:.2f} s: {sample.error}", flush=True)
    finally:
        await http.aclose()
    return cuts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--busy", type=int, default=3, help="CPU loops competing with the stack")
    parser.add_argument("--http2", action="store_true", help="speak HTTP/2, as browsers do")
    args = parser.parse_args()
    loops = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(args.busy)]
    with tempfile.TemporaryDirectory(prefix="stream-cut-") as scratch:
        rendered = render(Path(scratch), login=True)
        with LocalStack(rendered, SimConfig(profile="rtx4090", num_parallel=1), 1) as stack:
            for loop in loops:
                loop.start()
            try:
                cuts = asyncio.run(_translations(stack, args.requests, args.http2))
            finally:
                for loop in loops:
                    loop.terminate()
    protocol = "HTTP/2" if args.http2 else "HTTP/1.1"
    print(f"{protocol}, {args.busy} busy loops: {cuts} of {args.requests} streams cut")


if __name__ == "__main__":
    main()

"""A tiny `ollama` command, so images run the same healthcheck as the official one.

`ollama list`, `ollama ps` and `ollama --version` talk to the server at OLLAMA_HOST like the
real CLI (exit 1 when it does not answer); `ollama serve` starts the simulator.
"""

import json
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from ollama_sim import OLLAMA_VERSION
from ollama_sim.settings import DEFAULT_PORT, SettingsError, load_settings, parse_host

USAGE = "usage: ollama [--version] {serve,list,ps}"
TIMEOUT_S = 5.0
# keep_alive < 0 puts expires_at ~292 years ahead; the real CLI shows that as "Forever".
FOREVER_AFTER_YEAR = 2200


def _base_url() -> str:
    host, port = parse_host(os.environ.get("OLLAMA_HOST", f"127.0.0.1:{DEFAULT_PORT}"))
    if host in ("0.0.0.0", "::"):  # noqa: S104 - a bind-all address is reached via loopback
        host = "127.0.0.1"
    return f"http://{host}:{port}"


def _get(path: str) -> Any:
    url = f"{_base_url()}{path}"
    with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:  # noqa: S310 - http only
        return json.load(response)


def _size(count: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} B"


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "    ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
    )


def _list() -> str:
    rows = [["NAME", "ID", "SIZE", "MODIFIED"]]
    for model in _get("/api/tags")["models"]:
        rows.append(
            [
                model["name"],
                model["digest"][:12],
                _size(model["size"]),
                model["modified_at"][:19].replace("T", " "),
            ]
        )
    return _table(rows)


def _until(expires_at: str) -> str:
    until = datetime.fromisoformat(expires_at[:26].rstrip("Z")).replace(tzinfo=UTC)
    if until.year > FOREVER_AFTER_YEAR:
        return "Forever"
    seconds = max(0, int((until - datetime.now(UTC)).total_seconds()))
    return f"{seconds // 60} minutes from now" if seconds >= 120 else f"{seconds} seconds from now"


def _ps() -> str:
    rows = [["NAME", "ID", "SIZE", "PROCESSOR", "CONTEXT", "UNTIL"]]
    for model in _get("/api/ps")["models"]:
        size = _size(model["size"])
        context = str(model["context_length"])
        until = _until(model["expires_at"])
        rows.append([model["name"], model["digest"][:12], size, "100% GPU", context, until])
    return _table(rows)


def _version() -> int:
    try:
        server = _get("/api/version")["version"]
    except (OSError, urllib.error.URLError, ValueError):
        print("Warning: could not connect to a running Ollama instance")
        print(f"Warning: client version is {OLLAMA_VERSION}")
        return 0
    print(f"ollama version is {server}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args in (["--version"], ["-v"], ["version"]):
        return _version()
    if args == ["serve"]:
        # Imported here: `ollama list` (a healthcheck) stays cheap without the server stack.
        from ollama_sim.cli import serve

        try:
            settings = load_settings()
        except SettingsError as error:
            print(f"Error: {error}", file=sys.stderr)
            return 1
        serve(settings)
        return 0
    commands = {"list": _list, "ls": _list, "ps": _ps}
    if len(args) != 1 or args[0] not in commands:
        print(USAGE, file=sys.stderr)
        return 2
    try:
        print(commands[args[0]]())
    except (OSError, urllib.error.URLError, ValueError):
        print("Error: could not connect to ollama app, is it running?", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

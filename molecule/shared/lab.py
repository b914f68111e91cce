"""What every molecule scenario's testinfra tests share: the lab's hosts by name, the values of
the scenario's inventory (keys and passwords are read from it, never copied into tests), and curl
run on a lab host. pyproject.toml puts this folder on pytest's path."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

import testinfra
import yaml

# curl's exit codes that tell why no HTTP status came back ("000" alone cannot tell them apart).
CURL_REFUSED = 7  # nothing listens there (or a REJECT)
CURL_TIMED_OUT = 28  # e.g. a firewall DROP: the connection never opens
CURL_CERT_REFUSED = 60  # the server's certificate does not verify against the CA given


def host(name: str) -> testinfra.host.Host:
    """A lab host, reached as molecule reaches it (its inventory)."""
    inventory = os.environ["MOLECULE_INVENTORY_FILE"]
    return testinfra.get_host(f"ansible://{name}?ansible_inventory={inventory}")


@cache
def inventory_vars(group: str = "all") -> dict[str, Any]:
    """The group's variables as molecule.yml gives them (molecule writes them beside the
    inventory), so a test never holds its own copy of a key or a password."""
    path = Path(os.environ["MOLECULE_INVENTORY_FILE"]).parent / "group_vars" / group
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def write_file(on: testinfra.host.Host, path: str, content: str) -> None:
    """Write `content` to `path` on a lab host (a CA for curl, a curl config)."""
    on.run_expect([0], "mkdir -p %s && printf '%%s' %s > %s", str(Path(path).parent), content, path)


def curl_status(
    on: testinfra.host.Host, url: str, *args: str, ca_pem: str | None = None, timeout: int = 10
) -> tuple[int, str]:
    """(curl's exit code, HTTP status) of one request from `on`; with `ca_pem`, the server's
    certificate is checked against it."""
    options = []
    if ca_pem is not None:
        write_file(on, "/tmp/tradia/ca.crt", ca_pem)
        options = ["--cacert", "/tmp/tradia/ca.crt"]
    result = on.run(
        "curl -s -o /dev/null -w %s --max-time %s" + " %s" * (len(options) + len(args) + 1),
        "%{http_code}",
        str(timeout),
        *options,
        *args,
        url,
    )
    return result.rc, result.stdout.strip()


def curl_burst(on: testinfra.host.Host, url: str, count: int, *args: str) -> list[str]:
    """The HTTP statuses of `count` GETs of `url` sent at once from `on` by one curl (HTTP/2,
    20 in flight): fast enough for any rate limit, whatever the CPU, unlike a process or a TLS
    handshake per request."""
    # A config file gives each URL its own output (the bodies are not wanted).
    write_file(
        on,
        "/tmp/tradia/burst.cfg",
        "".join(f'url = "{url}"\noutput = "/dev/null"\n' for _ in range(count)),
    )
    result = on.run(
        "curl -sg --parallel --parallel-max 20 --max-time 60 -w %s"
        + " %s" * len(args)
        + " -K /tmp/tradia/burst.cfg",
        "%{http_code}\\n",
        *args,
    )
    return result.stdout.split()


# The simulator's admin routes (/_sim/...) are no Ollama API: the AI server's gateway refuses
# them to every client. The tests call them inside Ollama's container, on its own loopback.
SIM_ADMIN = (
    "import os, sys, urllib.request;"
    " port = os.environ['OLLAMA_HOST'].rsplit(':', 1)[1];"
    " urllib.request.urlopen(urllib.request.Request("
    "f'http://127.0.0.1:{port}/_sim/fault', method=sys.argv[1], data=sys.argv[2].encode() or None,"
    " headers={'Content-Type': 'application/json'}), timeout=10)"
)


def set_ai_fault(ai_server: testinfra.host.Host, fault: str) -> None:
    """A simulator fault on the AI server (a JSON object: kind, after, delay, count)."""
    ai_server.run_expect([0], "docker exec tradia-ollama python3 -c %s POST %s", SIM_ADMIN, fault)


def clear_ai_fault(ai_server: testinfra.host.Host) -> None:
    """No fault left behind for the next test."""
    ai_server.run_expect([0], "docker exec tradia-ollama python3 -c %s DELETE ''", SIM_ADMIN)

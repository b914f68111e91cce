"""The real Traefik binary with the keyauth plugin in front of a recording backend.

What the AI server's gateway is meant to be, in miniature (the lead templates the same YAML):

    entrypoint ollama -> router `ollama` (PathPrefix /; keyauth: key -> X-Tradia-Client)
        -> router `ollama-client-<name>` (Header X-Tradia-Client = name; allow list, rate limit)
            -> `ollama-client-<name>-<scope>` (the scope's paths) -> service ollama
            -> `ollama-client-<name>-denied` (any other path, priority 1; keyauth deny: 403)

Traefik's multi-layer routing (`parentRefs`, file provider) is what lets a router match the
header a middleware sets: entrypoint middlewares run after routing (they are prepended to each
router's own middlewares), so they cannot.
"""

import base64
import hashlib
import http.server
import json
import os
import shutil
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from ollama_sim.testing import ServerProcess, free_port, http_status

REPO = Path(__file__).resolve().parents[3]
PLUGIN_SOURCES = REPO / "roles" / "ai_server" / "files" / "traefik-plugins" / "src"
MODULE = "github.com/tradia/keyauth"
CLIENT_HEADER = "X-Tradia-Client"
TRAEFIK = Path(sys.executable).parent / "traefik"

# The scopes as router rules.
SCOPE_RULES = {
    "inference": " || ".join(
        [
            *(
                f"Path(`/api/{name}`)"
                for name in ("chat", "generate", "embed", "embeddings", "tags", "show")
            ),
            "Path(`/api/version`)",
            "Path(`/api/ps`)",
            "PathPrefix(`/v1/`)",
        ]
    ),
    "models": " || ".join(
        [
            *(f"Path(`/api/{name}`)" for name in ("pull", "create", "copy", "delete", "push")),
            "PathPrefix(`/api/blobs/`)",
        ]
    ),
}


def digest(key: str) -> str:
    """What the configuration holds for a key: its SHA-256 in lower-case hex."""
    return hashlib.sha256(key.encode()).hexdigest()


def basic(user: str, key: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{key}".encode()).decode()


@dataclass(frozen=True)
class Client:
    """One entry of the issue's client list: {name, key(s), scopes, allowed_from, rate_limit}."""

    name: str
    keys: tuple[str, ...]
    scopes: tuple[str, ...] = ("inference",)
    allowed_from: tuple[str, ...] = ("127.0.0.1/32",)
    rate_limit: tuple[int, int, str] = (1000, 1000, "1s")  # average, burst, period


def dynamic_config(clients: list[Client], backend_url: str) -> dict[str, Any]:
    """The file provider's configuration for `clients` (no key in clear: digests only)."""
    routers: dict[str, Any] = {
        "ollama": {
            "entryPoints": ["ollama"],
            "rule": "PathPrefix(`/`)",
            "middlewares": ["ollama-keyauth"],
        }
    }
    middlewares: dict[str, Any] = {
        "ollama-keyauth": {
            "plugin": {
                "keyauth": {
                    "clientHeader": CLIENT_HEADER,
                    "realm": "tradia-ai",
                    "clients": [
                        {"name": c.name, "keys": [digest(k) for k in c.keys]} for c in clients
                    ],
                }
            }
        },
        "ollama-keyauth-deny": {"plugin": {"keyauth": {"deny": True}}},
    }
    for c in clients:
        parent = f"ollama-client-{c.name}"
        routers[parent] = {
            "parentRefs": ["ollama"],
            "rule": f"Header(`{CLIENT_HEADER}`, `{c.name}`)",
            "middlewares": [f"{parent}-allowlist", f"{parent}-ratelimit"],
        }
        middlewares[f"{parent}-allowlist"] = {"ipAllowList": {"sourceRange": list(c.allowed_from)}}
        middlewares[f"{parent}-ratelimit"] = {
            "rateLimit": {
                "average": c.rate_limit[0],
                "burst": c.rate_limit[1],
                "period": c.rate_limit[2],
                # One bucket per client, wherever its requests come from.
                "sourceCriterion": {"requestHeaderName": CLIENT_HEADER},
            }
        }
        for scope in c.scopes:
            routers[f"{parent}-{scope}"] = {
                "parentRefs": [parent],
                "rule": SCOPE_RULES[scope],
                "service": "ollama",
            }
        routers[f"{parent}-denied"] = {
            "parentRefs": [parent],
            "rule": "PathPrefix(`/`)",
            "priority": 1,
            "middlewares": ["ollama-keyauth-deny"],
            # keyauth deny answers itself: this service is never called.
            "service": "noop@internal",
        }
    return {
        "http": {
            "routers": routers,
            "middlewares": middlewares,
            "services": {"ollama": {"loadBalancer": {"servers": [{"url": backend_url}]}}},
        }
    }


def static_config(
    directory: Path, port: int, metrics_port: int, *, entrypoint_middlewares: list[str]
) -> dict[str, Any]:
    ollama: dict[str, Any] = {"address": f"127.0.0.1:{port}"}
    if entrypoint_middlewares:
        ollama["http"] = {"middlewares": entrypoint_middlewares}
    return {
        "entryPoints": {
            "ollama": ollama,
            "metrics": {"address": f"127.0.0.1:{metrics_port}"},
        },
        "providers": {"file": {"directory": str(directory / "dynamic"), "watch": True}},
        "log": {"level": "INFO", "format": "json"},
        "accessLog": {
            "filePath": str(directory / "access.log"),
            "format": "json",
            # Every header dropped (Authorization above all) but the client's name.
            "fields": {"headers": {"defaultMode": "drop", "names": {CLIENT_HEADER: "keep"}}},
        },
        "metrics": {"prometheus": {"entryPoint": "metrics", "addRoutersLabels": True}},
        "global": {"checkNewVersion": False, "sendAnonymousUsage": False},
        # Sources under <cwd>/plugins-local/src/<moduleName>/: Traefik runs in `directory`.
        "experimental": {"localPlugins": {"keyauth": {"moduleName": MODULE}}},
    }


def write_yaml(path: Path, data: dict[str, Any]) -> None:
    """Write whole, then rename: the file provider's watcher never reads half a file."""
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(yaml.safe_dump(data, sort_keys=False))
    os.replace(partial, path)


@dataclass
class Gateway:
    """Traefik in `directory` (its cwd, where plugins-local/ lies) on free ports."""

    directory: Path
    port: int = field(default_factory=free_port)
    metrics_port: int = field(default_factory=free_port)
    process: ServerProcess | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    @property
    def dynamic_file(self) -> Path:
        return self.directory / "dynamic" / "ollama.yml"

    @property
    def access_log(self) -> Path:
        return self.directory / "access.log"

    def start(
        self, dynamic: dict[str, Any], *, entrypoint_middlewares: list[str] | None = None
    ) -> None:
        (self.directory / "dynamic").mkdir(parents=True, exist_ok=True)
        shutil.copytree(PLUGIN_SOURCES, self.directory / "plugins-local" / "src")
        static = self.directory / "traefik.yml"
        config = static_config(
            self.directory,
            self.port,
            self.metrics_port,
            entrypoint_middlewares=entrypoint_middlewares or [],
        )
        write_yaml(static, config)
        write_yaml(self.dynamic_file, dynamic)
        # Traefik resolves ./plugins-local against its working directory: env -C sets it.
        argv = ["env", "-C", str(self.directory), str(TRAEFIK), f"--configFile={static}"]
        self.process = ServerProcess(argv, self.directory / "traefik.log")

    def wait_status(
        self, path: str, headers: dict[str, str], status: int, timeout_s: float
    ) -> None:
        """Until `path` answers `status` (routers come from the file provider a moment later)."""
        assert self.process is not None
        self.process.wait_ready(
            lambda: http_status(self.url + path, headers=headers) == status,
            f"{path} answering {status}",
            timeout_s,
        )

    def log(self) -> list[dict[str, Any]]:
        """Traefik's own log, one JSON object a line."""
        text = self.process.output() if self.process else ""
        return [json.loads(line) for line in text.splitlines() if line.startswith("{")]

    def access_entries(self) -> list[dict[str, Any]]:
        lines = self.access_log.read_text().splitlines() if self.access_log.exists() else []
        return [json.loads(line) for line in lines]

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()


@dataclass
class Seen:
    """One request as the backend received it."""

    method: str
    path: str
    # Every value of every header, by lower-case name: a duplicate must not hide.
    headers: dict[str, list[str]]

    @property
    def clients(self) -> list[str]:
        return self.headers.get(CLIENT_HEADER.lower(), [])


class Backend:
    """A threaded HTTP/1.1 stand-in for Ollama that records every request's headers.

    /api/generate streams NDJSON lines until `release` is set, so a test holds a stream open
    across a configuration reload for as long as it needs, without a clock.
    """

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self.release = threading.Event()
        self.streaming = threading.Event()
        backend = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: object) -> None:  # the test output stays quiet
                return

            def _record(self) -> None:
                headers: dict[str, list[str]] = {}
                for name, value in self.headers.items():
                    headers.setdefault(name.lower(), []).append(value)
                backend.seen.append(Seen(self.command, self.path, headers))
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)

            def do_GET(self) -> None:
                self._record()
                self._json({"version": "0.0.0-backend"})

            def do_POST(self) -> None:
                self._record()
                if self.path == "/api/generate":
                    self._stream()
                else:
                    self._json({"status": "success"})

            def _json(self, payload: dict[str, Any]) -> None:
                body = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _chunk(self, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode() + b"\n"
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

            def _stream(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/x-ndjson")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                backend.streaming.set()
                count = 0
                while not backend.release.is_set():
                    self._chunk({"response": f"t{count}", "done": False})
                    count += 1
                    backend.release.wait(0.2)
                self._chunk({"response": "", "done": True, "chunks": count})
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> "Backend":
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def lines(response_text: str) -> Iterator[dict[str, Any]]:
    for line in response_text.splitlines():
        if line.strip():
            yield json.loads(line)

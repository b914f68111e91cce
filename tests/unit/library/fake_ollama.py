"""A tiny scriptable Ollama stand-in (stdlib http.server in a thread) for the module unit tests.

It keeps just enough state (models, blobs) for idempotence decisions, records every request,
and lets a test replace any route with its own answer.
"""

from __future__ import annotations

import hashlib
import json
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

GGUF_MAGIC = b"GGUF"


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body_len: int
    body_sha256: str
    body_json: Any = None


@dataclass
class Reply:
    status: int = 200
    body: bytes | str | Any = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    close_after: bool = False  # cut the connection after writing body (interrupted stream)


Route = Callable[["FakeOllama", Recorded], Reply]


def digest_of(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def ndjson(*items: dict[str, Any]) -> bytes:
    return b"".join(json.dumps(item).encode() + b"\n" for item in items)


class FakeOllama:
    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.models: dict[str, dict[str, Any]] = {}
        self.shows: dict[str, dict[str, Any]] = {}
        self.blobs: set[str] = set()
        self.requests: list[Recorded] = []
        self.routes: dict[tuple[str, str], Route] = {}
        self.pull_digests: dict[str, str] = {}
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                try:
                    parsed = json.loads(body) if body and body[:1] == b"{" else None
                except ValueError:
                    parsed = None
                rec = Recorded(
                    self.command,
                    self.path,
                    dict(self.headers.items()),
                    len(body),
                    hashlib.sha256(body).hexdigest(),
                    parsed,
                )
                owner.requests.append(rec)
                path = self.path.split("?", 1)[0]
                route = owner.routes.get((self.command, path))
                if route is None and path.startswith("/api/blobs/"):
                    route = owner.routes.get((self.command, "/api/blobs/*"))
                reply = route(owner, rec) if route else owner.default(rec, path, body)
                data = reply.body
                if not isinstance(data, (bytes, str)):
                    data = json.dumps(data)
                if isinstance(data, str):
                    data = data.encode()
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                if reply.close_after:
                    self.send_header("Connection", "close")
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(data)
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_HEAD = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        scheme = "https" if tls is not None else "http"
        host = "localhost" if tls is not None else "127.0.0.1"
        self.url = f"{scheme}://{host}:{self.server.server_address[1]}"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # ---- state helpers -----------------------------------------------------------------

    def add_model(
        self, name: str, digest: str | None = None, blob: str | None = None, **show: Any
    ) -> None:
        self.models[name] = {
            "name": name,
            "model": name,
            "size": 1000,
            "digest": digest or digest_of(name),
            "modified_at": "2026-11-26T16:00:00.000000000Z",
            "details": {"format": "gguf", "family": "llama"},
        }
        modelfile = f"FROM /root/.ollama/models/blobs/sha256-{blob or digest_of(name + 'blob')}\n"
        self.shows[name] = {"modelfile": modelfile, "parameters": "", "template": "", **show}

    def calls(self, method: str, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path.startswith(path)]

    # ---- the default Ollama behaviour --------------------------------------------------

    def default(self, rec: Recorded, path: str, body: bytes) -> Reply:
        payload = rec.body_json or {}
        if path == "/api/tags":
            return Reply(body={"models": list(self.models.values())})
        if path == "/api/version":
            return Reply(body={"version": "0.12.6"})
        if path == "/api/ps":
            return Reply(body={"models": []})
        if path == "/api/show":
            show = self.shows.get(payload.get("model", ""))
            if show is None:
                return Reply(404, {"error": f"model '{payload.get('model')}' not found"})
            return Reply(body=show)
        if path == "/api/delete":
            if self.models.pop(payload.get("model", ""), None) is None:
                return Reply(404, {"error": f"model '{payload.get('model')}' not found"})
            return Reply(body=b"")
        if path.startswith("/api/blobs/sha256:"):
            digest = path.rsplit(":", 1)[1]
            if rec.method == "HEAD":
                return Reply(200 if digest in self.blobs else 404)
            if hashlib.sha256(body).hexdigest() != digest:
                return Reply(400, {"error": "digest mismatch"})
            self.blobs.add(digest)
            return Reply(201)
        if path == "/api/pull":
            name = payload["model"]
            layer = "sha256:" + digest_of(name + "layer")
            self.add_model(name, self.pull_digests.get(name))
            return Reply(
                body=ndjson(
                    {"status": "pulling manifest"},
                    {"status": "pulling abc", "digest": layer, "total": 1000, "completed": 500},
                    {"status": "pulling abc", "digest": layer, "total": 1000, "completed": 1000},
                    {"status": "verifying sha256 digest"},
                    {"status": "writing manifest"},
                    {"status": "success"},
                ),
                content_type="application/x-ndjson",
            )
        if path == "/api/create":
            name = payload["model"]
            blob = next(iter(payload["files"].values())).split(":", 1)[1]
            if blob not in self.blobs:
                return Reply(400, {"error": f"blob sha256:{blob} not found"})
            self.add_model(
                name,
                digest_of(name + blob),
                blob,
                template=payload.get("template", ""),
                system=payload.get("system", ""),
            )
            return Reply(
                body=ndjson({"status": "using existing layer"}, {"status": "success"}),
                content_type="application/x-ndjson",
            )
        return Reply(404, b"404 page not found", "text/plain")

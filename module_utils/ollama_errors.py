# Copyright (c) 2026, Tradia
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How a failure talking to Ollama is named and explained.

Every failure becomes an :class:`OllamaError` whose ``kind`` names the cause (for
``failed_when`` / ``rescue``) and whose message says what to do.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import urllib.error
import urllib.parse
from typing import Any

AUTH_FAILED_MSG = "authentication failed: check the API key"
_MAX_ERROR_BODY = 64 * 1024

# Kinds an interrupted pull may recover from by simply pulling again.
RETRYABLE_KINDS = frozenset(
    {
        "connection_refused",
        "connection_lost",
        "timeout",
        "interrupted",
        "server_error",
        "stream_error",
    }
)


class OllamaError(Exception):
    """A failure talking to Ollama, classified by ``kind`` (see :func:`classify_exception`)."""

    def __init__(self, kind: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status

    def as_result(self) -> dict[str, Any]:
        """Keys a module adds to ``fail_json``."""
        result: dict[str, Any] = {"msg": self.message, "error_kind": self.kind}
        if self.status is not None:
            result["status"] = self.status
        return result


def _unwrap_reason(exc: BaseException) -> BaseException:
    """urllib wraps socket errors in URLError(reason=...); look at the cause."""
    seen = 0
    while isinstance(exc, urllib.error.URLError) and not isinstance(exc, urllib.error.HTTPError):
        reason = exc.reason
        if not isinstance(reason, BaseException) or seen > 3:
            break
        exc = reason
        seen += 1
    return exc


def classify_exception(exc: BaseException, url: str, timeout: float) -> OllamaError:
    """Map a transport exception to one distinct, actionable error."""
    if isinstance(exc, OllamaError):
        return exc
    if isinstance(exc, urllib.error.HTTPError):
        return classify_status(exc.code, _read_error_body(exc), url, exc.headers)
    cause = _unwrap_reason(exc)
    host = urllib.parse.urlsplit(url).hostname or url
    if isinstance(cause, ssl.SSLCertVerificationError):
        return OllamaError(
            "tls",
            f"TLS certificate verification failed for {url}: {cause.verify_message or cause}."
            " Set ca_path to the CA file that signed the server certificate"
            " (validate_certs: false only for throw-away tests)",
        )
    if isinstance(cause, ssl.SSLError):
        return OllamaError(
            "tls_handshake",
            f"TLS handshake with {url} failed: {cause.reason or cause}"
            " (does this port speak HTTPS? use http:// for a plain HTTP server)",
        )
    if isinstance(cause, socket.gaierror):
        return OllamaError("dns", f"cannot resolve host '{host}' (DNS lookup failed: {cause})")
    if isinstance(cause, ConnectionRefusedError):
        return OllamaError(
            "connection_refused",
            f"connection refused by {url}: nothing listens there (is Ollama/Traefik running"
            " and is the port right?)",
        )
    if isinstance(cause, (TimeoutError, socket.timeout)) or (
        isinstance(exc, urllib.error.URLError) and "timed out" in str(exc.reason)
    ):
        return OllamaError("timeout", f"timed out after {timeout:g} s waiting for {url}")
    if isinstance(
        cause,
        (
            http.client.RemoteDisconnected,
            ConnectionResetError,
            http.client.IncompleteRead,
            BrokenPipeError,
        ),
    ):
        return OllamaError(
            "connection_lost", f"the connection to {url} was closed unexpectedly ({cause!r})"
        )
    if isinstance(cause, http.client.BadStatusLine):
        return OllamaError(
            "not_ollama", f"{url} did not answer with HTTP (is it an HTTPS port? use https://)"
        )
    if isinstance(cause, FileNotFoundError):
        return OllamaError("config", f"file not found: {cause.filename}")
    return OllamaError("connection", f"cannot talk to {url}: {cause}")


def _read_error_body(exc: urllib.error.HTTPError) -> bytes:
    try:
        return exc.read(_MAX_ERROR_BODY) if exc.fp is not None else b""
    except (OSError, http.client.HTTPException):
        return b""


def _server_message(body: bytes) -> str:
    """Ollama's ``{"error": ...}`` text, or a short plain-text excerpt."""
    text = body.decode("utf-8", "replace").strip()
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and isinstance(parsed.get("error"), str):
        return parsed["error"]
    text = " ".join(text.split())
    return text[:200] + ("..." if len(text) > 200 else "")


def classify_status(status: int, body: bytes, url: str, headers: Any = None) -> OllamaError:
    """Map a non-success HTTP status to an error."""
    detail = _server_message(body)
    if status == 401:
        return OllamaError("auth", f"{AUTH_FAILED_MSG} (HTTP 401 from {url})", status)
    if 300 <= status < 400:
        location = headers.get("Location", "?") if headers is not None else "?"
        return OllamaError(
            "redirect",
            f"{url} answered with a redirect (HTTP {status} to {location}); redirects are not"
            " followed so that the API key is never sent elsewhere: set url to the final address",
            status,
        )
    if status == 403:
        return OllamaError("forbidden", f"access forbidden (HTTP 403 from {url}): {detail}", status)
    if "no space left on device" in detail.lower():
        return disk_full_error(detail, status)
    message = f"HTTP {status} from {url}: {detail or '(empty body)'}"
    if status == 404:
        return OllamaError("not_found", message, status)
    if status >= 500:
        return OllamaError("server_error", message, status)
    return OllamaError("http", message, status)


def disk_full_error(detail: str, status: int | None = None) -> OllamaError:
    return OllamaError(
        "disk_full",
        f"the Ollama server ran out of disk space (no space left on device): {detail}."
        " Free space in the models directory (OLLAMA_MODELS) and run again",
        status,
    )


def stream_line_error(detail: str, model: str) -> OllamaError:
    """A ``{"error": ...}`` line in an NDJSON stream (the HTTP status was already 200)."""
    lowered = detail.lower()
    if "no space left on device" in lowered:
        return disk_full_error(detail)
    if "file does not exist" in lowered or "manifest unknown" in lowered:
        return OllamaError(
            "registry_not_found",
            f"model '{model}' not found in the registry (Ollama said: {detail})."
            " Check the name and tag",
        )
    return OllamaError("stream_error", f"Ollama reported an error for '{model}': {detail}")

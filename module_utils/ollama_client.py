# Copyright (c) 2026, Tradia
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one HTTP client our Ollama modules share, and the connection options they all take.

Runs on the target with the Python standard library and ``ansible.module_utils.urls`` only, against
Ollama directly or behind Traefik with TLS and basic auth. The API key never appears in a
message: it is sent pre-emptively as basic auth, redirects are refused (so it is never resent to
another origin) and server text that we quote is scrubbed of the key and of its base64 form.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import time
import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any

from ansible.module_utils.ollama_digests import is_sha256_hex
from ansible.module_utils.ollama_errors import (
    RETRYABLE_KINDS,
    OllamaError,
    classify_exception,
    stream_line_error,
)
from ansible.module_utils.ollama_names import normalize_model_name
from ansible.module_utils.urls import Request

DEFAULT_USERNAME = "api"


def connection_argument_spec(timeout: float) -> dict[str, Any]:
    """The connection options every Ollama module takes.

    Documented once, in the ``ollama_connection`` doc fragment (plugins/doc_fragments/).
    """
    return {
        "url": {"type": "str", "required": True},
        "url_username": {"type": "str", "default": DEFAULT_USERNAME},
        "url_password": {"type": "str", "no_log": True, "aliases": ["api_key"]},
        "validate_certs": {"type": "bool", "default": True},
        "ca_path": {"type": "path"},
        "timeout": {"type": "float", "default": timeout},
    }


def client_from_module(module: Any) -> OllamaClient:
    """Build the client from an AnsibleModule's connection options.

    Registers the key's derived forms (the base64 basic-auth token, a password typed into the
    url by mistake) as no_log values, so Ansible masks them in any output, ``invocation``
    included.
    """
    params = module.params
    try:
        userinfo_password = urllib.parse.urlsplit(params["url"].strip()).password
    except ValueError:
        userinfo_password = None
    if userinfo_password:
        module.no_log_values.add(userinfo_password)
    client = OllamaClient(
        params["url"],
        password=params["url_password"],
        username=params["url_username"],
        validate_certs=params["validate_certs"],
        ca_path=params["ca_path"],
        timeout=params["timeout"],
    )
    module.no_log_values.update(client.secrets)
    return client


class OllamaClient:
    """Talks to one Ollama endpoint. All requests go through :meth:`_open`."""

    def __init__(
        self,
        url: str,
        password: str | None = None,
        username: str = DEFAULT_USERNAME,
        validate_certs: bool = True,
        ca_path: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        try:
            parts = urllib.parse.urlsplit(url.strip())
            parts.port  # noqa: B018  (raises ValueError on a bad port)
        except ValueError as exc:
            raise OllamaError("config", f"invalid url: {exc}") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise OllamaError("config", f"url must be http(s)://host[:port], got '{url}'")
        if parts.username or parts.password:
            raise OllamaError(
                "config", "url must not contain credentials: put the API key in url_password"
            )
        if ca_path and not os.path.isfile(ca_path):
            raise OllamaError("config", f"ca_path {ca_path} is not a file on the target host")
        self.base_url = urllib.parse.urlunsplit(
            (parts.scheme, parts.netloc, parts.path.rstrip("/"), "", "")
        )
        self.timeout = float(timeout)
        self.secrets: list[str] = []
        if password:
            token = base64.b64encode(f"{username}:{password}".encode()).decode()
            self.secrets = [password, token]
        self._request = Request(
            url_username=username if password else None,
            url_password=password if password else None,
            force_basic_auth=bool(password),  # send it now, do not wait for a 401 challenge
            follow_redirects="none",  # never resend the key to another origin
            unredirected_headers=["Authorization"],
            validate_certs=validate_certs,
            ca_path=ca_path,
            timeout=self.timeout,
            use_netrc=False,
            http_agent="tradia-ollama-modules",
        )

    # ---- transport -------------------------------------------------------------------------

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "********")
        return text

    def _fail(self, error: OllamaError) -> OllamaError:
        error.message = self.scrub(error.message)
        error.args = (error.message,)
        return error

    def _open(
        self,
        method: str,
        path: str,
        payload: Any = None,
        data: Any = None,
        headers: dict[str, str] | None = None,
    ) -> http.client.HTTPResponse:
        url = self.base_url + path
        send_headers = dict(headers or {})
        if payload is not None:
            data = json.dumps(payload).encode()
            send_headers["Content-Type"] = "application/json"
        try:
            return self._request.open(method, url, data=data, headers=send_headers)
        except Exception as exc:  # every transport failure is classified, none escapes raw
            raise self._fail(classify_exception(exc, url, self.timeout)) from None

    def _read_all(self, response: http.client.HTTPResponse, url: str) -> bytes:
        try:
            return response.read()
        except Exception as exc:
            raise self._fail(classify_exception(exc, url, self.timeout)) from None
        finally:
            response.close()

    def _json(self, method: str, path: str, payload: Any = None) -> Any:
        url = self.base_url + path
        response = self._open(method, path, payload)
        content_type = response.headers.get("Content-Type", "")
        body = self._read_all(response, url)
        return self._decode(body, content_type, url)

    def _decode(self, body: bytes, content_type: str, url: str) -> Any:
        stripped = body.lstrip()
        if "html" in content_type.lower() or stripped[:1] == b"<":
            raise self._fail(
                OllamaError(
                    "not_ollama",
                    f"{url} returned an HTML page, not the Ollama API (wrong url or port?"
                    " a login page or another web server answered)",
                )
            )
        try:
            return json.loads(body)
        except ValueError as exc:
            raise self._fail(
                OllamaError("malformed_json", f"malformed JSON from {url}: {exc}")
            ) from None

    def _ndjson(self, path: str, payload: Any, model: str) -> Iterator[dict[str, Any]]:
        """Yield the objects of a streamed answer; an ``error`` line raises."""
        url = self.base_url + path
        response = self._open("POST", path, payload)
        try:
            while True:
                try:
                    line = response.readline()
                except Exception as exc:
                    raise self._fail(classify_exception(exc, url, self.timeout)) from None
                if not line:
                    return
                if not line.strip():
                    continue
                try:
                    item = json.loads(line)
                except ValueError:
                    raise self._fail(
                        OllamaError("malformed_json", f"malformed NDJSON line from {url}")
                    ) from None
                if not isinstance(item, dict):
                    raise self._fail(
                        OllamaError("malformed_json", f"unexpected NDJSON item from {url}")
                    )
                if "error" in item:
                    raise self._fail(stream_line_error(str(item["error"]), model))
                yield item
        finally:
            response.close()

    # ---- API -------------------------------------------------------------------------------

    def tags(self) -> list[dict[str, Any]]:
        """GET /api/tags; also proves that an Ollama API answers at this url."""
        url = self.base_url + "/api/tags"
        try:
            answer = self._json("GET", "/api/tags")
        except OllamaError as exc:
            if exc.kind == "not_found":
                raise self._fail(
                    OllamaError(
                        "not_ollama",
                        f"{url} does not exist (HTTP 404): this is not an Ollama API"
                        " (wrong url, port or Traefik route?)",
                        404,
                    )
                ) from None
            raise
        if not isinstance(answer, dict) or not isinstance(answer.get("models"), list):
            raise self._fail(
                OllamaError(
                    "not_ollama",
                    f"{url} answered JSON without a 'models' list: not an Ollama server",
                )
            )
        return [m for m in answer["models"] if isinstance(m, dict)]

    def version(self) -> str:
        answer = self._json("GET", "/api/version")
        if not isinstance(answer, dict) or not isinstance(answer.get("version"), str):
            raise self._fail(
                OllamaError(
                    "not_ollama",
                    f"{self.base_url}/api/version answered without a 'version': not Ollama",
                )
            )
        return answer["version"]

    def ps(self) -> list[dict[str, Any]]:
        answer = self._json("GET", "/api/ps")
        if not isinstance(answer, dict) or not isinstance(answer.get("models"), list):
            raise self._fail(
                OllamaError("not_ollama", f"{self.base_url}/api/ps answered without 'models'")
            )
        return [m for m in answer["models"] if isinstance(m, dict)]

    def find_model(self, name: str) -> dict[str, Any] | None:
        """The /api/tags entry of a model, tag-normalized, or None."""
        wanted = normalize_model_name(name)
        for entry in self.tags():
            entry_name = entry.get("name") or entry.get("model") or ""
            if normalize_model_name(str(entry_name)) == wanted:
                return entry
        return None

    def show(self, name: str) -> dict[str, Any] | None:
        """POST /api/show; None when the model does not exist."""
        try:
            answer = self._json("POST", "/api/show", {"model": name})
        except OllamaError as exc:
            if exc.kind == "not_found":
                return None
            raise
        if not isinstance(answer, dict):
            raise self._fail(OllamaError("not_ollama", "/api/show answered a non-object"))
        return answer

    def delete(self, name: str) -> bool:
        """DELETE /api/delete; False when the model was already absent."""
        try:
            response = self._open("DELETE", "/api/delete", {"model": name})
        except OllamaError as exc:
            if exc.kind == "not_found":
                return False
            raise
        self._read_all(response, self.base_url + "/api/delete")
        return True

    def blob_exists(self, digest: str) -> bool:
        try:
            response = self._open("HEAD", f"/api/blobs/sha256:{digest}")
        except OllamaError as exc:
            if exc.kind == "not_found":
                return False
            raise
        response.close()
        return True

    def upload_blob(self, digest: str, path: str) -> None:
        """POST the file as a blob, streamed from disk (never read whole into memory)."""
        if not is_sha256_hex(digest):
            raise OllamaError("config", f"invalid sha256 digest '{digest}'")
        size = os.path.getsize(path)
        url = f"{self.base_url}/api/blobs/sha256:{digest}"
        with open(path, "rb") as handle:
            try:
                response = self._open(
                    "POST",
                    f"/api/blobs/sha256:{digest}",
                    data=handle,
                    headers={
                        "Content-Type": "application/octet-stream",
                        "Content-Length": str(size),
                    },
                )
            except OllamaError as exc:
                if exc.status == 400:
                    raise self._fail(
                        OllamaError(
                            "digest_mismatch",
                            f"digest mismatch: the server rejected the upload of {path} as"
                            f" sha256:{digest} (HTTP 400: {exc.message}). Did the file change"
                            " while it was being uploaded?",
                            400,
                        )
                    ) from None
                raise
        self._read_all(response, url)

    def create(
        self,
        name: str,
        files: dict[str, str],
        template: str | None = None,
        system: str | None = None,
        parameters: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        payload: dict[str, Any] = {"model": name, "files": files, "stream": True}
        if template is not None:
            payload["template"] = template
        if system is not None:
            payload["system"] = system
        if parameters:
            payload["parameters"] = parameters
        lines = list(self._ndjson("/api/create", payload, name))
        self._require_success(lines, "/api/create")
        return lines

    def pull_once(self, name: str, progress: Callable[[dict[str, Any]], None] | None = None) -> int:
        """One streamed pull; returns the layer bytes reported. Raises on any failure."""
        layers: dict[str, int] = {}
        last: dict[str, Any] = {}
        for item in self._ndjson("/api/pull", {"model": name, "stream": True}, name):
            last = item
            digest, total = item.get("digest"), item.get("total")
            if isinstance(digest, str) and isinstance(total, int):
                layers[digest] = max(total, layers.get(digest, 0))
            if progress is not None:
                progress(item)
        if last.get("status") != "success":
            raise self._fail(
                OllamaError(
                    "interrupted",
                    f"the pull of '{name}' stopped before 'success' (last status:"
                    f" {last.get('status', 'none')!r})",
                )
            )
        return sum(layers.values())

    def pull(self, name: str, retries: int = 3, delay: float = 5.0) -> tuple[int, int]:
        """Pull with retries of interruptions; returns (bytes, attempts)."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return self.pull_once(name), attempt
            except OllamaError as exc:
                if exc.kind not in RETRYABLE_KINDS or attempt > retries:
                    if attempt > 1:
                        exc.message = f"{exc.message} (after {attempt} attempts)"
                        exc.args = (exc.message,)
                    raise
                time.sleep(delay)

    def _require_success(self, lines: list[dict[str, Any]], path: str) -> None:
        if not lines or lines[-1].get("status") != "success":
            raise self._fail(
                OllamaError(
                    "interrupted",
                    f"{self.base_url}{path} ended without a 'success' status",
                )
            )

"""The only code that talks to the AI server (Ollama's HTTP API behind basic auth).

One `httpx.AsyncClient` per process, built in the app's lifespan and shared by every request:
connections are pooled and reused, credentials are never sent on a redirect (redirects are not
followed at all), and TLS is verified against the configured CA.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from tradia.core.config import Settings, normalise_model_name
from tradia.upstream.errors import ErrorKind, UpstreamError

_SHOW_CACHE_SECONDS = 300.0


def build_http_client(settings: Settings) -> httpx.AsyncClient:
    verify: ssl.SSLContext | bool = True
    if settings.ollama_ca_file is not None:
        verify = ssl.create_default_context(cafile=str(settings.ollama_ca_file))
    return httpx.AsyncClient(
        base_url=settings.ollama_base_url.rstrip("/"),
        auth=httpx.BasicAuth(settings.ollama_api_user, settings.api_key),
        verify=verify,
        follow_redirects=False,
        timeout=httpx.Timeout(
            connect=settings.ollama_connect_timeout,
            read=settings.ollama_timeout,
            write=30.0,
            pool=settings.ollama_connect_timeout,
        ),
        # Generations hold a connection for their whole length; a few more serve /api/tags etc.
        limits=httpx.Limits(
            max_connections=settings.concurrency + 8,
            max_keepalive_connections=settings.concurrency + 4,
        ),
        headers={"User-Agent": "tradia"},
    )


@dataclass(frozen=True)
class ModelInfo:
    name: str
    size: int
    parameter_size: str
    family: str


@dataclass(frozen=True)
class ModelDetails:
    name: str
    capabilities: tuple[str, ...]
    context_length: int | None


@dataclass
class ChatOutcome:
    """What the final chunk of a chat stream reports."""

    done_reason: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    eval_duration_ns: int = 0
    total_duration_ns: int = 0


@dataclass
class ChatRequest:
    model: str
    messages: list[dict[str, Any]]
    format: dict[str, Any] | None = None
    options: dict[str, Any] = field(default_factory=dict)


def _error_from_status(status: int, upstream_message: str, model: str | None) -> UpstreamError:
    if status in (401, 403):
        return UpstreamError(ErrorKind.LLM_AUTH_FAILED)
    if status == 404:
        if model:
            return UpstreamError(
                ErrorKind.MODEL_MISSING,
                f"The model '{model}' is not installed on the AI server. Choose another model or"
                f" ask the administrator to pull it (ollama pull {model}).",
            )
        return UpstreamError(
            ErrorKind.LLM_UNREACHABLE,
            "The AI server answered 404: is OLLAMA_BASE_URL pointing at Ollama?",
        )
    if status == 503 and not upstream_message:
        # Not Ollama's queue (it says why in JSON) but a proxy with no AI server behind it:
        # Traefik's load balancer once every server failed its health check.
        return UpstreamError(
            ErrorKind.LLM_UNREACHABLE,
            "No AI server is available: every AI server is down or failing its health check.",
        )
    if status in (429, 503):
        return UpstreamError(ErrorKind.LLM_BUSY)
    if status in (408, 504):
        return UpstreamError(ErrorKind.LLM_TIMEOUT)
    if 300 <= status < 400:
        return UpstreamError(
            ErrorKind.LLM_UNREACHABLE,
            "The AI server answered with a redirect, which Tradia does not follow (it would resend"
            " the API key). Fix OLLAMA_BASE_URL (scheme, host, port).",
        )
    if status == 502:
        return UpstreamError(ErrorKind.LLM_UNREACHABLE)
    detail = f" ({upstream_message})" if upstream_message else ""
    return UpstreamError(
        ErrorKind.GENERATION_FAILED,
        f"The AI server failed to generate (HTTP {status}{detail}). Try again.",
    )


def _error_from_transport(exc: httpx.HTTPError, *, streaming: bool) -> UpstreamError:
    if isinstance(exc, httpx.ConnectTimeout | httpx.ConnectError):
        return UpstreamError(ErrorKind.LLM_UNREACHABLE)
    if isinstance(exc, httpx.PoolTimeout):
        return UpstreamError(ErrorKind.LLM_BUSY)
    if isinstance(exc, httpx.TimeoutException):
        return UpstreamError(ErrorKind.LLM_TIMEOUT)
    if streaming:
        return UpstreamError(
            ErrorKind.GENERATION_FAILED,
            "The connection to the AI server was lost during the generation. The partial result"
            " was discarded; try again.",
        )
    return UpstreamError(ErrorKind.LLM_UNREACHABLE)


async def _upstream_message(response: httpx.Response) -> str:
    try:
        body = await response.aread()
        payload = json.loads(body)
    except (httpx.HTTPError, ValueError):
        return ""
    if isinstance(payload, dict) and isinstance(payload.get("error"), str):
        return payload["error"][:200]
    return ""


class OllamaClient:
    def __init__(self, http: httpx.AsyncClient, settings: Settings) -> None:
        self._http = http
        self._settings = settings
        self._show_cache: dict[str, tuple[float, ModelDetails]] = {}
        # The shared model list: when it was fetched, and the fetch (its result or its error).
        self._models_at = 0.0
        self._models_fetch: asyncio.Task[list[ModelInfo]] | None = None

    async def _get_json(
        self,
        method: str,
        path: str,
        *,
        model: str | None = None,
        body: dict[str, Any] | None = None,
    ) -> Any:
        try:
            response = await self._http.request(method, path, json=body)
        except httpx.HTTPError as exc:
            raise _error_from_transport(exc, streaming=False) from exc
        if response.status_code != 200:
            raise _error_from_status(response.status_code, await _upstream_message(response), model)
        try:
            return response.json()
        except ValueError as exc:
            raise UpstreamError(
                ErrorKind.GENERATION_FAILED, "The AI server sent an unreadable answer."
            ) from exc

    async def version(self) -> str:
        payload = await self._get_json("GET", "/api/version")
        return str(payload.get("version", "")) if isinstance(payload, dict) else ""

    async def list_models(self) -> list[ModelInfo]:
        """Installed models, the configured default first."""
        payload = await self._get_json("GET", "/api/tags")
        models = []
        for entry in payload.get("models", []) if isinstance(payload, dict) else []:
            details = entry.get("details") or {}
            models.append(
                ModelInfo(
                    name=str(entry.get("name") or entry.get("model")),
                    size=int(entry.get("size") or 0),
                    parameter_size=str(details.get("parameter_size") or ""),
                    family=str(details.get("family") or ""),
                )
            )
        default = normalise_model_name(self._settings.ollama_model)
        models.sort(key=lambda m: (normalise_model_name(m.name) != default, m.name))
        return models

    async def shared_models(self) -> list[ModelInfo]:
        """The model list, fetched at most once per `upstream_cache_seconds` however many ask.

        Concurrent callers await one fetch (single flight); its result is then served to
        everyone until it expires. So every open tab polling /readyz costs the AI server one
        request per period, not one per poll.
        """
        fetch = self._models_fetch
        fresh = time.monotonic() - self._models_at < self._settings.upstream_cache_seconds
        # A failure is shared only by those who awaited it: the next poll asks again, so a
        # server that comes back is seen at once (a dead server's refusal costs it nothing).
        failed = fetch is not None and fetch.done() and (fetch.cancelled() or fetch.exception())
        if fetch is None or (fetch.done() and not fresh) or failed:
            self._models_at = time.monotonic()
            fetch = self._models_fetch = asyncio.ensure_future(self.list_models())
        # shield: a poller that goes away must not cancel the fetch the others are awaiting.
        return list(await asyncio.shield(fetch))

    async def show(self, model: str) -> ModelDetails:
        cached = self._show_cache.get(model)
        if cached and time.monotonic() - cached[0] < _SHOW_CACHE_SECONDS:
            return cached[1]
        payload = await self._get_json("POST", "/api/show", model=model, body={"model": model})
        info = payload.get("model_info") or {}
        context = next(
            (v for k, v in info.items() if k.endswith(".context_length") and isinstance(v, int)),
            None,
        )
        details = ModelDetails(
            name=model,
            capabilities=tuple(str(c) for c in payload.get("capabilities") or ()),
            context_length=context,
        )
        self._show_cache[model] = (time.monotonic(), details)
        return details

    def output_budget(self, request: ChatRequest) -> int:
        """Most tokens the answer may have: proportional to the user's text, within the ceiling
        (a photo's text cannot be estimated from the request: it gets the ceiling)."""
        ceiling = self._settings.max_output_tokens
        users = [m for m in request.messages if m.get("role") == "user"]
        if any(m.get("images") for m in users):
            return ceiling
        chars = sum(len(str(m.get("content") or "")) for m in users)
        return min(ceiling, 3 * (chars // 3 + 1) + 256)

    def chat_body(self, request: ChatRequest) -> dict[str, Any]:
        options = {
            "num_ctx": self._settings.ollama_num_ctx,
            "num_predict": self.output_budget(request),
            **request.options,
        }
        body: dict[str, Any] = {
            "model": request.model,
            "messages": request.messages,
            "stream": True,
            # Our tasks never need reasoning traces; thinking models would otherwise think first.
            "think": False,
            "keep_alive": self._settings.ollama_keep_alive,
            "options": options,
        }
        if request.format is not None:
            body["format"] = request.format
        return body

    async def chat_stream(self, request: ChatRequest) -> AsyncIterator[str | ChatOutcome]:
        """Yield content pieces, then exactly one ChatOutcome; raise UpstreamError otherwise.

        A stream that ends without its final `done` chunk, or with an `{"error": ..}` line, is a
        failure: a partial answer is never passed off as complete.
        """
        try:
            async with self._http.stream(
                "POST", "/api/chat", json=self.chat_body(request)
            ) as response:
                if response.status_code != 200:
                    raise _error_from_status(
                        response.status_code, await _upstream_message(response), request.model
                    )
                lines = response.aiter_lines()
                async for line in lines:
                    if not line.strip():
                        continue
                    try:
                        chunk = json.loads(line)
                    except ValueError as exc:
                        raise UpstreamError(
                            ErrorKind.GENERATION_FAILED, "The AI server sent a malformed line."
                        ) from exc
                    if "error" in chunk:
                        raise UpstreamError(
                            ErrorKind.GENERATION_FAILED,
                            "The AI server reported an error during the generation"
                            f" ({str(chunk['error'])[:200]}). The partial result was discarded;"
                            " try again.",
                        )
                    piece = (chunk.get("message") or {}).get("content") or ""
                    if piece:
                        yield piece
                    if chunk.get("done"):
                        outcome = ChatOutcome(
                            done_reason=str(chunk.get("done_reason") or "stop"),
                            prompt_tokens=int(chunk.get("prompt_eval_count") or 0),
                            completion_tokens=int(chunk.get("eval_count") or 0),
                            eval_duration_ns=int(chunk.get("eval_duration") or 0),
                            total_duration_ns=int(chunk.get("total_duration") or 0),
                        )
                        # Read the body to its end (the chunked terminator follows the `done`
                        # line) so that httpx returns the connection to its pool instead of
                        # closing it: the next generation then skips a TCP (and TLS) setup.
                        await _drain(lines)
                        yield outcome
                        return
        except httpx.HTTPError as exc:
            raise _error_from_transport(exc, streaming=True) from exc
        raise UpstreamError(
            ErrorKind.GENERATION_FAILED,
            "The AI server closed the stream before the end of the generation. The partial result"
            " was discarded; try again.",
        )


async def _drain(lines: AsyncIterator[str], limit: int = 64 * 1024) -> None:
    """Consume what is left of a finished stream, giving up (and closing) past `limit` bytes."""
    seen = 0
    async for line in lines:
        seen += len(line)
        if seen > limit:
            return

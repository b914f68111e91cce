"""Runs one generation: waits for a slot, streams from the AI server, measures and logs it.

Every task goes through `LLMService.stream`, so queueing, timeouts, metrics and the one log line
per call are written once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from tradia.core.config import Settings
from tradia.metrics import Metrics
from tradia.queue import GenerationQueue
from tradia.upstream.errors import ErrorKind, UpstreamError
from tradia.upstream.ollama_client import ChatOutcome, ChatRequest, OllamaClient

log = logging.getLogger("tradia.llm")

Event = dict[str, Any]


@dataclass
class Generation:
    """A finished generation: the full text and how it went."""

    text: str
    outcome: ChatOutcome
    queue_wait: float
    ttft: float
    duration: float

    @property
    def truncated(self) -> bool:
        return self.outcome.done_reason == "length"

    def stats(self) -> dict[str, Any]:
        tokens_per_s = (
            self.outcome.completion_tokens / self.outcome.eval_duration_ns * 1e9
            if self.outcome.eval_duration_ns
            else None
        )
        return {
            "prompt_tokens": self.outcome.prompt_tokens,
            "completion_tokens": self.outcome.completion_tokens,
            "queue_wait_ms": round(self.queue_wait * 1000),
            "ttft_ms": round(self.ttft * 1000),
            "duration_ms": round(self.duration * 1000),
            "tokens_per_s": round(tokens_per_s, 1) if tokens_per_s else None,
        }


class LLMService:
    def __init__(
        self,
        client: OllamaClient,
        queue: GenerationQueue,
        metrics: Metrics,
        settings: Settings,
    ) -> None:
        self.client = client
        self.queue = queue
        self.metrics = metrics
        self.settings = settings

    async def stream(
        self, task: str, user: str, request: ChatRequest, *, emit_tokens: bool = True
    ) -> AsyncIterator[Event | Generation]:
        """Yield progress events (queued, started, token) and finally one Generation.

        Raises UpstreamError on any failure; the caller turns it into an error event.
        """
        metrics = self.metrics
        metrics.requests.labels(task, user).inc()
        queued_at = time.monotonic()
        status = "ok"
        generation: Generation | None = None
        try:
            async with self.queue.slot() as ticket:
                async for position in ticket.positions():
                    yield {"type": "queued", "position": position}
                started = time.monotonic()
                queue_wait = started - queued_at
                metrics.queue_wait.labels(task).observe(queue_wait)
                yield {"type": "started", "model": request.model}
                pieces: list[str] = []
                first_token_at: float | None = None
                outcome: ChatOutcome | None = None
                try:
                    async with asyncio.timeout(self.settings.generation_timeout):
                        async for item in self.client.chat_stream(request):
                            if isinstance(item, ChatOutcome):
                                outcome = item
                                break
                            if first_token_at is None:
                                first_token_at = time.monotonic()
                                metrics.ttft.labels(task).observe(first_token_at - started)
                            pieces.append(item)
                            if emit_tokens:
                                yield {"type": "token", "text": item}
                except TimeoutError as exc:
                    raise UpstreamError(
                        ErrorKind.LLM_TIMEOUT,
                        "The generation took longer than the configured limit"
                        f" ({self.settings.generation_timeout:.0f} s) and was stopped.",
                    ) from exc
                finished = time.monotonic()
                assert outcome is not None  # chat_stream yields one or raises
                generation = Generation(
                    text="".join(pieces),
                    outcome=outcome,
                    queue_wait=queue_wait,
                    ttft=(first_token_at or finished) - started,
                    duration=finished - started,
                )
            metrics.generation_seconds.labels(task).observe(generation.duration)
            metrics.tokens.labels(task, user, "prompt").inc(outcome.prompt_tokens)
            metrics.tokens.labels(task, user, "completion").inc(outcome.completion_tokens)
            if generation.truncated:
                metrics.truncated.labels(task).inc()
            yield generation
        except UpstreamError as exc:
            status = exc.kind.value
            metrics.errors.labels(task, exc.kind.value).inc()
            raise
        except (asyncio.CancelledError, GeneratorExit):
            if generation is None:
                status = "cancelled"
            raise
        finally:
            fields: dict[str, Any] = {
                "task": task,
                "model": request.model,
                "user": user,
                "status": status,
            }
            if generation is not None:
                fields.update(generation.stats(), done_reason=generation.outcome.done_reason)
            log.info("llm_call", extra=fields)


class Relay:
    """Passes a generation's progress events on and keeps the final Generation."""

    def __init__(self) -> None:
        self._generation: Generation | None = None

    async def events(self, stream: AsyncIterator[Event | Generation]) -> AsyncIterator[Event]:
        async for item in stream:
            if isinstance(item, Generation):
                self._generation = item
            else:
                yield item

    @property
    def generation(self) -> Generation:
        if self._generation is None:
            raise UpstreamError(ErrorKind.GENERATION_FAILED)
        return self._generation

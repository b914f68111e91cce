"""Runs one generation: waits for a slot, streams from the AI server, measures and logs it.

Every task goes through `LLMService.generation`, so queueing, timeouts, metrics and the one log line
per call are written once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from tradia.api.events import (
    GenerationProgress,
    GenerationStats,
    QueuedEvent,
    StartedEvent,
    TokenEvent,
)
from tradia.core.config import Settings
from tradia.metrics import Metrics
from tradia.queue import GenerationQueue
from tradia.upstream.errors import ErrorKind, UpstreamError
from tradia.upstream.ollama_client import ChatOutcome, ChatRequest, OllamaClient

log = logging.getLogger("tradia.llm")


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

    def stats(self) -> GenerationStats:
        tokens_per_s = (
            self.outcome.completion_tokens / self.outcome.eval_duration_ns * 1e9
            if self.outcome.eval_duration_ns
            else None
        )
        return GenerationStats(
            prompt_tokens=self.outcome.prompt_tokens,
            completion_tokens=self.outcome.completion_tokens,
            queue_wait_ms=round(self.queue_wait * 1000),
            ttft_ms=round(self.ttft * 1000),
            duration_ms=round(self.duration * 1000),
            tokens_per_s=round(tokens_per_s, 1) if tokens_per_s else None,
        )


class LLMService:
    """Runs generations: `generation(...)` prepares one, its `progress()` runs it."""

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

    def generation(
        self, task: str, user: str, request: ChatRequest, *, emit_tokens: bool = True
    ) -> GenerationRun:
        return GenerationRun(self, task, user, request, emit_tokens=emit_tokens)


class GenerationRun:
    """One generation: `progress()` runs it and yields what the user sees meanwhile (queued,
    started, token); once that iteration has ended, `result` is the finished Generation.

    Raises UpstreamError on any failure; the caller turns it into an error event.
    """

    def __init__(
        self,
        service: LLMService,
        task: str,
        user: str,
        request: ChatRequest,
        *,
        emit_tokens: bool,
    ) -> None:
        self._service = service
        self.task = task
        self.user = user
        self.request = request
        self.emit_tokens = emit_tokens
        self._result: Generation | None = None

    @property
    def result(self) -> Generation:
        if self._result is None:
            raise UpstreamError(ErrorKind.GENERATION_FAILED)
        return self._result

    async def progress(self) -> AsyncIterator[GenerationProgress]:
        service, task, user, request = self._service, self.task, self.user, self.request
        metrics = service.metrics
        metrics.requests.labels(task, user).inc()
        queued_at = time.monotonic()
        status = "ok"
        generation: Generation | None = None
        try:
            async with service.queue.slot() as ticket:
                async for position in ticket.positions():
                    yield QueuedEvent(position=position)
                started = time.monotonic()
                queue_wait = started - queued_at
                metrics.queue_wait.labels(task).observe(queue_wait)
                yield StartedEvent(model=request.model)
                pieces: list[str] = []
                first_token_at: float | None = None
                outcome: ChatOutcome | None = None
                try:
                    async with asyncio.timeout(service.settings.generation_timeout):
                        async for item in service.client.chat_stream(request):
                            if isinstance(item, ChatOutcome):
                                outcome = item
                                break
                            if first_token_at is None:
                                first_token_at = time.monotonic()
                                metrics.ttft.labels(task).observe(first_token_at - started)
                            pieces.append(item)
                            if self.emit_tokens:
                                yield TokenEvent(text=item)
                except TimeoutError as exc:
                    raise UpstreamError(
                        ErrorKind.LLM_TIMEOUT,
                        "The generation took longer than the configured limit"
                        f" ({service.settings.generation_timeout:.0f} s) and was stopped.",
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
            self._result = generation
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
                fields.update(
                    generation.stats().model_dump(), done_reason=generation.outcome.done_reason
                )
            log.info("llm_call", extra=fields)

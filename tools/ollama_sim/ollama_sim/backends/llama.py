"""The llama backend: real inference with llama-cpp-python on the model's GGUF blob.

Generation is blocking, so it runs in a worker thread and hands each piece to the event loop.
A per-token hook (a logits processor, called once per sampled token) counts tokens, times
prefill and decode, and ends the generation as soon as the client has gone away: it runs inside
a ctypes callback, where exceptions are swallowed, so it forces the end-of-sequence token.
One llama.cpp context per loaded model: parallel requests take turns on it.
"""

import asyncio
import math
import os
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

# OpenMP threads that spin while waiting collapse throughput on a shared 2-core machine.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from llama_cpp import Llama, LogitsProcessorList

from ollama_sim.backends.base import GenerationRequest, Outcome, Piece, RunnerError
from ollama_sim.model_facts import ModelFacts

# Ollama's defaults where the request and the model say nothing.
_DEFAULT_TEMPERATURE = 0.8
_DEFAULT_TOP_P = 0.9
_LOCK_POLL_S = 0.05
_END = object()


@dataclass
class LlamaState:
    llm: Llama
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class _TokenClock:
    """Per-token hook: counts and times tokens, ends the generation when asked to."""

    cancel: threading.Event
    eos: int
    started_ns: int = field(default_factory=time.perf_counter_ns)
    first_token_ns: int = 0
    last_token_ns: int = 0
    prompt_tokens: int = 0
    tokens: int = 0

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        if self.cancel.is_set():
            scores[:] = -math.inf
            scores[self.eos] = 0.0
            return scores
        now = time.perf_counter_ns()
        if self.tokens == 0:
            self.prompt_tokens = len(input_ids)
            self.first_token_ns = now
        self.tokens += 1
        self.last_token_ns = now
        return scores


def _response_format(request: GenerationRequest) -> dict[str, Any] | None:
    if isinstance(request.format, dict):
        return {"type": "json_object", "schema": request.format}
    if request.format == "json":
        return {"type": "json_object"}
    return None


class LlamaBackend:
    def __init__(self, threads: int) -> None:
        self.threads = threads

    async def load(self, facts: ModelFacts, num_ctx: int) -> Any:
        path = facts.weights_path
        if path is None:
            raise RunnerError("model has no weights")

        def load() -> LlamaState:
            try:
                llm = Llama(
                    model_path=str(path),
                    n_ctx=num_ctx,
                    n_threads=self.threads,
                    n_threads_batch=self.threads,
                    verbose=False,
                )
            except (ValueError, RuntimeError) as error:
                raise RunnerError(f"error loading model {path}: {error}") from None
            return LlamaState(llm)

        return await asyncio.to_thread(load)

    async def unload(self, state: Any) -> None:
        def close() -> None:
            with state.lock:
                state.llm.close()

        await asyncio.to_thread(close)

    def _run(
        self,
        state: LlamaState,
        request: GenerationRequest,
        clock: _TokenClock,
        emit: Callable[[object], None],
    ) -> None:
        """Worker thread: generate, emitting text pieces, then a finish reason or an error."""
        while not state.lock.acquire(timeout=_LOCK_POLL_S):
            if clock.cancel.is_set():
                emit(_END)
                return
        try:
            clock.started_ns = time.perf_counter_ns()
            chunks: Iterator[Any] = state.llm.create_chat_completion(
                messages=[{"role": m.role, "content": m.content} for m in request.messages],
                stream=True,
                max_tokens=request.num_predict if request.num_predict else None,
                temperature=_DEFAULT_TEMPERATURE
                if request.temperature is None
                else request.temperature,
                top_p=_DEFAULT_TOP_P if request.top_p is None else request.top_p,
                seed=request.seed,
                stop=list(request.stop) or None,
                response_format=_response_format(request),
                logits_processor=LogitsProcessorList([clock]),
            )
            finish = "stop"
            for chunk in chunks:
                choice = chunk["choices"][0]
                text = choice["delta"].get("content")
                if text:
                    emit(text)
                finish = choice.get("finish_reason") or finish
            emit(("finish", finish))
        except Exception as error:  # any llama.cpp failure is what Ollama calls a runner crash
            emit(RunnerError(str(error)))
        finally:
            state.lock.release()
            emit(_END)

    async def generate(
        self,
        state: Any,
        request: GenerationRequest,
        outcome: Outcome,
        active: Callable[[], int],
    ) -> AsyncIterator[Piece]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[object] = asyncio.Queue()
        clock = _TokenClock(threading.Event(), state.llm.token_eos())

        def emit(item: object) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, item)

        worker = asyncio.create_task(asyncio.to_thread(self._run, state, request, clock, emit))
        try:
            while (item := await queue.get()) is not _END:
                if isinstance(item, RunnerError):
                    raise item
                if isinstance(item, tuple):
                    outcome.done_reason = "length" if item[1] == "length" else "stop"
                    continue
                self._report(clock, outcome)
                yield Piece(str(item))
            self._report(clock, outcome)
        finally:
            clock.cancel.set()  # a no-op when finished; stops the thread when abandoned
            await asyncio.shield(worker)

    @staticmethod
    def _report(clock: _TokenClock, outcome: Outcome) -> None:
        if clock.tokens == 0:
            return
        outcome.prompt_eval_count = clock.prompt_tokens
        outcome.prompt_eval_duration_ns = max(1, clock.first_token_ns - clock.started_ns)
        outcome.eval_count = clock.tokens
        outcome.eval_duration_ns = max(1, clock.last_token_ns - clock.first_token_ns)

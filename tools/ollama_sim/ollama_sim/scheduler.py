"""Ollama's scheduling: slots per loaded model, a bounded wait queue, keep_alive expiry.

- Each loaded model (a "runner") serves OLLAMA_NUM_PARALLEL requests at once.
- Requests that cannot start wait in FIFO order per model; at most OLLAMA_MAX_QUEUE wait in
  all, the next gets 503.
- A request whose num_ctx differs from the loaded runner's waits until the runner is idle and
  reloads it (load_duration reported again).
- When a runner goes idle it stays loaded for the last request's keep_alive (0 = unload now,
  forever when negative).
A waiting or running request that is cancelled (client gone) releases everything at once.
"""

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from ollama_sim.backends.base import Backend
from ollama_sim.durations import FOREVER_NS
from ollama_sim.model_facts import ModelFacts

log = logging.getLogger("ollama_sim.scheduler")

BUSY_MESSAGE = "server busy, please try again.  maximum pending requests exceeded"


class Busy(Exception):
    """More than OLLAMA_MAX_QUEUE requests would be waiting."""


@dataclass
class Runner:
    facts: ModelFacts
    num_ctx: int
    state: Any = None
    loading: bool = True
    active: int = 0
    expires_at_ns: int = 0
    timer: asyncio.TimerHandle | None = None
    unload_when_idle: bool = False

    @property
    def key(self) -> str:
        return self.facts.model.name.display

    @property
    def digest(self) -> str:
        return self.facts.model.digest


@dataclass
class Lease:
    runner: Runner
    load_duration_ns: int

    def active(self) -> int:
        return self.runner.active


@dataclass
class Stats:
    completed: int = 0
    canceled_waiting: int = 0
    canceled_running: int = 0
    rejected_busy: int = 0
    loads: int = 0
    max_active: dict[str, int] = field(default_factory=dict)
    # Token accounting for benchmarks: streamed as they go, and per finished generation.
    streamed_tokens: int = 0
    prompt_tokens: int = 0
    eval_tokens: int = 0


class Scheduler:
    def __init__(self, backend: Backend, num_parallel: int, max_queue: int) -> None:
        self.backend = backend
        self.num_parallel = num_parallel
        self.max_queue = max_queue
        self.runners: dict[str, Runner] = {}
        self.waiting = 0
        self.stats = Stats()
        self._queues: dict[str, deque[object]] = {}
        self._changed = asyncio.Condition()

    def _can_start(self, key: str, facts: ModelFacts, num_ctx: int) -> bool:
        runner = self.runners.get(key)
        if runner is None:
            return True
        if runner.loading:
            return False
        if runner.num_ctx == num_ctx and runner.digest == facts.model.digest:
            return runner.active < self.num_parallel
        return runner.active == 0  # a reload needs the runner to itself

    @contextlib.asynccontextmanager
    async def lease(
        self, facts: ModelFacts, num_ctx: int, keep_alive_ns: int
    ) -> AsyncIterator[Lease]:
        """Wait for a slot on the model (loading it if needed) and hold it for the block."""
        if self.waiting >= self.max_queue:
            self.stats.rejected_busy += 1
            raise Busy(BUSY_MESSAGE)
        key = facts.model.name.display
        queue = self._queues.setdefault(key, deque())
        ticket = object()
        queue.append(ticket)
        self.waiting += 1
        try:
            async with self._changed:
                await self._changed.wait_for(
                    lambda: queue[0] is ticket and self._can_start(key, facts, num_ctx)
                )
                queue.popleft()
                runner = self._claim(key, facts, num_ctx)
                # What /api/ps shows while the request runs; re-armed when the runner idles.
                runner.expires_at_ns = _expiry_ns(keep_alive_ns)
                self._changed.notify_all()
        except asyncio.CancelledError:
            self.stats.canceled_waiting += 1
            log.info("%s: request canceled while queued (499)", key)
            raise
        finally:
            self.waiting -= 1
            if ticket in queue:
                queue.remove(ticket)
                await self._notify()

        started = time.perf_counter_ns()
        try:
            if runner.loading:
                await self._load(runner)
            lease = Lease(runner, max(1, time.perf_counter_ns() - started))
            yield lease
            self.stats.completed += 1
        except asyncio.CancelledError:
            self.stats.canceled_running += 1
            raise
        finally:
            await self._release(runner, keep_alive_ns)

    def _claim(self, key: str, facts: ModelFacts, num_ctx: int) -> Runner:
        runner = self.runners.get(key)
        if runner is None or runner.num_ctx != num_ctx or runner.digest != facts.model.digest:
            if runner is not None:
                self._drop(runner)
            runner = Runner(facts, num_ctx)
            self.runners[key] = runner
        if runner.timer is not None:
            runner.timer.cancel()
            runner.timer = None
        runner.active += 1
        peak = self.stats.max_active.get(key, 0)
        self.stats.max_active[key] = max(peak, runner.active)
        return runner

    async def _load(self, runner: Runner) -> None:
        try:
            runner.state = await self.backend.load(runner.facts, runner.num_ctx)
        except BaseException:
            self.runners.pop(runner.key, None)
            raise
        finally:
            runner.loading = False
        self.stats.loads += 1

    async def _release(self, runner: Runner, keep_alive_ns: int) -> None:
        runner.active -= 1
        if runner.active == 0 and self.runners.get(runner.key) is runner:
            self._arm_expiry(runner, 0 if runner.unload_when_idle else keep_alive_ns)
        await self._notify()

    def _arm_expiry(self, runner: Runner, keep_alive_ns: int) -> None:
        if keep_alive_ns == 0:
            self._drop(runner)
            return
        runner.expires_at_ns = _expiry_ns(keep_alive_ns)
        if keep_alive_ns >= FOREVER_NS:
            return
        loop = asyncio.get_running_loop()
        runner.timer = loop.call_later(keep_alive_ns / 1e9, self._expire, runner)

    def _expire(self, runner: Runner) -> None:
        if runner.active == 0 and self.runners.get(runner.key) is runner:
            log.info("%s: keep_alive expired, unloading", runner.key)
            self._drop(runner)

    def _drop(self, runner: Runner) -> None:
        if self.runners.get(runner.key) is runner:
            del self.runners[runner.key]
        if runner.timer is not None:
            runner.timer.cancel()
        state, runner.state = runner.state, None
        if state is not None:
            task = asyncio.get_running_loop().create_task(self.backend.unload(state))
            # Unloading is best effort; reading the exception keeps asyncio from logging it.
            task.add_done_callback(lambda done: done.exception())

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def unload(self, key: str) -> None:
        """keep_alive 0 with no messages: unload now if idle, else when the last request ends."""
        runner = self.runners.get(key)
        if runner is None:
            return
        if runner.active == 0 and not runner.loading:
            self._drop(runner)
        else:
            runner.unload_when_idle = True

    def loaded(self) -> list[Runner]:
        return [runner for runner in self.runners.values() if not runner.loading]


def _expiry_ns(keep_alive_ns: int) -> int:
    """Epoch ns when a runner idle from now expires (Ollama adds even "forever" to now)."""
    return time.time_ns() + keep_alive_ns

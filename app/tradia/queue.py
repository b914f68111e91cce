"""A fair (FIFO) limit on concurrent generations, with live queue positions.

The AI server runs OLLAMA_NUM_PARALLEL generations per model and queues the rest out of sight;
queueing here instead lets every waiting user see their position, and lets a user who gives up
leave the queue without having cost the GPU anything.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from tradia.upstream.errors import ErrorKind, UpstreamError


class _Waiter:
    __slots__ = ("changed", "granted")

    def __init__(self) -> None:
        self.granted = False
        self.changed = asyncio.Event()


class GenerationQueue:
    def __init__(self, capacity: int, max_waiting: int) -> None:
        self.capacity = capacity
        self.max_waiting = max_waiting
        self._running = 0
        self._waiting: deque[_Waiter] = deque()

    @property
    def running(self) -> int:
        return self._running

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def _position(self, waiter: _Waiter) -> int:
        return self._waiting.index(waiter) + 1

    def _notify_all(self) -> None:
        for waiter in self._waiting:
            waiter.changed.set()

    def _release(self) -> None:
        self._running -= 1
        if self._waiting:
            waiter = self._waiting.popleft()
            waiter.granted = True
            self._running += 1
            waiter.changed.set()
            self._notify_all()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[Ticket]:
        """Hold a generation slot for the duration of the block (see Ticket.positions)."""
        ticket = Ticket(self)
        try:
            yield ticket
        finally:
            ticket.leave()


class Ticket:
    """One request's place: iterate `positions()` until it ends, then the slot is held."""

    def __init__(self, queue: GenerationQueue) -> None:
        self._queue = queue
        self._waiter: _Waiter | None = None
        self._holding = False

    async def positions(self, heartbeat: float = 10.0) -> AsyncIterator[int]:
        """Yield the 1-based queue position whenever it changes (and every `heartbeat` seconds,
        so a stream that waits long still shows life); return once the slot is granted."""
        queue = self._queue
        if queue._running < queue.capacity and not queue._waiting:
            queue._running += 1
            self._holding = True
            return
        if len(queue._waiting) >= queue.max_waiting:
            raise UpstreamError(
                ErrorKind.LLM_BUSY,
                f"Too many requests are waiting ({queue.max_waiting}). Try again in a minute.",
            )
        waiter = _Waiter()
        self._waiter = waiter
        queue._waiting.append(waiter)
        while True:
            if waiter.granted:
                self._holding = True
                self._waiter = None
                return
            yield queue._position(waiter)
            waiter.changed.clear()
            if waiter.granted:
                continue
            with suppress(TimeoutError):
                await asyncio.wait_for(waiter.changed.wait(), timeout=heartbeat)

    def leave(self) -> None:
        queue = self._queue
        if self._holding:
            self._holding = False
            queue._release()
        elif self._waiter is not None:
            waiter, self._waiter = self._waiter, None
            if waiter.granted:
                # Granted between the last wake-up and cancellation: pass the slot on.
                queue._release()
            else:
                queue._waiting.remove(waiter)
                queue._notify_all()

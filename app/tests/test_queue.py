"""The generation queue: capacity, FIFO order, live positions, leaving the queue."""

from __future__ import annotations

import asyncio

import pytest
from tradia.queue import GenerationQueue
from tradia.upstream.errors import ErrorKind, UpstreamError


async def hold(
    queue: GenerationQueue, positions: list[int], started: asyncio.Event, release: asyncio.Event
) -> None:
    async with queue.slot() as ticket:
        async for position in ticket.positions(heartbeat=0.05):
            positions.append(position)
        started.set()
        await release.wait()


async def test_positions_move_up_as_slots_free() -> None:
    queue = GenerationQueue(capacity=1, max_waiting=5)
    events = [(asyncio.Event(), asyncio.Event()) for _ in range(3)]
    positions: list[list[int]] = [[], [], []]
    tasks = []
    for index, (started, release) in enumerate(events):
        tasks.append(asyncio.create_task(hold(queue, positions[index], started, release)))
        await asyncio.sleep(0.01)
    await events[0][0].wait()
    assert (queue.running, queue.waiting) == (1, 2)
    events[0][1].set()
    await events[1][0].wait()
    events[1][1].set()
    await events[2][0].wait()
    events[2][1].set()
    await asyncio.gather(*tasks)
    assert positions[0] == []
    assert positions[1][0] == 1
    assert positions[2][0] == 2
    assert 1 in positions[2]
    assert (queue.running, queue.waiting) == (0, 0)


async def test_leaving_the_queue_frees_the_place() -> None:
    queue = GenerationQueue(capacity=1, max_waiting=5)
    first_started, first_release = asyncio.Event(), asyncio.Event()
    first = asyncio.create_task(hold(queue, [], first_started, first_release))
    await first_started.wait()
    waiting = asyncio.create_task(hold(queue, [], asyncio.Event(), asyncio.Event()))
    third_positions: list[int] = []
    third_started, third_release = asyncio.Event(), asyncio.Event()
    third = asyncio.create_task(hold(queue, third_positions, third_started, third_release))
    await asyncio.sleep(0.05)
    assert queue.waiting == 2
    waiting.cancel()
    await asyncio.sleep(0.05)
    assert queue.waiting == 1
    assert third_positions[-1] == 1
    first_release.set()
    await third_started.wait()
    third_release.set()
    await asyncio.gather(first, third)
    assert (queue.running, queue.waiting) == (0, 0)


async def test_full_queue_is_busy() -> None:
    queue = GenerationQueue(capacity=1, max_waiting=0)
    started, release = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(hold(queue, [], started, release))
    await started.wait()

    async def wait_for_slot() -> None:
        async with queue.slot() as ticket:
            async for _ in ticket.positions():
                pass

    with pytest.raises(UpstreamError) as caught:
        await wait_for_slot()
    assert caught.value.kind is ErrorKind.LLM_BUSY
    release.set()
    await task
    assert queue.running == 0

"""HTTP plumbing shared by the routes: Ollama's error bodies and the NDJSON job response.

A job is an async iterator of JSON objects. Streamed, each becomes one NDJSON line and the
status is only decided by what happens before the first line: an ApiError raised before it is
a plain error response with its status, one raised after it becomes a last `{"error": ..}` line
with status 200. Not streamed, the objects are folded into one JSON body. A `Wire` says how
lines and errors are written: NDJSON for /api, SSE and OpenAI's error object for /v1.
A job runs beside a watcher of the client connection: when the client goes away (queued or
generating), the job is cancelled at once, which frees its slot.
"""

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

log = logging.getLogger("ollama_sim.http")

NDJSON = "application/x-ndjson"
JSON = "application/json; charset=utf-8"

Chunk = dict[str, Any]
Folder = Callable[[list[Chunk]], Chunk]


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class DropConnection(Exception):
    """Raised by a job to make the server cut the TCP connection (the `drop` fault)."""


def encode(obj: Chunk) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def json_response(obj: Chunk, status: int = 200) -> Response:
    return Response(encode(obj), status_code=status, media_type=JSON)


def error_response(status: int, message: str) -> Response:
    return json_response({"error": message}, status)


def last_chunk(chunks: list[Chunk]) -> Chunk:
    return chunks[-1]


def _error_body(_status: int, message: str) -> bytes:
    return encode({"error": message})


def _error_line(message: str) -> bytes:
    return encode({"error": message})


@dataclass(frozen=True)
class Wire:
    """How a job's objects and errors are written: Ollama's NDJSON, or the /v1 routes' SSE."""

    media_type: str = NDJSON
    line: Callable[[Chunk], bytes] = encode
    error_body: Callable[[int, str], bytes] = _error_body  # an error before any line
    error_line: Callable[[str], bytes] = _error_line  # an error after a line (status 200)
    trailer: bytes = b""  # after the last line of a job that finished


NDJSON_WIRE = Wire()


class JobResponse(Response):
    def __init__(
        self,
        job: AsyncIterator[Chunk],
        stream: bool,
        fold: Folder = last_chunk,
        wire: Wire = NDJSON_WIRE,
    ) -> None:
        super().__init__(status_code=200)
        self.job = job
        self.stream = stream
        self.fold = fold
        self.wire = wire

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        work = asyncio.create_task(self._run(send))
        watcher = asyncio.create_task(_wait_disconnect(receive))
        try:
            await asyncio.wait({work, watcher}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not work.done():
                # The client is gone (or the server is stopping): stop generating now.
                work.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await work
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        if not work.cancelled():
            work.result()  # re-raises what the job raised: DropConnection cuts the connection

    async def _run(self, send: Send) -> None:
        if self.stream:
            await self._stream(send)
        else:
            await self._whole(send)

    async def _stream(self, send: Send) -> None:
        wire = self.wire
        started = False
        try:
            async for chunk in self.job:
                if not started:
                    await _start(send, 200, wire.media_type)
                    started = True
                await send(
                    {"type": "http.response.body", "body": wire.line(chunk), "more_body": True}
                )
        except DropConnection:
            if not started:
                await _start(send, 200, wire.media_type)
            raise
        except ApiError as error:
            if not started:
                await _send_whole(send, error.status, wire.error_body(error.status, error.message))
                return
            body = wire.error_line(error.message)
            await send({"type": "http.response.body", "body": body, "more_body": False})
            return
        if not started:
            await _start(send, 200, wire.media_type)
        await send({"type": "http.response.body", "body": wire.trailer, "more_body": False})

    async def _whole(self, send: Send) -> None:
        chunks: list[Chunk] = []
        try:
            async for chunk in self.job:
                chunks.append(chunk)
        except ApiError as error:
            await _send_whole(send, error.status, self.wire.error_body(error.status, error.message))
            return
        except DropConnection:
            # Promise a longer body than is sent, then cut: the client sees a broken response.
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", JSON.encode()), (b"content-length", b"4096")],
                }
            )
            await send({"type": "http.response.body", "body": b'{"model":', "more_body": True})
            raise
        await _send_whole(send, 200, encode(self.fold(chunks)))


async def _start(send: Send, status: int, media_type: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", media_type.encode())],
        }
    )


async def _send_whole(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", JSON.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def _wait_disconnect(receive: Receive) -> Message:
    # The body has already been read by the route, so the next message is the disconnect.
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return message


class DropFilter(logging.Filter):
    """Keeps uvicorn from logging a traceback for a connection cut on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], DropConnection))

"""`/api/chat` and `/api/generate`: validation, scheduling, streaming, faults, metrics."""

import asyncio
import base64
import binascii
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ollama_sim.backends.base import GenerationRequest, Message, Outcome, Piece, RunnerError
from ollama_sim.durations import InvalidDuration, keep_alive_ns
from ollama_sim.faults import Fault
from ollama_sim.model_facts import ModelFacts
from ollama_sim.request_body import field, model_name, read_json
from ollama_sim.responses import ApiError, Chunk, DropConnection, JobResponse, error_response
from ollama_sim.routes import simulator
from ollama_sim.scheduler import Busy, Lease
from ollama_sim.simulator import Simulator
from ollama_sim.timefmt import now_rfc3339

MIDSTREAM_ERROR = "an error was encountered while running the model"
RUNNER_TERMINATED = "llama runner process has terminated"
_METRICS = (
    "total_duration",
    "load_duration",
    "prompt_eval_count",
    "prompt_eval_duration",
    "eval_count",
    "eval_duration",
)


@dataclass(frozen=True)
class Call:
    """One checked chat or generate request."""

    endpoint: str  # "chat" or "generate"
    given: str  # the model as the client wrote it: Ollama echoes it back
    facts: ModelFacts
    stream: bool
    keep_alive_ns: int
    generation: GenerationRequest
    load_only: bool  # no messages / no prompt: just load (or unload with keep_alive 0)


def _images(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ApiError(400, f"json: cannot unmarshal into Go struct field {where}.images")
    for item in value:
        try:
            base64.b64decode(item, validate=True)
        except (binascii.Error, ValueError):
            raise ApiError(400, "illegal base64 data at input byte 0") from None
    return tuple(value)


def _messages(data: dict[str, Any]) -> list[Message]:
    raw = field(data, "messages", list, "ChatRequest") or []
    messages = []
    for item in raw:
        if not isinstance(item, dict):
            raise ApiError(
                400,
                "json: cannot unmarshal into Go struct field ChatRequest.messages "
                "of type api.Message",
            )
        role = field(item, "role", str, "Message") or ""
        content = field(item, "content", str, "Message") or ""
        messages.append(Message(role, content, _images(item.get("images"), "Message")))
    return messages


def _int_option(options: dict[str, Any], key: str) -> int | None:
    value = options.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ApiError(400, f'option "{key}" must be of type integer')
    return int(value)


def _float_option(options: dict[str, Any], key: str) -> float | None:
    value = options.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ApiError(400, f'option "{key}" must be of type float')
    return float(value)


def _stop(options: dict[str, Any]) -> tuple[str, ...]:
    value = options.get("stop")
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise ApiError(400, 'option "stop" must be of type array of strings')


def _think(data: dict[str, Any], given: str, facts: ModelFacts) -> bool:
    value = data.get("think")
    thinking = "thinking" in facts.capabilities
    if value is None:
        return thinking  # Ollama thinks by default on a thinking model
    if not isinstance(value, bool | str):
        raise ApiError(400, "json: cannot unmarshal into Go struct field think")
    wanted = value is True or (isinstance(value, str) and value not in ("", "false"))
    if wanted and not thinking:
        raise ApiError(400, f'"{given}" does not support thinking')
    return wanted


def _format(data: dict[str, Any]) -> str | dict[str, Any] | None:
    value = data.get("format")
    if value in (None, ""):
        return None
    if value == "json" or isinstance(value, dict):
        return value
    raise ApiError(400, 'invalid format: expected "json" or a valid JSON schema')


def check_call(
    sim: Simulator, data: dict[str, Any], endpoint: str, go_type: str, messages: list[Message]
) -> Call:
    given, name = model_name(data, go_type)
    stream = field(data, "stream", bool, go_type)
    options = field(data, "options", dict, go_type) or {}
    facts = sim.find(name)
    if facts is None:
        raise ApiError(404, f"model '{given}' not found")
    try:
        keep_alive = (
            sim.settings.keep_alive_ns
            if data.get("keep_alive") is None
            else keep_alive_ns(data["keep_alive"])
        )
    except InvalidDuration as error:
        raise ApiError(400, str(error)) from None
    if any(m.images for m in messages) and "vision" not in facts.capabilities:
        raise ApiError(400, f'"{given}" does not support vision')
    if data.get("tools") and "tools" not in facts.capabilities:
        raise ApiError(400, f'"{given}" does not support tools')
    think = _think(data, given, facts)
    if not any(m.role == "system" for m in messages) and facts.system:
        messages = [Message("system", facts.system), *messages]
    merged = {**facts.parameters, **options}
    num_ctx = _int_option(merged, "num_ctx") or sim.settings.context_length
    generation = GenerationRequest(
        messages=tuple(messages),
        think=think,
        format=_format(data),
        num_predict=_int_option(merged, "num_predict"),
        num_ctx=max(1, min(num_ctx, facts.context_length)),
        seed=_int_option(merged, "seed"),
        temperature=_float_option(merged, "temperature"),
        top_p=_float_option(merged, "top_p"),
        stop=_stop(merged),
    )
    load_only = not any(m.role != "system" for m in messages)
    return Call(endpoint, given, facts, stream is not False, keep_alive, generation, load_only)


def _chunk(call: Call, text: str, thinking: str = "", done: bool = False) -> Chunk:
    chunk: Chunk = {"model": call.given, "created_at": now_rfc3339()}
    if call.endpoint == "chat":
        message = {"role": "assistant", "content": text}
        if thinking:
            message["thinking"] = thinking
        chunk["message"] = message
    else:
        chunk["response"] = text
        if thinking:
            chunk["thinking"] = thinking
    chunk["done"] = done
    return chunk


def _final(call: Call, outcome: Outcome, lease: Lease, started_ns: int) -> Chunk:
    chunk = _chunk(call, "", done=True)
    chunk["done_reason"] = outcome.done_reason
    if call.endpoint == "generate":
        # Stand-in token ids for the deprecated `context` field (prompt and answer).
        size = outcome.prompt_eval_count + outcome.eval_count
        chunk["context"] = [(index * 7919) % 32000 + 1 for index in range(size)]
    values = (
        time.perf_counter_ns() - started_ns,
        lease.load_duration_ns,
        outcome.prompt_eval_count,
        outcome.prompt_eval_duration_ns,
        outcome.eval_count,
        outcome.eval_duration_ns,
    )
    chunk.update({key: value for key, value in zip(_METRICS, values, strict=True) if value})
    return chunk


def _load_reply(call: Call, reason: str) -> Chunk:
    chunk = _chunk(call, "", done=True)
    chunk["done_reason"] = reason
    return chunk


async def _apply_fault(fault: Fault | None, index: int) -> None:
    """Before the chunk number `index` (0-based) is sent."""
    if fault is None:
        return
    if (fault.kind == "slow_first_token" and index == 0) or (
        fault.kind == "slow_tokens" and index >= fault.after
    ):
        await asyncio.sleep(fault.delay)
    elif fault.kind == "midstream_error" and index == fault.after:
        raise ApiError(500, MIDSTREAM_ERROR)
    elif fault.kind == "drop" and index == fault.after:
        raise DropConnection


async def run_generation(
    sim: Simulator, call: Call, fault: Fault | None, started_ns: int
) -> AsyncIterator[Chunk]:
    if fault is not None and fault.kind == "error_500":
        raise ApiError(500, f"{RUNNER_TERMINATED}: exit status 2")
    if fault is not None and fault.kind == "not_found":
        raise ApiError(404, f"model '{call.given}' not found")
    index = 0
    try:
        async with sim.scheduler.lease(
            call.facts, call.generation.num_ctx, call.keep_alive_ns
        ) as lease:
            outcome = Outcome()
            pieces = sim.backend.generate(
                lease.runner.state, call.generation, outcome, lease.active
            )
            async with contextlib.aclosing(pieces):
                async for piece in pieces:
                    await _apply_fault(fault, index)
                    yield _piece_chunk(call, piece)
                    sim.scheduler.stats.streamed_tokens += 1
                    index += 1
            if fault is not None and fault.kind in ("midstream_error", "drop"):
                await _apply_fault(fault, max(index, fault.after))
            sim.scheduler.stats.prompt_tokens += outcome.prompt_eval_count
            sim.scheduler.stats.eval_tokens += outcome.eval_count
            yield _final(call, outcome, lease, started_ns)
    except Busy as error:
        raise ApiError(503, str(error)) from None
    except RunnerError as error:
        message = MIDSTREAM_ERROR if index else f"{RUNNER_TERMINATED}: {error}"
        raise ApiError(500, message) from None


def _piece_chunk(call: Call, piece: Piece) -> Chunk:
    if piece.thinking:
        return _chunk(call, "", thinking=piece.text)
    return _chunk(call, piece.text)


async def run_load(sim: Simulator, call: Call) -> AsyncIterator[Chunk]:
    if call.keep_alive_ns == 0:
        sim.scheduler.unload(call.facts.model.name.display)
        yield _load_reply(call, "unload")
        return
    try:
        async with sim.scheduler.lease(call.facts, call.generation.num_ctx, call.keep_alive_ns):
            pass
    except Busy as error:
        raise ApiError(503, str(error)) from None
    except RunnerError as error:
        raise ApiError(500, f"{RUNNER_TERMINATED}: {error}") from None
    yield _load_reply(call, "load")


def fold_chunks(chunks: list[Chunk]) -> Chunk:
    """stream:false: one object with the whole text and the final chunk's fields."""
    final = dict(chunks[-1])
    if "message" in final:
        content = "".join(c["message"]["content"] for c in chunks)
        thinking = "".join(c["message"].get("thinking", "") for c in chunks)
        final["message"] = {"role": "assistant", "content": content}
        if thinking:
            final["message"]["thinking"] = thinking
    else:
        final["response"] = "".join(c["response"] for c in chunks)
        thinking = "".join(c.get("thinking", "") for c in chunks)
        if thinking:
            final["thinking"] = thinking
    return final


async def _respond(request: Request, endpoint: str, go_type: str) -> Response:
    started_ns = time.perf_counter_ns()
    sim = simulator(request)
    try:
        data = await read_json(request, go_type)
        if endpoint == "chat":
            messages = _messages(data)
        else:
            prompt = field(data, "prompt", str, go_type) or ""
            system = field(data, "system", str, go_type)
            messages = [Message("system", system)] if system else []
            images = _images(data.get("images"), go_type)
            if prompt or images:
                messages.append(Message("user", prompt, images))
        call = check_call(sim, data, endpoint, go_type, messages)
    except ApiError as error:
        return error_response(error.status, error.message)
    if call.load_only:
        return JobResponse(run_load(sim, call), stream=False)
    fault = sim.faults.take(endpoint)
    return JobResponse(
        run_generation(sim, call, fault, started_ns), stream=call.stream, fold=fold_chunks
    )


async def chat(request: Request) -> Response:
    return await _respond(request, "chat", "ChatRequest")


async def generate(request: Request) -> Response:
    return await _respond(request, "generate", "GenerateRequest")


ROUTES = [
    Route("/api/chat", chat, methods=["POST"]),
    Route("/api/generate", generate, methods=["POST"]),
]

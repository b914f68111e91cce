"""Ollama's OpenAI-compatible routes under `/v1`, translated the way its middleware does.

Each request is turned into the native chat/generate/show/tags call and goes through the same
path as `/api/chat` and `/api/generate` (validation, scheduler, backend timing, faults,
disconnect = cancellation); only the wire differs: SSE `data: {json}` events ending with
`data: [DONE]`, and errors as `{"error": {"message", "type", "param", "code"}}` with the status
the native handler chose. `Authorization` is ignored, as Ollama ignores it.
"""

import asyncio
import base64
import binascii
import hashlib
import json
import math
import random
import struct
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ollama_sim.backends.base import Message, RunnerError
from ollama_sim.model_facts import ModelFacts
from ollama_sim.request_body import field, model_name, read_json
from ollama_sim.responses import JSON, ApiError, Chunk, JobResponse, Wire, encode
from ollama_sim.routes import generation, simulator
from ollama_sim.scheduler import Busy
from ollama_sim.simulator import Simulator
from ollama_sim.tokens import count_tokens

SSE = "text/event-stream"
DONE = b"data: [DONE]\n\n"
FINGERPRINT = "fp_ollama"
_IMAGE_PREFIXES = tuple(f"data:image/{kind};base64," for kind in ("jpeg", "jpg", "png", "webp"))
# OpenAI's reasoning efforts on Ollama's think levels (clamped at both ends, as Ollama does).
_EFFORTS: dict[str, bool | str] = {
    "none": False,
    "minimal": "low",
    "low": "low",
    "medium": "medium",
    "high": "high",
    "max": "max",
    "xhigh": "max",
    "ultra": "max",
}
# Go's %T of a decoded JSON value, for Ollama's "invalid message content type" message.
_GO_DYNAMIC = {bool: "bool", int: "float64", float: "float64", dict: "map[string]interface {}"}


def _error_type(status: int) -> str:
    return {400: "invalid_request_error", 404: "not_found_error"}.get(status, "api_error")


def error_object(status: int, message: str) -> Chunk:
    return {"error": {"message": message, "type": _error_type(status), "param": None, "code": None}}


def _error_body(status: int, message: str) -> bytes:
    return encode(error_object(status, message))


def openai_error(status: int, message: str) -> Response:
    return Response(_error_body(status, message), status_code=status, media_type=JSON)


def _event(obj: Chunk) -> bytes:
    return b"data: " + json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode() + b"\n\n"


def _request_id(prefix: str) -> str:
    # Ollama's ids are this short: `chatcmpl-<0..998>`; clients must not rely on uniqueness.
    return f"{prefix}-{random.randrange(999)}"  # noqa: S311 - an id, not a secret


async def _read(request: Request, go_type: str) -> dict[str, Any]:
    try:
        return await read_json(request, go_type, package="openai")
    except ApiError as error:
        # gin's ShouldBindJSON reports an empty body as the decoder's EOF.
        if error.message == "missing request body":
            raise ApiError(400, "EOF") from None
        raise


def _stop(data: dict[str, Any], strict: bool) -> list[str] | None:
    value = data.get("stop")
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        return None
    if strict:  # /v1/completions rejects a non-string stop; chat drops it
        for item in value:
            if not isinstance(item, str):
                kind = _GO_DYNAMIC.get(type(item), "<nil>" if item is None else "[]interface {}")
                raise ApiError(400, f"invalid type for 'stop' field: {kind}")
    return [item for item in value if isinstance(item, str)]


def _options(data: dict[str, Any], go_type: str, strict_stop: bool) -> dict[str, Any]:
    """The native options Ollama's middleware sets (temperature and top_p default to 1)."""
    number = (int, float)
    options: dict[str, Any] = {
        "temperature": field(data, "temperature", number, go_type),
        "top_p": field(data, "top_p", number, go_type) or None,
    }
    options = {key: 1.0 if value is None else value for key, value in options.items()}
    for key, native in (
        ("max_tokens", "num_predict"),
        ("seed", "seed"),
        ("frequency_penalty", "frequency_penalty"),
        ("presence_penalty", "presence_penalty"),
    ):
        value = field(data, key, int if key in ("max_tokens", "seed") else number, go_type)
        if value is not None:
            options[native] = value
    stop = _stop(data, strict_stop)
    if stop is not None:
        options["stop"] = stop
    return options


def _include_usage(data: dict[str, Any], go_type: str) -> bool:
    options = field(data, "stream_options", dict, go_type) or {}
    return field(options, "include_usage", bool, "StreamOptions") is True


def _format(data: dict[str, Any], go_type: str) -> str | dict[str, Any] | None:
    response_format = field(data, "response_format", dict, go_type)
    if response_format is None:
        return None
    kind = (field(response_format, "type", str, "ResponseFormat") or "").strip().lower()
    if kind == "json_object":
        return "json"
    if kind == "json_schema":
        schema = field(response_format, "json_schema", dict, "ResponseFormat") or {}
        return schema.get("schema")
    return None  # "text" and anything else: free text


def _think(data: dict[str, Any], go_type: str) -> bool | str | None:
    reasoning = field(data, "reasoning", dict, go_type)
    if reasoning is not None:
        effort = field(reasoning, "effort", str, "Reasoning") or ""
    else:
        effort = field(data, "reasoning_effort", str, go_type) or ""
    if not effort:
        return None  # the model's default
    if effort not in _EFFORTS:
        raise ApiError(
            400,
            f'invalid reasoning value: "{effort}" (must be "minimal", "low", "medium", "high", '
            '"xhigh", "ultra", "max", or "none")',
        )
    return _EFFORTS[effort]


def _image(url: str) -> str:
    """A data URI's base64 payload (what /api/chat takes in `images`)."""
    if url.startswith(("http://", "https://")):
        raise ApiError(
            400, "image URLs are not currently supported, please use base64 encoded data instead"
        )
    prefix = next((p for p in ("data:;base64,", *_IMAGE_PREFIXES) if url.startswith(p)), None)
    if prefix is None:
        raise ApiError(400, "invalid image input")
    payload = url[len(prefix) :]
    try:
        base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(400, "invalid image input") from None
    return payload


def _parts(role: str, parts: list[Any]) -> list[Message]:
    """Content parts: Ollama makes one native message per part."""
    messages = []
    for part in parts:
        if not isinstance(part, dict):
            raise ApiError(400, "invalid message format")
        if part.get("type") == "text" and isinstance(part.get("text"), str):
            messages.append(Message(role, part["text"]))
        elif part.get("type") == "image_url":
            image_url = part.get("image_url")
            url = image_url.get("url") if isinstance(image_url, dict) else image_url
            if not isinstance(url, str):
                raise ApiError(400, "invalid message format")
            messages.append(Message(role, "", (_image(url),)))
        else:
            raise ApiError(400, "invalid message format")
    return messages


def _chat_messages(data: dict[str, Any]) -> list[Message]:
    raw = field(data, "messages", list, "ChatCompletionRequest") or []
    if not raw:
        raise ApiError(400, "[] is too short - 'messages'")
    messages: list[Message] = []
    for item in raw:
        if not isinstance(item, dict):
            raise ApiError(
                400,
                "json: cannot unmarshal into Go struct field ChatCompletionRequest.messages "
                "of type openai.Message",
            )
        role = field(item, "role", str, "ChatCompletionRequest.messages") or ""
        content = item.get("content")
        if isinstance(content, str):
            messages.append(Message(role, content))
        elif isinstance(content, list):
            messages.extend(_parts(role, content))
        elif content is None and item.get("tool_calls") is not None:
            messages.append(Message(role, ""))  # an assistant turn that only called tools
        else:
            kind = "<nil>" if content is None else _GO_DYNAMIC.get(type(content), "unknown")
            raise ApiError(400, f"invalid message content type: {kind}")
    return messages


def _finish_reason(chunk: Chunk) -> str | None:
    return chunk.get("done_reason") or None


def _usage(final: Chunk) -> Chunk:
    prompt, completion = final.get("prompt_eval_count", 0), final.get("eval_count", 0)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


class _Stream:
    """Writes one SSE response: the id, the pinned `created` and the Ollama quirks."""

    def __init__(self, object_name: str, id_prefix: str, model: str) -> None:
        self.object = object_name
        self.id = _request_id(id_prefix)
        self.model = model
        self.created = int(time.time())

    def envelope(self, choices: list[Chunk]) -> Chunk:
        return {
            "id": self.id,
            "object": self.object,
            "created": self.created,
            "model": self.model,
            "system_fingerprint": FINGERPRINT,
            "choices": choices,
        }

    def wire(self, midstream: Callable[[str], bytes]) -> Wire:
        return Wire(SSE, _event, _error_body, midstream, DONE)


async def _chat_chunks(
    native: AsyncIterator[Chunk], stream: _Stream, include_usage: bool
) -> AsyncIterator[Chunk]:
    """Native chat chunks to `chat.completion.chunk`s: role on the first, content as it comes,
    then a finish chunk with an empty delta, then (stream_options.include_usage) the usage."""
    first = True
    async for chunk in native:
        message = chunk.get("message", {})
        content, thinking = message.get("content", ""), message.get("thinking", "")
        if not chunk["done"] or first or content or thinking:
            delta: Chunk = {"role": "assistant"} if first else {}
            delta["content"] = content
            if thinking:
                delta["reasoning"] = thinking
            yield stream.envelope([{"index": 0, "delta": delta, "finish_reason": None}])
            first = False
        if chunk["done"]:
            reason = _finish_reason(chunk) or "stop"
            yield stream.envelope([{"index": 0, "delta": {}, "finish_reason": reason}])
            if include_usage:
                yield {**stream.envelope([]), "usage": _usage(chunk)}


async def _completion_chunks(
    native: AsyncIterator[Chunk], stream: _Stream, include_usage: bool
) -> AsyncIterator[Chunk]:
    """Native generate chunks to `text_completion` chunks; with include_usage every chunk carries
    a zero usage and a last chunk the real one (Ollama's CompleteWriter)."""
    zero = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    async for chunk in native:
        choice = {"text": chunk.get("response", ""), "index": 0}
        choice["finish_reason"] = _finish_reason(chunk)
        event = stream.envelope([choice])
        yield {**event, "usage": zero} if include_usage else event
        if chunk["done"] and include_usage:
            yield {**stream.envelope([]), "usage": _usage(chunk)}


def _chat_completion(stream: _Stream, final: Chunk) -> Chunk:
    message = final["message"]
    body: Chunk = {"role": message["role"], "content": message["content"]}
    if message.get("thinking"):
        body["reasoning"] = message["thinking"]
    choice = {"index": 0, "message": body, "finish_reason": _finish_reason(final)}
    return {**stream.envelope([choice]), "object": "chat.completion", "usage": _usage(final)}


def _completion(stream: _Stream, final: Chunk) -> Chunk:
    choice = {"text": final["response"], "index": 0, "finish_reason": _finish_reason(final)}
    return {**stream.envelope([choice]), "usage": _usage(final)}


def _native_request(
    data: dict[str, Any], go_type: str, strict_stop: bool
) -> tuple[dict[str, Any], bool, bool]:
    """The native request body Ollama's middleware builds, plus stream and include_usage."""
    stream = field(data, "stream", bool, go_type) is True  # OpenAI's default: not streamed
    include_usage = _include_usage(data, go_type)
    native: dict[str, Any] = {
        "model": data.get("model"),
        "stream": stream,
        "options": _options(data, go_type, strict_stop),
    }
    return native, stream, include_usage


async def chat_completions(request: Request) -> Response:
    started_ns = time.perf_counter_ns()
    sim = simulator(request)
    go_type = "ChatCompletionRequest"
    try:
        data = await _read(request, go_type)
        native, stream, include_usage = _native_request(data, go_type, strict_stop=False)
        messages = _chat_messages(data)
        native["format"] = _format(data, go_type)
        native["think"] = _think(data, go_type)
        native["tools"] = field(data, "tools", list, go_type)
        call = generation.check_call(sim, native, "chat", go_type, messages)
    except ApiError as error:
        return openai_error(error.status, error.message)
    writer = _Stream("chat.completion.chunk", "chatcmpl", call.given)
    fault = sim.faults.take("chat")
    job = generation.run_generation(sim, call, fault, started_ns)
    if not stream:
        fold = lambda chunks: _chat_completion(writer, generation.fold_chunks(chunks))  # noqa: E731
        return JobResponse(job, stream=False, fold=fold, wire=writer.wire(_event))

    def midstream(_message: str) -> bytes:
        # Ollama's writer parses the native error line as a chat chunk: one empty delta, and
        # the stream ends with no finish_reason and no [DONE].
        empty = {"index": 0, "delta": {"content": ""}, "finish_reason": None}
        return _event(writer.envelope([empty]))

    chunks = _chat_chunks(job, writer, include_usage)
    return JobResponse(chunks, stream=True, wire=writer.wire(midstream))


async def completions(request: Request) -> Response:
    started_ns = time.perf_counter_ns()
    sim = simulator(request)
    go_type = "CompletionRequest"
    try:
        data = await _read(request, go_type)
        native, stream, include_usage = _native_request(data, go_type, strict_stop=True)
        prompt = field(data, "prompt", str, go_type) or ""
        messages = [Message("user", prompt)] if prompt else []
        call = generation.check_call(sim, native, "generate", go_type, messages)
    except ApiError as error:
        return openai_error(error.status, error.message)
    writer = _Stream("text_completion", "cmpl", call.given)
    if call.load_only:  # an empty prompt only loads the model, as on /api/generate
        job = generation.run_load(sim, call)
    else:
        job = generation.run_generation(sim, call, sim.faults.take("generate"), started_ns)
    if not stream:
        fold = lambda chunks: _completion(writer, generation.fold_chunks(chunks))  # noqa: E731
        return JobResponse(job, stream=False, fold=fold, wire=writer.wire(_event))

    def midstream(_message: str) -> bytes:
        # The native error line parsed as a generate chunk: empty text, then the stream ends.
        return _event(writer.envelope([{"text": "", "index": 0, "finish_reason": None}]))

    chunks = _completion_chunks(job, writer, include_usage)
    return JobResponse(chunks, stream=True, wire=writer.wire(midstream))


def _model_entry(facts: ModelFacts, model_id: str) -> Chunk:
    return {
        "id": model_id,
        "object": "model",
        "created": facts.model.modified_ns // 1_000_000_000,
        "owned_by": _namespace(model_id),
    }


def _namespace(model_id: str) -> str:
    _given, name = model_name({"model": model_id}, "ShowRequest")
    return name.namespace


async def list_models(request: Request) -> Response:
    sim = simulator(request)
    models = sorted(sim.store.models(), key=lambda m: m.modified_ns, reverse=True)
    # Go marshals an empty slice that was never appended to as null: so does Ollama here.
    data = [_model_entry(ModelFacts(sim.store, m), m.name.display) for m in models] or None
    return Response(encode({"object": "list", "data": data}), media_type=JSON)


async def retrieve_model(request: Request) -> Response:
    given = request.path_params["model"]
    try:
        _given, name = model_name({"model": given}, "ShowRequest")
    except ApiError as error:
        return openai_error(error.status, error.message)
    facts = simulator(request).find(name)
    if facts is None:
        return openai_error(404, f"model '{given}' not found")
    return Response(encode(_model_entry(facts, given)), media_type=JSON)


def _embedding_inputs(value: Any) -> list[str]:
    if value == "":
        return [""]
    if value is None or value == []:
        raise ApiError(400, "invalid input")
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    raise ApiError(400, "invalid input type")


def embedding_vector(model: str, text: str, size: int) -> list[float]:
    """A deterministic unit vector for (model, text): the scripted stand-in for a real one."""
    seed = hashlib.sha256(f"{model}\0{text}".encode()).digest()
    rng = random.Random(seed)  # noqa: S311 - test data, not security
    vector = [rng.gauss(0.0, 1.0) for _ in range(size)]
    return _normalize(vector)


def _normalize(vector: list[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]


def _embedding_length(facts: ModelFacts) -> int:
    value = facts.metadata.get(f"{facts.architecture}.embedding_length")
    return int(value) if value else 4096


def _encode_floats(vector: list[float]) -> str:
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()


async def _embed(
    sim: Simulator, facts: ModelFacts, model: str, inputs: list[str], dimensions: int, fmt: str
) -> AsyncIterator[Chunk]:
    """Holds a slot like any request (load, queue, prefill time), then answers the vectors."""
    tokens = sum(count_tokens(text) for text in inputs)
    try:
        async with sim.scheduler.lease(
            facts, sim.settings.context_length, sim.settings.keep_alive_ns
        ) as lease:
            await _sleep_prefill(sim, tokens, lease.active())
    except Busy as error:
        raise ApiError(503, str(error)) from None
    except RunnerError as error:
        raise ApiError(500, f"{generation.RUNNER_TERMINATED}: {error}") from None
    size = _embedding_length(facts)
    data = []
    for index, text in enumerate(inputs):
        vector = embedding_vector(facts.model.name.display, text, size)
        if 0 < dimensions < size:
            vector = _normalize(vector[:dimensions])
        value: Any = _encode_floats(vector) if fmt == "base64" else vector
        data.append({"object": "embedding", "embedding": value, "index": index})
    usage = {"prompt_tokens": tokens, "total_tokens": tokens}
    yield {"object": "list", "data": data, "model": model, "usage": usage}


async def _sleep_prefill(sim: Simulator, tokens: int, active: int) -> None:
    await asyncio.sleep(sim.settings.profile.prefill_s(tokens, active))


async def embeddings(request: Request) -> Response:
    sim = simulator(request)
    go_type = "EmbedRequest"
    try:
        data = await _read(request, go_type)
        fmt = field(data, "encoding_format", str, go_type) or ""
        if fmt and fmt.lower() not in ("float", "base64"):
            raise ApiError(
                400,
                f"Invalid value for 'encoding_format' = {fmt}. "
                "Supported values: ['float', 'base64'].",
            )
        dimensions = field(data, "dimensions", int, go_type) or 0
        inputs = _embedding_inputs(data.get("input"))
        given, name = model_name(data, go_type)
        facts = sim.find(name)
        if facts is None:
            raise ApiError(404, f"model '{given}' not found")
    except ApiError as error:
        return openai_error(error.status, error.message)
    job = _embed(sim, facts, given, inputs, dimensions, fmt.lower())
    return JobResponse(job, stream=False, wire=Wire(JSON, encode, _error_body))


ROUTES = [
    Route("/v1/chat/completions", chat_completions, methods=["POST"]),
    Route("/v1/completions", completions, methods=["POST"]),
    Route("/v1/embeddings", embeddings, methods=["POST"]),
    Route("/v1/models", list_models, methods=["GET"]),
    Route("/v1/models/{model}", retrieve_model, methods=["GET"]),
]

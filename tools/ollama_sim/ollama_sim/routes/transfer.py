"""Getting models in: `/api/pull` (from the catalog), `/api/blobs/<digest>`, `/api/create`."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ollama_sim.create import create as create_model
from ollama_sim.create import plan_create
from ollama_sim.faults import Fault
from ollama_sim.pull import NOT_FOUND
from ollama_sim.pull import pull as pull_model
from ollama_sim.request_body import field, model_name, read_json
from ollama_sim.responses import ApiError, DropConnection, JobResponse, error_response
from ollama_sim.routes import simulator
from ollama_sim.store import InvalidDigest, Store

PULL_MIDSTREAM_ERROR = "max retries exceeded: unexpected EOF"


async def _with_fault(
    chunks: AsyncIterator[dict[str, Any]], fault: Fault | None
) -> AsyncIterator[dict[str, Any]]:
    """Apply a fault to a pull's progress stream (chunk-counting faults count lines)."""
    if fault is not None and fault.kind == "error_500":
        raise ApiError(500, "llama runner process has terminated: exit status 2")
    index = 0
    async for chunk in chunks:
        if fault is not None:
            if fault.kind == "not_found" and index == 1:
                raise ApiError(500, NOT_FOUND)
            if fault.kind == "slow_first_token" and index == 0:
                await asyncio.sleep(fault.delay)
            if fault.kind == "slow_tokens" and index >= fault.after:
                await asyncio.sleep(fault.delay)
            if fault.kind == "midstream_error" and index == fault.after:
                raise ApiError(500, PULL_MIDSTREAM_ERROR)
            if fault.kind == "drop" and index == fault.after:
                raise DropConnection
        yield chunk
        index += 1


async def pull(request: Request) -> Response:
    sim = simulator(request)
    try:
        data = await read_json(request, "PullRequest")
        _, name = model_name(data, "PullRequest")
        stream = field(data, "stream", bool, "PullRequest")
    except ApiError as error:
        return error_response(error.status, error.message)
    catalog = await sim.catalog()
    job = _with_fault(pull_model(catalog, sim.store, name), sim.faults.take("pull"))
    return JobResponse(job, stream=stream is not False)


def _blob_store(request: Request) -> tuple[Store, str]:
    sim = simulator(request)
    digest = request.path_params["digest"]
    try:
        sim.store.blob_path(digest)
    except InvalidDigest as error:
        raise ApiError(400, str(error)) from None
    return sim.store, digest.replace("sha256-", "sha256:", 1)


async def head_blob(request: Request) -> Response:
    try:
        store, digest = _blob_store(request)
    except ApiError as error:
        return error_response(error.status, error.message)
    if not store.has_blob(digest):
        return error_response(404, f'blob "{digest}" not found')
    return Response(status_code=200)


async def post_blob(request: Request) -> Response:
    try:
        store, digest = _blob_store(request)
    except ApiError as error:
        return error_response(error.status, error.message)
    if store.has_blob(digest):
        return Response(status_code=200)
    actual = await store.write_blob_stream(digest, request.stream())
    if actual != digest:
        return error_response(400, f'digest mismatch, expected "{digest}", got "{actual}"')
    return Response(status_code=201)


async def create(request: Request) -> Response:
    sim = simulator(request)
    try:
        data = await read_json(request, "CreateRequest")
        _, name = model_name(data, "CreateRequest")
        stream = field(data, "stream", bool, "CreateRequest")
        field(data, "files", dict, "CreateRequest")
        plan = plan_create(sim.store, name, data)
    except ApiError as error:
        return error_response(error.status, error.message)
    return JobResponse(create_model(sim.store, plan), stream=stream is not False)


ROUTES = [
    Route("/api/pull", pull, methods=["POST"]),
    Route("/api/blobs/{digest}", head_blob, methods=["HEAD"]),
    Route("/api/blobs/{digest}", post_blob, methods=["POST"]),
    Route("/api/create", create, methods=["POST"]),
]

"""Listing and inspecting models: `/api/tags`, `/api/ps`, `/api/show`, `/api/delete`."""

import time

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ollama_sim.model_facts import ModelFacts
from ollama_sim.request_body import model_name, read_json
from ollama_sim.responses import ApiError, error_response, json_response
from ollama_sim.routes import simulator
from ollama_sim.timefmt import rfc3339_nano


async def tags(request: Request) -> Response:
    sim = simulator(request)
    models = sorted(sim.store.models(), key=lambda m: m.modified_ns, reverse=True)
    return json_response(
        {
            "models": [
                {
                    "name": model.name.display,
                    "model": model.name.display,
                    "modified_at": rfc3339_nano(model.modified_ns),
                    "size": model.size,
                    "digest": model.digest,
                    "details": ModelFacts(sim.store, model).details(),
                }
                for model in models
            ]
        }
    )


async def ps(request: Request) -> Response:
    sim = simulator(request)
    entries = []
    for runner in sim.scheduler.loaded():
        facts, model = runner.facts, runner.facts.model
        # Weights plus the KV cache for every parallel slot, as Ollama sizes a runner.
        kv = facts.kv_bytes_per_token * runner.num_ctx * sim.settings.num_parallel
        size = model.size + kv
        expires = runner.expires_at_ns or time.time_ns()
        entries.append(
            {
                "name": model.name.display,
                "model": model.name.display,
                "size": size,
                "digest": model.digest,
                "details": facts.details(),
                "expires_at": rfc3339_nano(expires),
                "size_vram": size,
                "context_length": runner.num_ctx,
            }
        )
    return json_response({"models": entries})


async def show(request: Request) -> Response:
    try:
        data = await read_json(request, "ShowRequest")
        given, name = model_name(data, "ShowRequest")
    except ApiError as error:
        return error_response(error.status, error.message)
    facts = simulator(request).find(name)
    if facts is None:
        return error_response(404, f"model '{given}' not found")
    body = {
        "license": facts.license,
        "modelfile": facts.modelfile(),
        "parameters": facts.parameters_text(),
        "template": facts.template,
        "system": facts.system,
        "details": facts.details(),
        "model_info": facts.model_info(),
        "capabilities": facts.capabilities,
        "modified_at": rfc3339_nano(facts.model.modified_ns),
    }
    return json_response({key: value for key, value in body.items() if value})


async def delete(request: Request) -> Response:
    try:
        data = await read_json(request, "DeleteRequest")
        given, name = model_name(data, "DeleteRequest")
    except ApiError as error:
        return error_response(error.status, error.message)
    sim = simulator(request)
    if not sim.store.delete(name):
        return error_response(404, f"model '{given}' not found")
    sim.scheduler.unload(name.display)
    return Response(status_code=200)


ROUTES = [
    Route("/api/tags", tags, methods=["GET", "HEAD"]),
    Route("/api/ps", ps, methods=["GET"]),
    Route("/api/show", show, methods=["POST"]),
    Route("/api/delete", delete, methods=["DELETE"]),
]

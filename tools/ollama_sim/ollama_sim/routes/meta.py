"""`/` and `/api/version`: what health checks and clients probe first."""

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from ollama_sim import OLLAMA_VERSION
from ollama_sim.responses import json_response


async def root(_request: Request) -> Response:
    return PlainTextResponse("Ollama is running")


async def version(_request: Request) -> Response:
    return json_response({"version": OLLAMA_VERSION})


ROUTES = [
    Route("/", root, methods=["GET", "HEAD"]),
    Route("/api/version", version, methods=["GET", "HEAD"]),
]

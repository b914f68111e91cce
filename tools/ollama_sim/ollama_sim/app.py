"""Builds the ASGI app for one Simulator."""

import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from ollama_sim.responses import DropFilter
from ollama_sim.routes import admin, generation, meta, models, openai_compat, transfer
from ollama_sim.settings import Settings
from ollama_sim.simulator import Simulator


async def _not_found(_request: Request, _exc: Exception) -> Response:
    # Ollama's router (gin) answers unknown paths in plain text.
    return PlainTextResponse("404 page not found", status_code=404)


async def _method_not_allowed(_request: Request, _exc: Exception) -> Response:
    return PlainTextResponse("405 method not allowed", status_code=405)


def build_app(settings: Settings) -> Starlette:
    logging.getLogger("uvicorn.error").addFilter(DropFilter())

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        simulator = Simulator(settings)
        app.state.simulator = simulator
        await simulator.preload()
        yield

    return Starlette(
        routes=[
            *meta.ROUTES,
            *models.ROUTES,
            *transfer.ROUTES,
            *generation.ROUTES,
            *openai_compat.ROUTES,
            *admin.ROUTES,
        ],
        lifespan=lifespan,
        exception_handlers={404: _not_found, 405: _method_not_allowed},
    )

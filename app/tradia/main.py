"""Builds the FastAPI app: one router per area, shared state from the lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from tradia.api.errors import install_error_handlers
from tradia.api.routes import ROUTERS
from tradia.api.streaming import document_streams
from tradia.auth.install import install_auth
from tradia.core.config import Settings
from tradia.core.logging import configure_logging
from tradia.docs_ui import install_docs
from tradia.generation import LLMService
from tradia.glossary import GlossaryFile
from tradia.jobs.runner import JobRunner
from tradia.jobs.store import JobStore
from tradia.metrics import Metrics
from tradia.queue import GenerationQueue
from tradia.security import (
    BodySizeLimitMiddleware,
    CrossSiteRequestMiddleware,
    SecurityHeadersMiddleware,
)
from tradia.state import AppState
from tradia.tasks.reformulation import TONES
from tradia.upstream.ollama_client import OllamaClient, build_http_client

STATIC_DIR = Path(__file__).parent / "static"
# Room for multipart overhead and form fields beside the files themselves.
_FORM_MARGIN = 256 * 1024
# Room for the other JSON fields (languages, model, tone) beside the text.
_JSON_MARGIN = 16 * 1024


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()  # type: ignore[call-arg]
    configure_logging(settings.log_level)
    # Read now: a bad terminology file stops the start with a message naming the entry.
    glossary = GlossaryFile(settings.glossary_file)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        metrics = Metrics()
        queue = GenerationQueue(settings.concurrency, settings.max_waiting)
        metrics.queue_waiting.set_function(lambda: queue.waiting)
        metrics.generations_running.set_function(lambda: queue.running)
        async with build_http_client(settings) as http:
            client = OllamaClient(http, settings)
            llm = LLMService(client, queue, metrics, settings)
            parse_slots = asyncio.Semaphore(settings.parse_concurrency)
            jobs = JobRunner(JobStore(settings.jobs_dir), settings, llm, glossary, parse_slots)
            app.state.tradia = AppState(
                settings=settings,
                http=http,
                client=client,
                queue=queue,
                metrics=metrics,
                llm=llm,
                glossary=glossary,
                parse_slots=parse_slots,
                jobs=jobs,
            )
            # Jobs left unfinished by the previous process carry on (or fail, saying why).
            await jobs.start()
            try:
                yield
            finally:
                await jobs.stop()

    docs = settings.docs_enabled
    app = FastAPI(
        title="Tradia",
        version="0.1.0",
        summary="Self-hosted AI writing assistant on Ollama",
        lifespan=lifespan,
        # /docs is served by tradia.docs_ui (Swagger UI from a package, no CDN).
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json" if docs else None,
    )
    install_error_handlers(app)
    if docs:
        install_docs(app)
    for router in ROUTERS:
        app.include_router(router)
    install_auth(app, settings)
    app.mount("/", StaticFiles(directory=STATIC_DIR, html=True), name="ui")
    form_limit = (
        max(settings.max_files * settings.max_file_bytes, settings.max_image_bytes) + _FORM_MARGIN
    )
    # A JSON escape can take 12 bytes for one character ("\ud83d\ude00" is one emoji).
    json_limit = settings.max_chars * 12 + _JSON_MARGIN
    _document_choices(app, settings)
    # No CORS middleware on purpose: the UI is served from the same origin.
    app.add_middleware(BodySizeLimitMiddleware, limit=json_limit, form_limit=form_limit)
    # Outside the size limit: a cross-site request is refused before its body is read.
    app.add_middleware(CrossSiteRequestMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    return app


def _document_choices(app: FastAPI, settings: Settings) -> None:
    """The OpenAPI schema names the configured languages and the tones, as /api/settings does,
    so API clients (and the fuzz tests) know the valid values."""
    choices = {
        "target": settings.languages,
        "source": ["auto", *settings.languages],
        "tone": [tone.id for tone in TONES],
    }
    default_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = default_openapi()
            document_streams(schema)
            for component in schema.get("components", {}).get("schemas", {}).values():
                for name, prop in component.get("properties", {}).items():
                    if name in choices and prop.get("type") == "string":
                        prop["enum"] = choices[name]
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

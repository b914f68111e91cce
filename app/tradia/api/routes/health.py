"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel

from tradia.api.deps import StateDep
from tradia.state import AppState
from tradia.upstream.errors import ErrorKind, UpstreamError
from tradia.upstream.ollama_client import normalise_model_name

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process answers (says nothing about the AI server: see /readyz)."""
    return {"status": "ok"}


class Readiness(BaseModel):
    """/readyz's answer: ready with the default model and the number of models, or not ready
    with an error kind and a message for ops."""

    status: Literal["ready", "not_ready"]
    default_model: str | None = None
    models: int | None = None
    reason: str | None = None
    message: str | None = None

    @property
    def ready(self) -> bool:
        return self.status == "ready"


async def _readiness(state: AppState) -> Readiness:
    """Ready when the AI server answers, accepts the key and has the default model (one
    definition for /readyz and the tradia_ready metric)."""
    default = state.settings.ollama_model
    try:
        models = await state.client.shared_models()
    except UpstreamError as exc:
        return Readiness(status="not_ready", reason=exc.kind.value, message=exc.message)
    names = {normalise_model_name(m.name) for m in models}
    if normalise_model_name(default) not in names:
        return Readiness(
            status="not_ready",
            reason=ErrorKind.MODEL_MISSING.value,
            message=f"The default model '{default}' is not installed on the AI server (ollama"
            f" pull {default}), or set OLLAMA_MODEL to one of:"
            f" {', '.join(sorted(names)) or 'none'}.",
        )
    return Readiness(status="ready", default_model=default, models=len(models))


@router.get("/readyz", responses={503: {"description": "The AI server cannot serve requests"}})
async def readyz(state: StateDep) -> JSONResponse:
    """Ready when the AI server answers, accepts the key and has the default model."""
    readiness = await _readiness(state)
    return JSONResponse(
        readiness.model_dump(exclude_none=True), status_code=200 if readiness.ready else 503
    )


@router.get("/metrics", response_class=Response)
async def metrics(state: StateDep) -> Response:
    # Readiness as Prometheus sees it (the shared model list: a scrape adds no AI server call
    # within the cache period).
    state.metrics.ready.set(1 if (await _readiness(state)).ready else 0)
    return Response(state.metrics.render(), media_type=CONTENT_TYPE_LATEST)

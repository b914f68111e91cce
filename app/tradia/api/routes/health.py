"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

from tradia.api.deps import StateDep
from tradia.upstream.errors import ErrorKind, UpstreamError
from tradia.upstream.ollama_client import normalise_model_name

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process answers (says nothing about the AI server: see /readyz)."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "The AI server cannot serve requests"}})
async def readyz(state: StateDep) -> JSONResponse:
    """Ready when the AI server answers, accepts the key and has the default model."""
    default = state.settings.ollama_model
    try:
        models = await state.client.shared_models()
    except UpstreamError as exc:
        return JSONResponse(
            {"status": "not_ready", "reason": exc.kind.value, "message": exc.message},
            status_code=503,
        )
    names = {normalise_model_name(m.name) for m in models}
    if normalise_model_name(default) not in names:
        missing = UpstreamError(
            ErrorKind.MODEL_MISSING,
            f"The default model '{default}' is not installed on the AI server (ollama pull"
            f" {default}), or set OLLAMA_MODEL to one of: {', '.join(sorted(names)) or 'none'}.",
        )
        return JSONResponse(
            {"status": "not_ready", "reason": missing.kind.value, "message": missing.message},
            status_code=503,
        )
    return JSONResponse({"status": "ready", "default_model": default, "models": len(models)})


@router.get("/metrics", response_class=Response)
async def metrics(state: StateDep) -> Response:
    return Response(state.metrics.render(), media_type=CONTENT_TYPE_LATEST)

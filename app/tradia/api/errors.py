"""One place that turns failures into JSON answers (the stream has its own error event).

Every refusal, whoever raises it (a route, FastAPI's validation, Starlette's body parsing, the
body size limit), answers `{"error": <kind>, "message": <what to do>}` so the UI and API clients
read one shape; OpenAPI documents it for each operation.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from tradia.upstream.errors import UpstreamError

# Kinds for error_responses raised by the framework rather than by Tradia's own checks.
_HTTP_KINDS = {
    400: "invalid_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
}
_MAX_FIELD_ERRORS = 5


class ErrorOut(BaseModel):
    error: str
    message: str
    limit: int | None = None
    # Validation error_responses only: which fields, and why.
    detail: list[dict[str, Any]] | None = None


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the error_responses an operation can answer."""
    return {
        status: {"model": ErrorOut, "description": HTTPStatus(status).phrase} for status in statuses
    }


class RequestRejected(Exception):
    """A request Tradia refuses before any generation (too long, too many files, ...)."""

    def __init__(self, status: int, error: str, message: str, **extra: object) -> None:
        self.status = status
        self.error = error
        self.message = message
        self.extra = extra
        super().__init__(error)


def check_limit(value: int, limit: int, error: str, message: str) -> None:
    """413 `error` when `value` is over `limit`; the answer names the limit."""
    if value > limit:
        raise RequestRejected(413, error, message, limit=limit)


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    # ("body", "text") -> "text": the location kind says nothing to a user.
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or "body"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(UpstreamError)
    async def upstream_error(_: Request, exc: UpstreamError) -> JSONResponse:
        return JSONResponse(exc.to_dict(), status_code=exc.http_status)

    @app.exception_handler(RequestRejected)
    async def rejected(_: Request, exc: RequestRejected) -> JSONResponse:
        return JSONResponse(
            {"error": exc.error, "message": exc.message, **exc.extra}, status_code=exc.status
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        # The refused values are not echoed back: they may be long, or confidential text.
        errors = [
            {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type")}
            for e in exc.errors()
        ]
        message = "; ".join(f"{_field(e['loc'])}: {e['msg']}" for e in errors[:_MAX_FIELD_ERRORS])
        body = {"error": "invalid_request", "message": message or "Invalid request."}
        return JSONResponse({**body, "detail": errors}, status_code=422)

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse(
            {"error": _HTTP_KINDS.get(exc.status_code, "http_error"), "message": str(exc.detail)},
            status_code=exc.status_code,
            headers=exc.headers,
        )

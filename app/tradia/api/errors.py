"""One place that turns failures into JSON answers (the stream has its own error event)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tradia.upstream.errors import UpstreamError


class RequestRejected(Exception):
    """A request Tradia refuses before any generation (too long, too many files, ...)."""

    def __init__(self, status: int, error: str, message: str, **extra: object) -> None:
        self.status = status
        self.error = error
        self.message = message
        self.extra = extra
        super().__init__(error)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(UpstreamError)
    async def upstream_error(_: Request, exc: UpstreamError) -> JSONResponse:
        return JSONResponse(exc.to_dict(), status_code=exc.http_status)

    @app.exception_handler(RequestRejected)
    async def rejected(_: Request, exc: RequestRejected) -> JSONResponse:
        return JSONResponse(
            {"error": exc.error, "message": exc.message, **exc.extra}, status_code=exc.status
        )

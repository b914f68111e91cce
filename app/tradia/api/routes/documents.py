"""Document translation in one request: several files in, progress events out, then one file or
a ZIP. Built on the document jobs (one path): the request creates a job, streams its events and
deletes it when the stream ends; the jobs API (routes/jobs.py) lets the job outlive the browser.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from tradia.api.deps import StateDep, UserDep
from tradia.api.errors import RequestRejected, check_limit
from tradia.api.events import DocumentEvent, DocumentsEvent, DoneEvent, DownloadEvent, Event
from tradia.api.routes.tasks import check_language, choose_model, stream_doc
from tradia.api.streaming import NDJSONResponse, ndjson_response
from tradia.core.model_names import MODEL_NAME_PATTERN
from tradia.documents.formats import expanded_size
from tradia.jobs.models import JobEvent
from tradia.jobs.runner import MAX_SEGMENTS
from tradia.state import AppState
from tradia.upstream.errors import ErrorKind, UpstreamError

router = APIRouter(prefix="/api", tags=["documents"])

# Job failures found while parsing, answered as refusals of the request (as before jobs).
_REFUSALS = {"document_rejected": 422, "too_many_segments": 413}


def check_request(
    state: AppState, files: list[UploadFile], source: str, target: str, model: str | None
) -> str:
    """The checks that need no file read: their count, the languages, the model (chosen)."""
    config = state.settings
    check_limit(
        len(files),
        config.max_files,
        "too_many_files",
        f"{len(files)} files sent; at most {config.max_files} at once.",
    )
    check_language(state, target)
    if source != "auto":
        check_language(state, source)
    return choose_model(state, model)


async def received_files(state: AppState, files: list[UploadFile]) -> list[tuple[str, bytes]]:
    """The uploads, once every one has passed the size limits (nothing is stored, inflated or
    parsed before)."""
    config = state.settings
    received: list[tuple[str, bytes]] = []
    expanded_total = 0
    for upload in files:
        name = upload.filename or "document.txt"
        data = await upload.read(config.max_file_bytes + 1)
        check_limit(
            len(data),
            config.max_file_bytes,
            "file_too_large",
            f"'{name}' is larger than {config.max_file_bytes // 1024} KiB.",
        )
        # Sizes come from the archive's directory: nothing is inflated or parsed before every
        # file of the request has passed both limits.
        expanded = expanded_size(name, data)
        check_limit(
            expanded,
            config.max_document_expanded_bytes,
            "document_too_large",
            f"'{name}' expands to {expanded // 1048576} MiB once unpacked; at most"
            f" {config.max_document_expanded_bytes // 1048576} MiB per document.",
        )
        expanded_total += expanded
        check_limit(
            expanded_total,
            config.max_request_expanded_bytes,
            "documents_too_large",
            "These documents expand to more than"
            f" {config.max_request_expanded_bytes // 1048576} MiB together once unpacked;"
            " send fewer at once.",
        )
        received.append((name, data))
    return received


def _error_kind(code: str) -> ErrorKind:
    try:
        return ErrorKind(code)
    except ValueError:
        return ErrorKind.GENERATION_FAILED


@router.post(
    "/documents/translate",
    responses=stream_doc(DocumentEvent),
    response_class=StreamingResponse,
)
async def translate_documents(
    state: StateDep,
    user: UserDep,
    files: Annotated[list[UploadFile], File()],
    target: Annotated[str, Form()],
    source: Annotated[str, Form()] = "auto",
    model: Annotated[str | None, Form(pattern=MODEL_NAME_PATTERN)] = None,
    as_zip: Annotated[bool, Form()] = False,
) -> NDJSONResponse:
    """Events: documents, queued, progress, file_done (with failed segments), download
    (base64 file), done | error. Each file comes back in its own format, except a PDF: its
    text comes back as a Word document (.docx), without the PDF's layout (file_done's note)."""
    chosen = check_request(state, files, source, target, model)
    received = await received_files(state, files)
    runner = state.jobs
    record = await runner.create(
        user,
        received,
        source=source,
        target=target,
        model=chosen,
        as_zip=as_zip,
        ephemeral=True,
    )
    del received
    job_id = record.job.id
    follow = runner.follow(record)
    try:
        # Until the files are parsed: a batch that cannot be translated is refused as ever.
        async for event in follow:
            if isinstance(event, DocumentsEvent):
                first: Event = event
                break
            if isinstance(event, JobEvent) and event.job.finished and event.job.error:
                code = event.job.error.code
                if code in _REFUSALS:
                    extra = {"limit": MAX_SEGMENTS} if code == "too_many_segments" else {}
                    raise RequestRejected(_REFUSALS[code], code, event.job.error.message, **extra)
                raise UpstreamError(_error_kind(code), event.job.error.message)
        else:
            raise UpstreamError(ErrorKind.GENERATION_FAILED)
    except BaseException:
        await follow.aclose()
        await runner.delete(job_id)
        raise

    async def events() -> AsyncIterator[Event]:
        try:
            yield first
            async for event in follow:
                if not isinstance(event, JobEvent):
                    yield event
                    continue
                job = event.job
                if not job.finished:
                    continue
                if job.state == "done" and job.result is not None:
                    path = runner.store.result_path(job_id)
                    payload = await run_in_threadpool(path.read_bytes)
                    yield DownloadEvent(
                        filename=job.result.filename,
                        media_type=job.result.media_type,
                        data_base64=base64.b64encode(payload).decode("ascii"),
                    )
                    yield DoneEvent(done_reason="stop", truncated=False)
                    return
                error = job.error
                raise UpstreamError(
                    _error_kind(error.code if error else "generation_failed"),
                    error.message if error else "The translation was cancelled.",
                )
        finally:
            # The client has its result or is gone: the job goes with the request, as before.
            await follow.aclose()
            await runner.delete(job_id)

    return ndjson_response(events(), "document")

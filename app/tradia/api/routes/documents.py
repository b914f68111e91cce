"""Document translation: several files in, progress events out, then one file or a ZIP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from tradia.api.deps import StateDep, UserDep
from tradia.api.errors import RequestRejected, check_limit
from tradia.api.events import DocumentEvent, DoneEvent, Event
from tradia.api.routes.tasks import check_language, choose_model, stream_doc
from tradia.api.streaming import NDJSONResponse, ndjson_response
from tradia.core.model_names import MODEL_NAME_PATTERN
from tradia.documents.formats import expanded_size
from tradia.documents.translation_job import DocumentJob

router = APIRouter(prefix="/api", tags=["documents"])

# Beyond this a batch would occupy the GPU for too long in one request.
MAX_SEGMENTS = 3000


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
    job = DocumentJob(
        llm=state.llm,
        glossary=state.glossary,
        user=user,
        model=choose_model(state, model),
        source=None if source == "auto" else source,
        target=target,
        as_zip=as_zip,
        max_chars=config.max_chars,
    )
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
    for name, data in received:
        # Parsing a large .docx takes seconds and holds its tree: off the event loop (streams
        # keep flowing) and a few at a time across all requests (memory stays bounded).
        async with state.parse_slots:
            await run_in_threadpool(job.add, name, data)
    if all(f.document is None for f in job.files):
        raise RequestRejected(
            422, "document_rejected", "; ".join(f"{f.name}: {f.error}" for f in job.files)
        )
    segments = sum(len(f.document.segments) for f in job.files if f.document)
    check_limit(
        segments,
        MAX_SEGMENTS,
        "too_many_segments",
        f"These files hold {segments} paragraphs to translate; at most {MAX_SEGMENTS} at once.",
    )

    async def events() -> AsyncIterator[Event]:
        async for event in job.run():
            yield event
        yield DoneEvent(done_reason="stop", truncated=False)

    return ndjson_response(events(), "document")

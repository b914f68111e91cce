"""Document jobs: POST answers at once with the job; its progress, result and removal by id.

The job belongs to the user who created it: anyone else gets the answer an unknown id gets.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Response, UploadFile
from fastapi.responses import FileResponse, StreamingResponse

from tradia.api.deps import StateDep, UserDep
from tradia.api.errors import RequestRejected, error_responses
from tradia.api.routes.documents import check_request, received_files
from tradia.api.routes.tasks import check_formality, stream_doc
from tradia.api.streaming import NDJSONResponse, ndjson_response
from tradia.core.model_names import MODEL_NAME_PATTERN
from tradia.jobs.models import Formality, Job, JobEvent, JobList, JobRecord
from tradia.state import AppState

router = APIRouter(prefix="/api/documents/jobs", tags=["document jobs"])

_NOT_FOUND = error_responses(404)


def _job(state: AppState, job_id: str, user: str) -> JobRecord:
    record = state.jobs.find(job_id, user)
    if record is None:
        raise RequestRejected(404, "job_not_found", "No such job: it ended long ago or never was.")
    return record


@router.post(
    "",
    status_code=202,
    response_model=Job,
    responses=error_responses(400, 413, 422, 429),
)
async def create_job(
    state: StateDep,
    user: UserDep,
    response: Response,
    files: Annotated[list[UploadFile], File()],
    target: Annotated[str, Form()],
    source: Annotated[str, Form()] = "auto",
    model: Annotated[str | None, Form(pattern=MODEL_NAME_PATTERN)] = None,
    as_zip: Annotated[bool, Form()] = False,
    formality: Annotated[Formality, Form()] = "default",
) -> Job:
    """Stores the files and answers at once (202); the job then waits its turn and translates
    them, a segment at a time, through the same queue as every other task. Follow it with
    `/events`; download with `/result`."""
    chosen = check_request(state, files, source, target, model)
    check_formality(target, formality)
    received = await received_files(state, files)
    limit = state.settings.max_jobs_per_user
    if state.jobs.unfinished(user) >= limit:
        raise RequestRejected(
            429,
            "too_many_jobs",
            f"You already have {limit} document jobs under way: wait for one to end.",
            limit=limit,
        )
    record = await state.jobs.create(
        user,
        received,
        source=source,
        target=target,
        model=chosen,
        formality=formality,
        as_zip=as_zip,
    )
    response.headers["Location"] = f"/api/documents/jobs/{record.job.id}"
    return record.job


@router.get("", response_model=JobList)
async def list_jobs(state: StateDep, user: UserDep) -> JobList:
    """The caller's jobs, newest first."""
    return JobList(jobs=state.jobs.jobs_of(user))


@router.get("/{job_id}", response_model=Job, responses=_NOT_FOUND)
async def get_job(state: StateDep, user: UserDep, job_id: str) -> Job:
    return _job(state, job_id, user).job


@router.get(
    "/{job_id}/events",
    responses={**stream_doc(JobEvent), **_NOT_FOUND},
    response_class=StreamingResponse,
)
async def job_events(state: StateDep, user: UserDep, job_id: str) -> NDJSONResponse:
    """NDJSON: `job` (the whole job now: all a reconnecting client needs), then documents,
    queued, progress and file_done as they happen, then `job` again once it has ended. A client
    that goes away leaves the job running."""
    record = _job(state, job_id, user)
    return ndjson_response(state.jobs.follow(record), "document_job")  # type: ignore[arg-type]


@router.get(
    "/{job_id}/result",
    response_class=FileResponse,
    responses={200: {"content": {"application/octet-stream": {}}}, **error_responses(404, 409)},
)
async def job_result(state: StateDep, user: UserDep, job_id: str) -> FileResponse:
    """The translated file, or a ZIP when there were several files (or as_zip)."""
    record = _job(state, job_id, user)
    result = record.job.result
    if record.job.state != "done" or result is None:
        raise RequestRejected(
            409, "job_not_finished", f"The job is {record.job.state}: no result to download."
        )
    return FileResponse(
        state.jobs.store.result_path(job_id),
        media_type=result.media_type,
        filename=result.filename,
    )


@router.delete("/{job_id}", status_code=204, responses=_NOT_FOUND)
async def delete_job(state: StateDep, user: UserDep, job_id: str) -> Response:
    """Cancels the job if it is under way (its waiting generations leave the queue) and deletes
    its files and result."""
    _job(state, job_id, user)
    await state.jobs.delete(job_id)
    return Response(status_code=204)

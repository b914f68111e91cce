"""The job as the API shows it (`Job`) and as the store keeps it (`JobRecord`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tradia.api.events import SegmentFailure, TermMissing
from tradia.tasks.formality import Formality

JobState = Literal["queued", "running", "done", "failed", "cancelled"]
FileState = Literal["waiting", "running", "done", "rejected", "failed"]
TERMINAL: frozenset[str] = frozenset({"done", "failed", "cancelled"})


def utc_now() -> datetime:
    return datetime.now(UTC)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class JobFile(_Model):
    name: str
    segments: int = 0
    done: int = 0
    state: FileState = "waiting"
    # Why the file was rejected or failed.
    error: str | None = None
    failed_segments: list[SegmentFailure] = Field(default_factory=list)
    # Required terms (glossary, do-not-translate) not found in a segment's translation.
    terms_missing: list[TermMissing] = Field(default_factory=list)
    output: str | None = None
    note: str | None = None


class JobError(_Model):
    code: str
    message: str


class JobResult(_Model):
    filename: str
    media_type: str
    size: int


class Job(_Model):
    id: str
    state: JobState = "queued"
    created_at: datetime
    updated_at: datetime
    expires_at: datetime | None = None
    source: str
    target: str
    model: str
    formality: Formality = "default"
    done: int = 0
    total: int = 0
    # Place of the job's next segment in the generation queue while it waits for the GPU.
    queue_position: int | None = None
    files: list[JobFile]
    error: JobError | None = None
    result: JobResult | None = None

    @property
    def finished(self) -> bool:
        return self.state in TERMINAL


class JobList(_Model):
    jobs: list[Job]


class JobEvent(_Model):
    """A job's whole state: the first line of its event stream, and the last."""

    type: Literal["job"] = "job"
    job: Job


class JobRecord(_Model):
    """What the state file holds: the job and what only the server needs."""

    job: Job
    owner: str
    as_zip: bool = False
    # Made for one request of POST /api/documents/translate: deleted with its stream, never
    # listed, never resumed.
    ephemeral: bool = False

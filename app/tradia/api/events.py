"""Every event of the NDJSON streams, one model each: the contract the browser, the tests and
bench read.

A line is the event's `model_dump(mode="json")`: its field names and values are the wire
format. An optional field that an event carries only in some streams (`queued.file`,
`done.stats`) is left out of the line when unset rather than written as null, as ever.

Four tasks answer with a `result`; the discriminator tells them apart by the field only that
result has, so one union parses any stream.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

from tradia.upstream.errors import ErrorKind


def _absent_if_none(value: object) -> bool:
    return value is None


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


# Progress of one generation


class QueuedEvent(_Model):
    type: Literal["queued"] = "queued"
    position: int
    # Document streams say which file's segment waits.
    file: str | None = Field(default=None, exclude_if=_absent_if_none)


class StartedEvent(_Model):
    type: Literal["started"] = "started"
    model: str


class TokenEvent(_Model):
    type: Literal["token"] = "token"
    text: str


class DetectedEvent(_Model):
    type: Literal["detected"] = "detected"
    # None: the text gave too little to tell.
    language: str | None


# Results of the text tasks


class DiffOp(_Model):
    op: Literal["equal", "insert", "delete"]
    text: str


class ProtectedChange(_Model):
    kind: str
    value: str
    change: Literal["removed_or_altered", "added"]


class GlossaryUse(_Model):
    term: str
    # What the output must hold: the glossary's translation, or the term itself for a
    # do-not-translate term.
    translation: str
    applied: bool
    kind: Literal["glossary", "do_not_translate"] = "glossary"


class Explanation(_Model):
    original: str
    correction: str
    explanation: str


class Change(_Model):
    before: str
    after: str
    reason: str


class Action(_Model):
    action: str
    owner: str
    due_date: str


class TranslationResult(_Model):
    type: Literal["result"] = "result"
    text: str
    glossary: list[GlossaryUse]


class CorrectionResult(_Model):
    type: Literal["result"] = "result"
    corrected_text: str
    explanations: list[Explanation]
    diff: list[DiffOp]
    protected_changes: list[ProtectedChange]


class ReformulationResult(_Model):
    type: Literal["result"] = "result"
    text: str
    changes: list[Change]
    diff: list[DiffOp]
    protected_changes: list[ProtectedChange]


class MinutesResult(_Model):
    type: Literal["result"] = "result"
    title: str
    summary: str
    decisions: list[str]
    actions: list[Action]
    markdown: str


# Document translation


class DocumentEntry(_Model):
    name: str
    segments: int
    # Why the file was refused before any translation; None when it will be translated.
    error: str | None


class DocumentsEvent(_Model):
    type: Literal["documents"] = "documents"
    total: int
    files: list[DocumentEntry]


class ProgressEvent(_Model):
    type: Literal["progress"] = "progress"
    file: str
    done: int
    total: int


class SegmentFailure(_Model):
    segment: int
    reason: str
    message: str
    excerpt: str


class TermMissing(_Model):
    """A required term (glossary translation, do-not-translate term) not found in a segment's
    translation."""

    segment: int
    term: str
    expected: str


class FileDoneEvent(_Model):
    type: Literal["file_done"] = "file_done"
    file: str
    output: str
    segments: int
    failed: list[SegmentFailure]
    # What the user must know about the result (a PDF comes back as .docx, its layout lost).
    note: str | None = Field(default=None, exclude_if=_absent_if_none)


class DownloadEvent(_Model):
    type: Literal["download"] = "download"
    filename: str
    media_type: str
    data_base64: str


# The end of every stream: exactly one of these two


class GenerationStats(_Model):
    prompt_tokens: int
    completion_tokens: int
    queue_wait_ms: int
    ttft_ms: int
    duration_ms: int
    tokens_per_s: float | None


class DoneEvent(_Model):
    type: Literal["done"] = "done"
    done_reason: str | None
    truncated: bool
    # A document batch is many generations: it has no stats of its own.
    stats: GenerationStats | None = Field(default=None, exclude_if=_absent_if_none)


class ErrorEvent(_Model):
    type: Literal["error"] = "error"
    error: ErrorKind
    message: str


GenerationProgress = QueuedEvent | StartedEvent | TokenEvent

# What each route streams, for its OpenAPI documentation.
TranslationEvent = Annotated[
    QueuedEvent
    | StartedEvent
    | TokenEvent
    | DetectedEvent
    | TranslationResult
    | DoneEvent
    | ErrorEvent,
    Field(discriminator="type"),
]
CorrectionEvent = Annotated[
    QueuedEvent | StartedEvent | TokenEvent | CorrectionResult | DoneEvent | ErrorEvent,
    Field(discriminator="type"),
]
ReformulationEvent = Annotated[
    QueuedEvent | StartedEvent | TokenEvent | ReformulationResult | DoneEvent | ErrorEvent,
    Field(discriminator="type"),
]
MinutesEvent = Annotated[
    QueuedEvent | StartedEvent | TokenEvent | MinutesResult | DoneEvent | ErrorEvent,
    Field(discriminator="type"),
]
DocumentEvent = Annotated[
    DocumentsEvent
    | QueuedEvent
    | ProgressEvent
    | FileDoneEvent
    | DownloadEvent
    | DoneEvent
    | ErrorEvent,
    Field(discriminator="type"),
]

# The field only that task's result has, checked in this order (translation has none of them).
_RESULT_TAGS = (
    ("corrected_text", "correction_result"),
    ("title", "minutes_result"),
    ("changes", "reformulation_result"),
)
_RESULT_CLASSES = {
    CorrectionResult: "correction_result",
    MinutesResult: "minutes_result",
    ReformulationResult: "reformulation_result",
    TranslationResult: "translation_result",
}


def _event_tag(value: Any) -> str | None:
    if isinstance(value, BaseModel):
        return _RESULT_CLASSES.get(type(value), getattr(value, "type", None))
    if not isinstance(value, dict):
        return None
    kind = value.get("type")
    if kind != "result":
        return kind if isinstance(kind, str) else None
    return next((tag for key, tag in _RESULT_TAGS if key in value), "translation_result")


# Any event of any stream.
StreamEvent = Annotated[
    Annotated[QueuedEvent, Tag("queued")]
    | Annotated[StartedEvent, Tag("started")]
    | Annotated[TokenEvent, Tag("token")]
    | Annotated[DetectedEvent, Tag("detected")]
    | Annotated[TranslationResult, Tag("translation_result")]
    | Annotated[CorrectionResult, Tag("correction_result")]
    | Annotated[ReformulationResult, Tag("reformulation_result")]
    | Annotated[MinutesResult, Tag("minutes_result")]
    | Annotated[DocumentsEvent, Tag("documents")]
    | Annotated[ProgressEvent, Tag("progress")]
    | Annotated[FileDoneEvent, Tag("file_done")]
    | Annotated[DownloadEvent, Tag("download")]
    | Annotated[DoneEvent, Tag("done")]
    | Annotated[ErrorEvent, Tag("error")],
    Discriminator(
        _event_tag,
        custom_error_type="unknown_event",
        custom_error_message="not a Tradia stream event (unknown or missing 'type')",
    ),
]

Event = (
    QueuedEvent
    | StartedEvent
    | TokenEvent
    | DetectedEvent
    | TranslationResult
    | CorrectionResult
    | ReformulationResult
    | MinutesResult
    | DocumentsEvent
    | ProgressEvent
    | FileDoneEvent
    | DownloadEvent
    | DoneEvent
    | ErrorEvent
)

"""Translates a batch of documents segment by segment, reporting progress as events.

Each segment takes its own turn in the generation queue, so a long document never blocks
interactive users. A segment whose generation fails or whose markup comes back damaged keeps
its original text and is listed in the file's report; an upstream failure that will not go away
(unreachable, refused key, missing model) ends the job with an error.

Each segment's outcome goes to `on_segment` as it is known (the job store's checkpoint), and the
segments already in `resume` are not sent again: a job stopped midway carries on where it was.
Each request carries the segment before it in the same file, with its translation, so terms and
pronouns stay consistent from one paragraph to the next.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import PurePath

from tradia.api.events import (
    DocumentEntry,
    DocumentsEvent,
    Event,
    FileDoneEvent,
    ProgressEvent,
    QueuedEvent,
    SegmentFailure,
    TermMissing,
)
from tradia.documents.formats import FORMATS, MEDIA_TYPES, open_document, output_suffix
from tradia.documents.model import (
    Document,
    DocumentRejected,
    KeepsForReview,
    Segment,
    TargetAware,
)
from tradia.documents.tagged_text import Part, TagMismatch, parse_model_output
from tradia.generation import LLMService
from tradia.glossary import Glossary, missing_terms
from tradia.jobs.store import Checkpoint
from tradia.tasks.formality import Formality
from tradia.tasks.translation import build_translation_request
from tradia.upstream.errors import ErrorKind, UpstreamError

# Failures that concern one segment; anything else ends the job.
_SEGMENT_FAILURES = {ErrorKind.GENERATION_FAILED, ErrorKind.LLM_TIMEOUT}
_MAX_CONSECUTIVE_FAILURES = 3
_EXCERPT = 80


@dataclass
class _File:
    name: str
    document: Document | None
    error: str | None = None
    failed: list[SegmentFailure] = field(default_factory=list)
    terms_missing: list[TermMissing] = field(default_factory=list)
    output: bytes | None = None


@dataclass(frozen=True)
class Package:
    """What the user downloads: one file in its format, or a ZIP."""

    filename: str
    media_type: str
    payload: bytes


def output_name(name: str, target: str) -> str:
    path = PurePath(PurePath(name).name)
    return f"{path.stem}.{target}{output_suffix(path.suffix)}"


def _note(name: str) -> str | None:
    entry = FORMATS.get(PurePath(name).suffix.lower())
    return entry.note if entry is not None else None


class _SegmentFailed(Exception):
    def __init__(self, reason: str, message: str, answer: str | None = None) -> None:
        self.reason = reason
        self.message = message
        self.answer = answer  # the model's text when only its markup was wrong
        super().__init__(reason)


@dataclass
class DocumentJob:
    llm: LLMService
    glossary: Glossary
    user: str
    model: str
    source: str | None
    target: str
    as_zip: bool
    # Longest paragraph sent to the model, as for an interactive text.
    max_chars: int
    # What one document may expand to (max_document_expanded_bytes): a PDF is bounded by it
    # while it is parsed.
    max_expanded: int
    formality: Formality = "default"
    files: list[_File] = field(default_factory=list)
    # Per file (by its place in `files`): the segments done before a restart.
    resume: dict[int, dict[int, Checkpoint]] = field(default_factory=dict)
    # Called with (file number, checkpoint) as each segment's outcome is known.
    on_segment: Callable[[int, Checkpoint], None] | None = None

    def add(self, name: str, data: bytes) -> None:
        try:
            document = open_document(name, data, self.max_expanded)
            if isinstance(document, TargetAware):
                document.set_target(self.target)
            for number, segment in enumerate(document.segments, start=1):
                if len(segment.text) > self.max_chars:
                    raise DocumentRejected(
                        f"paragraph {number} has {len(segment.text)} characters; the limit is"
                        f" {self.max_chars}: split it"
                    )
            self.files.append(_File(name, document))
        except DocumentRejected as exc:
            self.files.append(_File(name, None, error=str(exc)))

    def rejected(self, name: str, error: str) -> None:
        """A file refused before it was parsed (unreadable after a restart)."""
        self.files.append(_File(name, None, error=error))

    async def _translate(
        self,
        file: str,
        segment: Segment,
        context: tuple[str, str] | None,
        translated: list[str],
    ) -> AsyncIterator[QueuedEvent]:
        """Yields the segment's place in the queue, then appends the model's answer to
        `translated`."""
        entries = self.glossary.matching(segment.plain, self.source, self.target)
        request = build_translation_request(
            self.model,
            segment.text,
            self.source,
            self.target,
            entries,
            keep_tags=segment.tagged,
            context=context,
            keep=self.glossary.protected(segment.plain),
            formality=self.formality,
        )
        run = self.llm.generation("document", self.user, request, emit_tokens=False)
        async for event in run.progress():
            if isinstance(event, QueuedEvent):
                yield QueuedEvent(position=event.position, file=file)
        generation = run.result
        if generation.truncated:
            raise _SegmentFailed("truncated", "the translation was cut by the length limit")
        answer = generation.text.strip()
        if not answer:
            raise _SegmentFailed("empty", "the AI server returned nothing")
        translated.append(answer)

    @staticmethod
    def _parts(segment: Segment, answer: str) -> list[Part]:
        if not segment.tagged:
            return [answer]
        try:
            return parse_model_output(answer, segment.parts)
        except TagMismatch as exc:
            raise _SegmentFailed(
                "markup_lost", f"the inline markup was not kept ({exc})", answer
            ) from exc

    def _resumed(
        self, file: _File, index: int, segment: Segment, earlier: Checkpoint
    ) -> list[Part] | None:
        if earlier.failure is None and earlier.answer is not None:
            return self._parts(segment, earlier.answer)
        if earlier.failure is not None:
            file.failed.append(earlier.failure)
        if earlier.answer is not None and isinstance(file.document, KeepsForReview):
            file.document.keep_for_review(index, earlier.answer)
        return None

    def _check_terms(self, file: _File, index: int, segment: Segment, answer: str) -> None:
        entries = self.glossary.matching(segment.plain, self.source, self.target)
        keep = self.glossary.protected(segment.plain)
        file.terms_missing.extend(missing_terms(index + 1, entries, keep, answer))

    def _checkpoint(self, number: int, checkpoint: Checkpoint) -> None:
        if self.on_segment is not None:
            self.on_segment(number, checkpoint)

    async def run(self) -> AsyncIterator[Event]:
        total = sum(len(f.document.segments) for f in self.files if f.document)
        yield DocumentsEvent(
            total=total,
            files=[
                DocumentEntry(
                    name=f.name,
                    segments=len(f.document.segments) if f.document else 0,
                    error=f.error,
                )
                for f in self.files
            ],
        )
        done = 0
        consecutive_failures = 0
        for number, file in enumerate(self.files):
            if file.document is None:
                continue
            resumed = self.resume.get(number, {})
            translations: list[list[Part] | None] = []
            context: tuple[str, str] | None = None
            for index, segment in enumerate(file.document.segments):
                earlier = resumed.get(index)
                if earlier is not None:
                    # Done before a restart: its outcome as it was, nothing sent again.
                    translations.append(self._resumed(file, index, segment, earlier))
                    context = None
                    if earlier.failure is None and earlier.answer is not None:
                        context = (segment.text, earlier.answer)
                        self._check_terms(file, index, segment, earlier.answer)
                    done += 1
                    yield ProgressEvent(file=file.name, done=done, total=total)
                    continue
                translated: list[str] = []
                try:
                    async for event in self._translate(file.name, segment, context, translated):
                        yield event
                    answer = translated[0]
                    translations.append(self._parts(segment, answer))
                    consecutive_failures = 0
                    context = (segment.text, answer)
                    self._check_terms(file, index, segment, answer)
                    self._checkpoint(number, Checkpoint(index, answer))
                except (UpstreamError, _SegmentFailed) as exc:
                    if isinstance(exc, UpstreamError):
                        if exc.kind not in _SEGMENT_FAILURES:
                            raise
                        consecutive_failures += 1
                        if consecutive_failures >= _MAX_CONSECUTIVE_FAILURES:
                            raise
                        reason, message = exc.kind.value, exc.message
                    else:
                        reason, message = exc.reason, exc.message
                        if exc.answer is not None and isinstance(file.document, KeepsForReview):
                            file.document.keep_for_review(index, exc.answer)
                    failure = SegmentFailure(
                        segment=index + 1,
                        reason=reason,
                        message=message,
                        excerpt=segment.plain[:_EXCERPT],
                    )
                    file.failed.append(failure)
                    translations.append(None)
                    context = None
                    kept = exc.answer if isinstance(exc, _SegmentFailed) else None
                    self._checkpoint(number, Checkpoint(index, kept, failure))
                done += 1
                yield ProgressEvent(file=file.name, done=done, total=total)
            file.output = file.document.rebuild(translations)
            yield FileDoneEvent(
                file=file.name,
                output=output_name(file.name, self.target),
                segments=len(file.document.segments),
                failed=file.failed,
                note=_note(file.name),
            )

    def package(self) -> Package:
        """The download, once `run()` has ended."""
        finished = [f for f in self.files if f.output is not None]
        if not finished:
            raise UpstreamError(ErrorKind.GENERATION_FAILED, "No file could be translated.")
        if len(finished) == 1 and not self.as_zip:
            file = finished[0]
            name = output_name(file.name, self.target)
            media_type = MEDIA_TYPES[PurePath(name).suffix.lower()]
            payload = file.output or b""
        else:
            name = f"tradia-{self.target}.zip"
            media_type = "application/zip"
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                for file in finished:
                    archive.writestr(output_name(file.name, self.target), file.output or b"")
                report = self._report()
                if report:
                    archive.writestr("tradia-report.txt", report)
            payload = buffer.getvalue()
        return Package(filename=name, media_type=media_type, payload=payload)

    def _report(self) -> str:
        lines = []
        for file in self.files:
            if file.error:
                lines.append(f"{file.name}: not translated: {file.error}")
            elif note := _note(file.name):
                lines.append(f"{file.name}: {note}")
            for failure in file.failed:
                lines.append(
                    f"{file.name}: segment {failure.segment} kept in the original language"
                    f" ({failure.message}): {failure.excerpt}"
                )
        return "\n".join(lines) + ("\n" if lines else "")

"""What every document format hands to the translation job."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from tradia.documents.tagged_text import Part, render_for_model


class DocumentRejected(ValueError):
    """The file cannot be processed (malformed, unsafe, unsupported); the message says why."""


@dataclass
class Segment:
    """One piece of text to translate, possibly with numbered inline tags."""

    parts: list[Part]

    @property
    def text(self) -> str:
        return render_for_model(self.parts)

    @property
    def plain(self) -> str:
        return "".join(p for p in self.parts if isinstance(p, str))

    @property
    def tagged(self) -> bool:
        return any(not isinstance(p, str) for p in self.parts)


class Document(Protocol):
    segments: list[Segment]

    def rebuild(self, translations: list[list[Part] | None]) -> bytes:
        """The document with each segment replaced by its translation (None: keep original)."""
        ...


@runtime_checkable
class TargetAware(Protocol):
    """A format that records the target language in the file (html lang, XLIFF trgLang)."""

    def set_target(self, language: str) -> None: ...


@runtime_checkable
class KeepsForReview(Protocol):
    """A format that keeps an answer whose inline tags came back damaged, marked for a human
    to review (XLIFF: state="needs-review-translation"), instead of the original text."""

    def keep_for_review(self, index: int, answer: str) -> None: ...

"""The organisation's terminology: how a term must be translated, and what stays as written.

The deployment provides one file (TRADIA_GLOSSARY_FILE), in one of three forms:
  CSV          header `source,target,term,translation`, one glossary entry per line
  JSON list    `[{"source": "fr", "target": "en", "term": "...", "translation": "..."}, ...]`
  JSON object  `{"glossary": [<entries as above>], "do_not_translate": ["Tradia", "GPU"]}`
               (what the app_server role writes)
Only the entries whose term occurs in the text are sent with a request; after the generation
each required term is looked for in the output (`glossary_report`, `missing_terms`).

GlossaryFile reads the file again when it changes (new mtime, size or inode), so the role can
replace it without restarting the app: a request keeps the Glossary it started with, and a file
that becomes invalid leaves the previous glossary in place (with an error in the log).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import re
import time
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError, field_validator

from tradia.api.events import GlossaryUse, TermMissing
from tradia.core.config import LANGUAGE_NAMES

log = logging.getLogger("tradia.glossary")

_FIELDS = ("source", "target", "term", "translation")
# Re-read the file at most this often: one stat() per second whatever the traffic.
CHECK_SECONDS = 1.0
# A numbered inline tag of a document segment (<1>, </1>, <2/>): not part of any term.
_TAG = re.compile(r"</?\d+/?>")
# An inflected form: a word of the term followed by at most this many letters (plural -s, -es,
# German -e, -en, -n). Enough for the common cases without a morphology library.
_SUFFIX_LETTERS = 3

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class TerminologyError(ValueError):
    """The terminology file cannot be used; the message names the file and the entry."""


class GlossaryEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    source: Text
    target: Text
    term: Text
    translation: Text

    @field_validator("source", "target")
    @classmethod
    def _known_language(cls, code: str) -> str:
        if code not in LANGUAGE_NAMES:
            raise ValueError(
                f"unknown language {code!r}; known: {', '.join(sorted(LANGUAGE_NAMES))}"
            )
        return code

    def pattern(self) -> re.Pattern[str]:
        return re.compile(rf"(?<!\w){re.escape(self.term)}(?!\w)", re.IGNORECASE)


class TerminologyFile(BaseModel):
    """The JSON object form of the file."""

    model_config = ConfigDict(extra="forbid")

    glossary: list[GlossaryEntry] = []
    do_not_translate: list[Text] = []


def _rows(path: Path, text: str) -> tuple[list[Any], list[Any]]:
    """(glossary rows, do-not-translate terms) as the file holds them, not yet checked."""
    if path.suffix.lower() != ".json":
        reader = csv.DictReader(io.StringIO(text))
        missing = [f for f in _FIELDS if f not in (reader.fieldnames or [])]
        if missing:
            raise TerminologyError(
                f"glossary file {path}: the CSV header lacks {', '.join(missing)}"
                f" (expected {','.join(_FIELDS)})"
            )
        # Extra columns (a comment, an owner) are allowed: only the four fields are kept.
        return [{f: row.get(f) or "" for f in _FIELDS} for row in reader], []
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TerminologyError(f"glossary file {path}: not JSON ({exc})") from exc
    if isinstance(data, list):
        return data, []
    if not isinstance(data, dict):
        raise TerminologyError(
            f"glossary file {path}: expected a list of entries or an object with glossary and"
            " do_not_translate"
        )
    unknown = sorted(set(data) - {"glossary", "do_not_translate"})
    if unknown:
        raise TerminologyError(f"glossary file {path}: unknown keys {', '.join(unknown)}")
    glossary, keep = data.get("glossary", []), data.get("do_not_translate", [])
    if not isinstance(glossary, list) or not isinstance(keep, list):
        raise TerminologyError(f"glossary file {path}: glossary and do_not_translate must be lists")
    return glossary, keep


def _why(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'entry'}: {e['msg']}" for e in exc.errors()
    )


def parse_terminology(path: Path, text: str) -> TerminologyFile:
    rows, keep = _rows(path, text)
    entries: list[GlossaryEntry] = []
    seen: dict[tuple[str, str, str], int] = {}
    for number, row in enumerate(rows, start=1):
        term = row.get("term") if isinstance(row, dict) else None
        where = f"glossary file {path}: entry {number}" + (f" ({term!r})" if term else "")
        if not isinstance(row, dict):
            raise TerminologyError(f"{where}: expected an object with {', '.join(_FIELDS)}")
        try:
            entry = GlossaryEntry.model_validate(row)
        except ValidationError as exc:
            raise TerminologyError(f"{where}: {_why(exc)}") from exc
        key = (entry.source, entry.target, _normalise(entry.term))
        if key in seen:
            raise TerminologyError(
                f"{where}: the term is already entry {seen[key]} for {entry.source}->{entry.target}"
            )
        seen[key] = number
        entries.append(entry)
    try:
        return TerminologyFile(glossary=entries, do_not_translate=keep)
    except ValidationError as exc:
        raise TerminologyError(f"glossary file {path}: do_not_translate: {_why(exc)}") from exc


def _normalise(text: str, *, fold: bool = True) -> str:
    """NFC, no inline tags, one space for any run of white space; case-folded unless `fold` is
    false (a do-not-translate term must come back with its case)."""
    text = " ".join(unicodedata.normalize("NFC", _TAG.sub("", text)).split())
    return text.casefold() if fold else text


def _term_present(expected: str, output: str, *, exact: bool) -> bool:
    """Whether `expected` occurs in `output` as whole words; unless `exact`, in any case and
    with short endings added to its words (plural, declension)."""
    words = _normalise(expected, fold=not exact).split()
    if not words:
        return True
    ending = "" if exact else rf"\w{{0,{_SUFFIX_LETTERS}}}"
    pattern = r"\s".join(re.escape(word) + ending for word in words)
    return re.search(rf"(?<!\w){pattern}(?!\w)", _normalise(output, fold=not exact)) is not None


@dataclass(frozen=True)
class Glossary:
    entries: tuple[GlossaryEntry, ...] = ()
    # Product names, acronyms: kept exactly as written in any language.
    do_not_translate: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.entries)

    @classmethod
    def load(cls, path: Path | None) -> Glossary:
        if path is None:
            return cls()
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise TerminologyError(f"glossary file {path}: unreadable ({exc})") from exc
        parsed = parse_terminology(path, text)
        return cls(tuple(parsed.glossary), tuple(parsed.do_not_translate))

    def pairs(self) -> list[dict[str, object]]:
        counts: dict[tuple[str, str], int] = {}
        for e in self.entries:
            counts[(e.source, e.target)] = counts.get((e.source, e.target), 0) + 1
        return [{"source": s, "target": t, "terms": n} for (s, t), n in sorted(counts.items())]

    def matching(self, text: str, source: str | None, target: str) -> list[GlossaryEntry]:
        """Entries for this language pair whose term appears in `text` (longest terms first)."""
        found = [
            e
            for e in self.entries
            if e.target == target
            and (source is None or e.source == source)
            and e.pattern().search(text)
        ]
        return sorted(found, key=lambda e: -len(e.term))

    def protected(self, text: str) -> list[str]:
        """The do-not-translate terms that occur in `text`, as written (case counts: "GPU" is
        an acronym, "gpu" may be a word)."""
        return [t for t in self.do_not_translate if _term_present(t, text, exact=True)]


def glossary_report(
    entries: Sequence[GlossaryEntry], translation: str, keep: Iterable[str] = ()
) -> list[GlossaryUse]:
    """Which required terms made it into the output: each glossary translation, then each
    do-not-translate term of the source."""
    report = [
        GlossaryUse(
            term=e.term,
            translation=e.translation,
            applied=_term_present(e.translation, translation, exact=False),
        )
        for e in entries
    ]
    report.extend(
        GlossaryUse(
            term=term,
            translation=term,
            applied=_term_present(term, translation, exact=True),
            kind="do_not_translate",
        )
        for term in keep
    )
    return report


def missing_terms(
    segment: int, entries: Sequence[GlossaryEntry], keep: Iterable[str], translation: str
) -> list[TermMissing]:
    """A document segment's required terms absent from its translation (`segment`: its number
    in the file, from 1), for the file's `terms_missing`."""
    return [
        TermMissing(segment=segment, term=use.term, expected=use.translation)
        for use in glossary_report(entries, translation, keep)
        if not use.applied
    ]


def _signature(path: Path) -> tuple[int, int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size, stat.st_ino)


class GlossaryFile:
    """The current Glossary of a file that may be replaced while the app runs.

    The role mounts the file's directory (a bind mount of the file itself would keep showing
    the old inode after an atomic replace). A bad first file stops the start (TerminologyError);
    a bad later one is logged and the glossary in use stays.
    """

    def __init__(
        self,
        path: Path | None,
        *,
        check_seconds: float = CHECK_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = path
        self._check_seconds = check_seconds
        self._clock = clock
        self._signature = None if path is None else _signature(path)
        self._current = Glossary.load(path)
        self._checked = clock()

    @property
    def current(self) -> Glossary:
        """The glossary to use for one request: take it once and keep it for that request."""
        now = self._clock()
        if self.path is not None and now - self._checked >= self._check_seconds:
            self._checked = now
            self._reload_if_changed(self.path)
        return self._current

    def _reload_if_changed(self, path: Path) -> None:
        signature = _signature(path)
        if signature is None or signature == self._signature:
            # Gone for a moment (a replace in progress) or unchanged: keep what we have.
            return
        try:
            glossary = Glossary.load(path)
        except TerminologyError as exc:
            log.error("glossary_reload_failed", extra={"error": str(exc)})
        else:
            self._current = glossary
            log.info(
                "glossary_reloaded",
                extra={"terms": len(glossary), "do_not_translate": len(glossary.do_not_translate)},
            )
        # Also after a failure: the same bad file is not read (and logged) again every second.
        # A write still in progress changes the signature again once it ends.
        self._signature = signature

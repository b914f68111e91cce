"""The organisation's glossary: a term in one language must be translated a given way.

The deployment provides the file (TRADIA_GLOSSARY_FILE), CSV or JSON:
  CSV  header `source,target,term,translation`, one entry per line
  JSON `[{"source": "fr", "target": "en", "term": "...", "translation": "..."}, ...]`
Only the entries whose term occurs in the text are sent with a request.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

from tradia.api.events import GlossaryUse

_FIELDS = ("source", "target", "term", "translation")


@dataclass(frozen=True)
class GlossaryEntry:
    source: str
    target: str
    term: str
    translation: str

    def pattern(self) -> re.Pattern[str]:
        return re.compile(rf"(?<!\w){re.escape(self.term)}(?!\w)", re.IGNORECASE)


class Glossary:
    def __init__(self, entries: list[GlossaryEntry]) -> None:
        self.entries = entries

    def __len__(self) -> int:
        return len(self.entries)

    @classmethod
    def load(cls, path: Path | None) -> Glossary:
        if path is None:
            return cls([])
        text = path.read_text(encoding="utf-8-sig")
        rows: list[dict[str, str]]
        if path.suffix.lower() == ".json":
            data = json.loads(text)
            if not isinstance(data, list):
                raise ValueError("glossary JSON must be a list of entries")
            rows = data
        else:
            rows = list(csv.DictReader(io.StringIO(text)))
        entries = []
        for number, row in enumerate(rows, start=1):
            values = {f: str(row.get(f) or "").strip() for f in _FIELDS}
            if not all(values.values()):
                raise ValueError(f"glossary entry {number}: needs {', '.join(_FIELDS)}")
            entries.append(GlossaryEntry(**values))
        return cls(entries)

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


def glossary_report(entries: list[GlossaryEntry], translation: str) -> list[GlossaryUse]:
    """Which required translations made it into the output."""
    lowered = translation.lower()
    return [
        GlossaryUse(
            term=e.term, translation=e.translation, applied=e.translation.lower() in lowered
        )
        for e in entries
    ]

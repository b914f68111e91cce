"""Word (.docx): each paragraph translated in place, formatting runs kept as inline tags.

Adjacent runs with the same formatting are merged first, so a paragraph in one style is sent
without tags; the numbered tags then stand for the differently formatted stretches.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import docx
from docx.oxml.ns import qn
from lxml import etree

from tradia.documents.model import DocumentRejected, Segment
from tradia.documents.package import check_package
from tradia.documents.tagged_text import Close, Open, Part


@dataclass
class _Group:
    texts: list[etree._Element]  # the w:t elements of runs sharing one format


def _format_key(run: etree._Element) -> bytes:
    rpr = run.find(qn("w:rPr"))
    parent = run.getparent()
    return (etree.tostring(rpr) if rpr is not None else b"") + (
        parent.tag.encode() if parent is not None else b""
    )


class WordDocument:
    def __init__(self, data: bytes) -> None:
        check_package(data, ".docx")
        try:
            self._doc = docx.Document(io.BytesIO(data))
        except Exception as exc:
            # python-docx fails in many ways on a malformed package (KeyError, lxml syntax
            # errors, AttributeError on a wrong root...): each one means "not a Word file".
            raise DocumentRejected("not a valid .docx file (not a Word document)") from exc
        self._paragraphs: list[list[_Group]] = []
        self.segments: list[Segment] = []
        body = self._doc.element.body
        for paragraph in body.iter(qn("w:p")):
            groups = self._groups(paragraph)
            texts = ["".join(t.text or "" for t in g.texts) for g in groups]
            if not any(any(c.isalpha() for c in text) for text in texts):
                continue
            self._paragraphs.append(groups)
            if len(groups) == 1:
                self.segments.append(Segment([texts[0]]))
            else:
                parts: list[Part] = []
                for number, text in enumerate(texts, start=1):
                    parts += [Open(number), text, Close(number)]
                self.segments.append(Segment(parts))

    @staticmethod
    def _groups(paragraph: etree._Element) -> list[_Group]:
        groups: list[_Group] = []
        last_key: bytes | None = None
        for run in paragraph.iter(qn("w:r")):
            texts = run.findall(qn("w:t"))
            if not texts:
                continue
            key = _format_key(run)
            if groups and key == last_key:
                groups[-1].texts.extend(texts)
            else:
                groups.append(_Group(list(texts)))
            last_key = key
        return groups

    @staticmethod
    def _set(group: _Group, text: str) -> None:
        first, *rest = group.texts
        first.text = text
        first.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        for element in rest:
            element.text = ""

    def rebuild(self, translations: list[list[Part] | None]) -> bytes:
        for groups, translated in zip(self._paragraphs, translations, strict=True):
            if translated is None:
                continue
            if len(groups) == 1:
                self._set(groups[0], "".join(p for p in translated if isinstance(p, str)))
                continue
            # Text between tags joins the stretch before it (or the first one).
            collected: dict[int, list[str]] = {n: [] for n in range(1, len(groups) + 1)}
            current = 1
            for part in translated:
                if isinstance(part, Open):
                    current = part.n
                elif isinstance(part, str):
                    collected[current].append(part)
            for number, group in enumerate(groups, start=1):
                self._set(group, "".join(collected[number]))
        out = io.BytesIO()
        self._doc.save(out)
        return out.getvalue()

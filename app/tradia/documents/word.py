"""Word (.docx): each paragraph translated in place, formatting runs kept as inline tags.

Adjacent runs with the same formatting are merged first, so a paragraph in one style is sent
without tags; the numbered tags then stand for the differently formatted stretches.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

import docx
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser, ParseError
from docx.oxml.ns import qn
from lxml import etree

from tradia.documents.model import DocumentRejected, Segment
from tradia.documents.tagged_text import Close, Open, Part

# A .docx is a ZIP: refuse archives that inflate far beyond their size (zip bombs) or hold more
# parts than any Word document (a real one has a few dozen).
_MAX_UNCOMPRESSED = 100 * 1024 * 1024
_MAX_PARTS = 1000
_XML_PARTS = (".xml", ".rels")


class _Discard:
    """A parser target with no callbacks: the part is checked, no tree is built."""


def _check_package(data: bytes) -> None:
    """Refuse what python-docx would otherwise open: bombs, and XML parts with a DTD (Office
    never writes one; entities could expand or fetch files). Nested archives are never opened."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        parts = archive.infolist()
        if len(parts) > _MAX_PARTS:
            raise DocumentRejected(f"the .docx holds {len(parts)} parts; at most {_MAX_PARTS}")
        if sum(i.file_size for i in parts) > _MAX_UNCOMPRESSED:
            raise DocumentRejected("the .docx expands to more than 100 MB")
        for info in parts:
            if not info.filename.lower().endswith(_XML_PARTS):
                continue
            parser = DefusedXMLParser(target=_Discard(), forbid_dtd=True)
            try:
                with archive.open(info) as part:
                    while chunk := part.read(1 << 16):
                        parser.feed(chunk)
                parser.close()
            except DefusedXmlException as exc:
                raise DocumentRejected(
                    f"the .docx part {info.filename} declares a DTD or entities, which is refused"
                ) from exc
            except ParseError as exc:
                raise DocumentRejected(
                    f"the .docx part {info.filename} is not well-formed XML"
                ) from exc


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
        try:
            _check_package(data)
        except (zipfile.BadZipFile, EOFError, RuntimeError, NotImplementedError) as exc:
            # RuntimeError: encrypted; NotImplementedError: an unknown compression method.
            raise DocumentRejected("not a valid .docx file") from exc
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

"""Word (.docx): each paragraph translated in place, formatting runs kept as inline tags.

Every part that holds text a reader sees is translated: the body (with its tables and text
boxes), each section's headers and footers (first-page and even-page ones included), footnotes,
endnotes and comments. Adjacent runs with the same formatting are merged first, so a paragraph
in one style is sent without tags; the numbered tags then stand for the differently formatted
stretches (bold, italic, each hyperlink). A paragraph without letters (a number, a date, a
formula's digits) is never sent to the model.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import docx
from docx.opc.constants import CONTENT_TYPE as CT
from docx.opc.part import Part as DocxPart
from docx.opc.part import XmlPart
from docx.oxml.ns import qn
from lxml import etree

from tradia.documents.model import DocumentRejected, Segment
from tradia.documents.package import check_package
from tradia.documents.stretches import Pieces, from_parts, to_parts
from tradia.documents.tagged_text import Part

# Parts besides the body whose paragraphs are shown to a reader. python-docx loads headers,
# footers and comments as XML parts; footnotes and endnotes stay generic parts (bytes only).
_TEXT_PARTS = (CT.WML_HEADER, CT.WML_FOOTER, CT.WML_FOOTNOTES, CT.WML_ENDNOTES, CT.WML_COMMENTS)
_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
_P = qn("w:p")
# The package passed check_package (no DTD, well-formed): this parser never resolves anything.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


@dataclass
class _Group:
    texts: list[etree._Element]  # the w:t elements of runs sharing one format


@dataclass
class _Paragraph:
    texts: list[str]
    # The paragraph's groups, then those of copies that must read the same: the legacy
    # (mc:Fallback) version of a text box repeats its modern version's paragraphs.
    targets: list[list[_Group]] = field(default_factory=list)


def _format_key(run: etree._Element) -> bytes:
    rpr = run.find(qn("w:rPr"))
    parent = run.getparent()
    return (etree.tostring(rpr) if rpr is not None else b"") + (
        parent.tag.encode() if parent is not None else b""
    )


def _owner(run: etree._Element) -> etree._Element | None:
    """The paragraph a run belongs to: the nearest one (a text box's paragraphs sit inside a
    run of the paragraph that anchors it)."""
    return next(run.iterancestors(_P), None)


class WordDocument:
    def __init__(self, data: bytes) -> None:
        check_package(data, ".docx")
        try:
            self._doc = docx.Document(io.BytesIO(data))
            # Body first, then the other parts in the package's order.
            roots: list[etree._Element] = [self._doc.element]
            self._generic: list[tuple[DocxPart, etree._Element]] = []
            for part in self._doc.part.package.iter_parts():
                if part.content_type not in _TEXT_PARTS:
                    continue
                if isinstance(part, XmlPart):
                    roots.append(part.element)
                else:
                    root = etree.fromstring(part.blob, _PARSER)
                    self._generic.append((part, root))
                    roots.append(root)
        except Exception as exc:
            # python-docx fails in many ways on a malformed package (KeyError, lxml syntax
            # errors, AttributeError on a wrong root...): each one means "not a Word file".
            raise DocumentRejected("not a valid .docx file (not a Word document)") from exc
        self._paragraphs: list[_Paragraph] = []
        self.segments: list[Segment] = []
        for root in roots:
            self._read(root)

    def _read(self, root: etree._Element) -> None:
        found: dict[etree._Element, _Paragraph] = {}
        fallbacks: list[etree._Element] = []
        for paragraph in root.iter(_P):
            if any(a.tag == f"{_MC}Fallback" for a in paragraph.iterancestors()):
                fallbacks.append(paragraph)
                continue
            entry = self._add(paragraph)
            if entry is not None:
                found[paragraph] = entry
        for paragraph in fallbacks:
            twin = self._twin(paragraph)
            groups = self._groups(paragraph)
            entry = found.get(twin) if twin is not None else None
            if entry is not None and self._texts(groups) == entry.texts:
                entry.targets.append(groups)
            else:
                self._add(paragraph)

    @staticmethod
    def _twin(paragraph: etree._Element) -> etree._Element | None:
        """The paragraph at the same place in the modern (mc:Choice) version of the shape."""
        fallback = next(a for a in paragraph.iterancestors() if a.tag == f"{_MC}Fallback")
        alternate = fallback.getparent()
        choice = alternate.find(f"{_MC}Choice") if alternate is not None else None
        if choice is None:
            return None
        index = list(fallback.iter(_P)).index(paragraph)
        modern = list(choice.iter(_P))
        return modern[index] if index < len(modern) else None

    @staticmethod
    def _texts(groups: list[_Group]) -> list[str]:
        return ["".join(t.text or "" for t in g.texts) for g in groups]

    def _add(self, paragraph: etree._Element) -> _Paragraph | None:
        groups = self._groups(paragraph)
        texts = self._texts(groups)
        if not any(any(c.isalpha() for c in text) for text in texts):
            return None
        entry = _Paragraph(texts, [groups])
        self._paragraphs.append(entry)
        self.segments.append(Segment(to_parts(list(texts))))
        return entry

    @staticmethod
    def _groups(paragraph: etree._Element) -> list[_Group]:
        groups: list[_Group] = []
        last_key: bytes | None = None
        last_parent: etree._Element | None = None
        for run in paragraph.iter(qn("w:r")):
            texts = run.findall(qn("w:t"))
            if not texts or _owner(run) is not paragraph:
                continue
            key = _format_key(run)
            parent = run.getparent()
            # Two hyperlinks side by side share a format but not a target: kept apart.
            if groups and key == last_key and (parent is last_parent or parent is paragraph):
                groups[-1].texts.extend(texts)
            else:
                groups.append(_Group(list(texts)))
            last_key, last_parent = key, parent
        return groups

    @staticmethod
    def _set(group: _Group, text: str) -> None:
        first, *rest = group.texts
        first.text = text
        first.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        for element in rest:
            element.text = ""

    def rebuild(self, translations: list[list[Part] | None]) -> bytes:
        for paragraph, translated in zip(self._paragraphs, translations, strict=True):
            if translated is None:
                continue
            for groups in paragraph.targets:
                self._fill(groups, translated)
        for part, root in self._generic:
            # python-docx writes a generic part's bytes as loaded: hand it the edited tree.
            part._blob = etree.tostring(
                root, xml_declaration=True, encoding="UTF-8", standalone=True
            )
        out = io.BytesIO()
        self._doc.save(out)
        return out.getvalue()

    def _fill(self, groups: list[_Group], translated: list[Part]) -> None:
        # Text between tags joins the stretch before it (or the first one).
        pieces: Pieces = list(self._texts(groups))
        for group, text in zip(groups, from_parts(pieces, translated), strict=True):
            self._set(group, text)

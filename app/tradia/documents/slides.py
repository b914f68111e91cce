"""PowerPoint (.pptx): every paragraph of every slide and of its notes, translated in place.

The slide's XML is walked rather than python-pptx's shape tree, so titles, bodies, tables and
shapes inside groups are all covered by one rule. Runs with the same formatting are merged; the
stretches that differ (bold, italic, a hyperlink) become numbered tags, and line breaks and
fields (slide numbers, dates) are fixed pieces `<n/>` kept where they are. python-pptx keeps
every part it does not read (media, charts, layouts) as it was.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import pptx
from lxml import etree
from pptx.oxml.ns import qn

from tradia.documents.model import DocumentRejected, Segment
from tradia.documents.package import check_package
from tradia.documents.stretches import Pieces, from_parts, to_parts
from tradia.documents.tagged_text import Part

_RUN, _BREAK, _FIELD = qn("a:r"), qn("a:br"), qn("a:fld")
# Run properties that do not change how the text looks: runs differing only by them merge.
_NOT_FORMATTING = ("lang", "altLang", "dirty", "err", "noProof", "smtClean")


def _format_key(run: etree._Element) -> bytes:
    rpr = run.find(qn("a:rPr"))
    if rpr is None:
        return b""
    rpr = etree.fromstring(etree.tostring(rpr))
    for name in _NOT_FORMATTING:
        rpr.attrib.pop(name, None)
    return etree.tostring(rpr)


@dataclass
class Paragraph:
    # Per piece: the a:t elements of a stretch, or an empty list for a fixed piece.
    texts: list[list[etree._Element]]
    pieces: Pieces


def read_paragraph(p: etree._Element) -> Paragraph:
    """A DrawingML paragraph (a:p) as pieces: also the text boxes of .xlsx drawings."""
    texts: list[list[etree._Element]] = []
    pieces: Pieces = []
    last_key: bytes | None = None
    for child in p:
        if child.tag in (_BREAK, _FIELD):
            texts.append([])
            pieces.append(None)
            last_key = None
        elif child.tag == _RUN:
            t = child.find(qn("a:t"))
            if t is None:
                continue
            key = _format_key(child)
            if last_key == key:
                texts[-1].append(t)
                pieces[-1] = (pieces[-1] or "") + (t.text or "")
            else:
                texts.append([t])
                pieces.append(t.text or "")
            last_key = key
    return Paragraph(texts, pieces)


def fill_paragraph(paragraph: Paragraph, translated: list[Part]) -> None:
    new = from_parts(paragraph.pieces, translated)
    for elements, text in zip(paragraph.texts, new, strict=True):
        if elements:
            first, *rest = elements
            first.text = text
            for element in rest:
                element.text = ""


class SlidesDocument:
    def __init__(self, data: bytes) -> None:
        check_package(data, ".pptx")
        try:
            presentation = pptx.Presentation(io.BytesIO(data))
            roots = []
            for slide in presentation.slides:
                roots.append(slide.element)
                if slide.has_notes_slide:
                    roots.append(slide.notes_slide.element)
        except Exception as exc:
            # python-pptx fails in many ways on a malformed package (KeyError for a missing
            # part, lxml errors, a wrong content type...): each means "not a presentation".
            raise DocumentRejected("not a valid .pptx file (not a PowerPoint file)") from exc
        self._presentation = presentation
        self._paragraphs: list[Paragraph] = []
        self.segments: list[Segment] = []
        for root in roots:
            for p in root.iter(qn("a:p")):
                paragraph = read_paragraph(p)
                if not any(any(c.isalpha() for c in piece or "") for piece in paragraph.pieces):
                    continue
                self._paragraphs.append(paragraph)
                self.segments.append(Segment(to_parts(paragraph.pieces)))

    def rebuild(self, translations: list[list[Part] | None]) -> bytes:
        for paragraph, translated in zip(self._paragraphs, translations, strict=True):
            if translated is None:
                continue
            fill_paragraph(paragraph, translated)
        out = io.BytesIO()
        self._presentation.save(out)
        return out.getvalue()

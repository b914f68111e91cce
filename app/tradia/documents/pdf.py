"""PDF: the text is extracted page by page, its paragraphs rebuilt, and it comes back as a Word
document (.docx) with one paragraph per paragraph. The layout (columns, fonts, images, page
geometry) is not kept: a PDF holds positioned glyphs, not editable text, and writing translated
text back into those positions would overflow or clip it.

Bounds before and during extraction, on top of pypdf's own (every decoded stream, page tree,
array and dictionary is capped by its Configuration, no stream past the document's limit): at
most MAX_PAGES pages, and at most the app's per-document limit (max_document_expanded_bytes, as
for a package's unpacked size) of page content once decoded, counted before each page's text is
read, so a small file of highly compressed streams (a PDF bomb) is refused before any page is
parsed.
"""

from __future__ import annotations

import io
import re
from typing import Any

import docx
import pypdf
from pypdf.errors import LimitReachedError, PyPdfError

from tradia.documents.model import DocumentRejected, Segment
from tradia.documents.tagged_text import Part
from tradia.documents.word import WordDocument

MAX_PAGES = 1000
# Decoded page content when the caller gives no limit: the app's default per-document limit.
MAX_CONTENT = 32 * 1024 * 1024
# Per stream: far below pypdf's 75 MB defaults (a page's text never needs that much).
_STREAM_LIMIT = 16 * 1024 * 1024
_LIMIT_NAMES = (
    "maximum_declared_stream_length",
    "array_based_stream_maximum_output_length",
    "lzw_maximum_output_length",
    "run_length_maximum_output_length",
    "zlib_maximum_output_length",
    "brotli_maximum_output_length",
    "stream_decoding_work_maximum_length",
)
# The header may follow up to 1024 bytes of junk (PDF 1.7, annex H); nothing else is a PDF.
# `/Name Do` draws an XObject; a form's content is parsed again at each draw.
_DRAW = re.compile(rb"/([^\s/\[\]()<>{}%]+)\s*Do\b")
_CALL_COST = 64
_MAX_FORM_DEPTH = 10
_HEADER = re.compile(rb"%PDF-\d\.\d")
_BULLET = re.compile(r"^([•\uf0b7\uf0a7▪◦●■□]|[-*\u2013](?=\s))\s*")
_LIST_NUMBER = re.compile(r"^\(?\d{1,3}[.)]\s")
_END = (".", "!", "?", ":", "…", "»", '"', "”", ";")


class PdfDocument:
    """Segments and rebuild come from the .docx written from the PDF's paragraphs."""

    def __init__(self, data: bytes, max_content: int = MAX_CONTENT) -> None:
        if not _HEADER.search(data[: 1024 + 16]):
            raise DocumentRejected("not a valid .pdf file (it does not start with %PDF-)")
        # No single stream may be decoded past the document's limit either.
        limits = dict.fromkeys(_LIMIT_NAMES, min(_STREAM_LIMIT, max_content))
        with pypdf.apply_configuration(**limits):
            paragraphs = _paragraphs(_pages(data, max_content))
        if not any(any(c.isalpha() for c in text) for text, _ in paragraphs):
            raise DocumentRejected(
                "the .pdf has no extractable text (scanned pages or images only?):"
                " run it through text recognition (OCR) first"
            )
        document = docx.Document()
        for text, bulleted in paragraphs:
            document.add_paragraph(text, style="List Bullet" if bulleted else None)
        buffer = io.BytesIO()
        document.save(buffer)
        self._word = WordDocument(buffer.getvalue())
        self.segments: list[Segment] = self._word.segments

    def rebuild(self, translations: list[list[Part] | None]) -> bytes:
        return self._word.rebuild(translations)


def _pages(data: bytes, max_content: int) -> list[str]:
    """Each page's text (pypdf's plain mode: the content's reading order, columns one after
    the other), within the bounds above."""
    try:
        # Closed on the way out: pypdf's objects hold one another in cycles, so the decoded
        # streams it caches would otherwise wait for the cycle collector, which may not run
        # for a long while (large bytes do not count towards its thresholds).
        with pypdf.PdfReader(io.BytesIO(data), strict=False) as reader:
            if reader.is_encrypted:
                raise DocumentRejected(
                    "the .pdf is encrypted (password-protected): remove the protection and send it"
                    " again"
                )
            count = len(reader.pages)
            if count > MAX_PAGES:
                raise DocumentRejected(f"the .pdf has {count} pages; at most {MAX_PAGES}")
            # Every page's content is measured before any is parsed (parsing is the slow part).
            content = 0
            for page in reader.pages:
                content += _content_size(page, max_content - content)
                if content > max_content:
                    raise DocumentRejected(
                        f"the .pdf's page content expands to more than {max_content // 2**20} MiB"
                    )
            return [page.extract_text() for page in reader.pages]
    except DocumentRejected:
        raise
    except LimitReachedError as exc:
        raise DocumentRejected(f"the .pdf goes past a safety limit ({exc})") from exc
    except PyPdfError as exc:
        # pypdf's limits (LimitReachedError) and damage (PdfReadError) alike.
        raise DocumentRejected(f"not a valid .pdf file ({exc})") from exc
    except Exception as exc:
        # A damaged file fails deep in pypdf in many ways (KeyError, ValueError, TypeError...).
        raise DocumentRejected("not a valid .pdf file (damaged or not a PDF)") from exc


def _content_size(page: pypdf.PageObject, budget: int) -> int:
    """The bytes the text extraction will parse for this page: its content streams once decoded
    (each one capped by _STREAM_LIMIT; pypdf keeps the decoded bytes for the extraction), plus
    each form XObject as many times as it is drawn. Stops counting past `budget`."""
    contents = page.get("/Contents")
    if contents is None:
        return 0
    contents = contents.get_object()
    streams = contents if isinstance(contents, list) else [contents]
    data = b"".join(s.get_object().get_data() for s in streams)
    return _work(data, page.get("/Resources"), 0, budget)


def _work(data: bytes, resources: Any, depth: int, budget: int) -> int:
    total = len(data)
    forms = _forms(resources)
    if not forms:
        return total
    for match in _DRAW.finditer(data):
        form = forms.get(_name(match.group(1)))
        if total > budget:
            break
        total += _CALL_COST
        if form is None:
            continue
        if depth >= _MAX_FORM_DEPTH:
            raise DocumentRejected("the .pdf nests its drawings too deeply")
        resources_of_form = form.get("/Resources") or resources
        total += _work(form.get_data(), resources_of_form, depth + 1, budget - total)
    return total


def _forms(resources: Any) -> dict[str, Any]:
    resources = resources.get_object() if resources is not None else None
    xobjects = resources.get("/XObject") if isinstance(resources, dict) else None
    xobjects = xobjects.get_object() if xobjects is not None else None
    if not isinstance(xobjects, dict):
        return {}
    forms = {}
    for name, reference in xobjects.items():
        stream = reference.get_object()
        if isinstance(stream, dict) and stream.get("/Subtype") == "/Form":
            forms[str(name)] = stream
    return forms


def _name(raw: bytes) -> str:
    """A name as written in a content stream (/Fm#31) as pypdf keys it (/Fm1)."""
    decoded = re.sub(rb"#([0-9a-fA-F]{2})", lambda m: bytes([int(m.group(1), 16)]), raw)
    return "/" + decoded.decode("latin-1")


def _paragraphs(pages: list[str]) -> list[tuple[str, bool]]:
    """Lines joined into paragraphs: (text, is a bulleted item). A paragraph ends at a blank
    line, before a bullet or a numbered item, after a short line (a title, a paragraph's last
    line) unless the next one goes on in lower case, and after a sentence's end unless the
    next line goes on in lower case. A paragraph cut by a page break is joined again."""
    paragraphs: list[tuple[str, bool]] = []
    for page in pages:
        lines = [line.strip() for line in page.splitlines()]
        width = max((len(line) for line in lines), default=0)
        current: list[str] = []
        bulleted = False
        first = True
        for line in lines:
            if not line:
                if current:
                    paragraphs.append((_join(current), bulleted))
                    current, bulleted = [], False
                continue
            bullet = _BULLET.match(line)
            goes_on = line[0].islower()
            if first and goes_on and paragraphs and not paragraphs[-1][0].endswith(_END):
                current, bulleted = [paragraphs[-1][0]], paragraphs[-1][1]
                paragraphs.pop()
            elif current and (
                bullet
                or _LIST_NUMBER.match(line)
                or (not goes_on and current[-1].endswith(_END))
                or (not goes_on and len(current[-1]) < 0.6 * width)
            ):
                paragraphs.append((_join(current), bulleted))
                current, bulleted = [], False
            first = False
            if bullet:
                line, bulleted = line[bullet.end() :], True
            current.append(line)
        if current:
            paragraphs.append((_join(current), bulleted))
    return [(text, bulleted) for text, bulleted in paragraphs if text]


def _join(lines: list[str]) -> str:
    """Lines of one paragraph as one text: a word cut by a hyphen at a line's end is mended
    (the usual typesetting; a compound cut at its own hyphen loses it, a rare case)."""
    text = lines[0]
    for line in lines[1:]:
        if len(text) > 1 and text.endswith("-") and text[-2].isalpha() and line[:1].islower():
            text = text[:-1] + line
        else:
            text = f"{text} {line}"
    return text

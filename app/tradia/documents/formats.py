"""Which document formats Tradia translates: one entry per extension, with its media type, the
class that opens it, and whether it is a ZIP package (checked for its unpacked size first)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath

from tradia.documents import package
from tradia.documents.html_document import HtmlDocument
from tradia.documents.model import Document, DocumentRejected
from tradia.documents.opendocument import OpenDocument
from tradia.documents.pdf import MAX_CONTENT, PdfDocument
from tradia.documents.plain_text import TextDocument
from tradia.documents.slides import SlidesDocument
from tradia.documents.spreadsheet import SpreadsheetDocument
from tradia.documents.subtitles import SubtitleDocument
from tradia.documents.word import WordDocument
from tradia.documents.xliff import XliffDocument
from tradia.documents.xml_document import XmlDocument


@dataclass(frozen=True)
class Format:
    media_type: str
    open: Callable[[bytes], Document]
    packaged: bool = False
    # The extension of the translated file when it is not the original's (PDF: .docx).
    output: str | None = None
    # What the user must know about the result (in the file_done event).
    note: str | None = None
    # Used instead of `open` for a format whose expansion is only known while it is parsed (a
    # PDF's compressed streams): it enforces the per-document limit as it decodes.
    open_within: Callable[[bytes, int], Document] | None = None


FORMATS: dict[str, Format] = {
    ".xml": Format("application/xml", XmlDocument),
    ".txt": Format("text/plain; charset=utf-8", lambda data: TextDocument(data, markdown=False)),
    ".md": Format("text/markdown; charset=utf-8", lambda data: TextDocument(data, markdown=True)),
    ".html": Format("text/html", HtmlDocument),
    ".htm": Format("text/html", HtmlDocument),
    ".srt": Format("application/x-subrip", lambda data: SubtitleDocument(data, vtt=False)),
    ".vtt": Format("text/vtt; charset=utf-8", lambda data: SubtitleDocument(data, vtt=True)),
    ".xlf": Format("application/xliff+xml", XliffDocument),
    ".xliff": Format("application/xliff+xml", XliffDocument),
    ".docx": Format(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        WordDocument,
        packaged=True,
    ),
    ".pdf": Format(
        "application/pdf",
        PdfDocument,
        open_within=PdfDocument,
        output=".docx",
        note="The PDF's layout is not kept: its text comes back as a Word document (.docx).",
    ),
    ".xlsx": Format(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        SpreadsheetDocument,
        packaged=True,
    ),
    ".pptx": Format(
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        SlidesDocument,
        packaged=True,
    ),
    ".odt": Format(
        "application/vnd.oasis.opendocument.text",
        lambda data: OpenDocument(data, ".odt"),
        packaged=True,
    ),
    ".odp": Format(
        "application/vnd.oasis.opendocument.presentation",
        lambda data: OpenDocument(data, ".odp"),
        packaged=True,
    ),
}
MEDIA_TYPES = {extension: entry.media_type for extension, entry in FORMATS.items()}
SUPPORTED_EXTENSIONS = tuple(FORMATS)


def output_suffix(extension: str) -> str:
    entry = FORMATS.get(extension.lower())
    return entry.output if entry is not None and entry.output else extension


def open_document(filename: str, data: bytes, max_expanded: int = MAX_CONTENT) -> Document:
    """The document, which may expand to `max_expanded` bytes (the app's
    max_document_expanded_bytes, whose default is the default here): a package is checked
    before (expanded_size), a PDF while it is parsed."""
    extension = PurePath(filename).suffix.lower()
    entry = FORMATS.get(extension)
    if entry is None:
        raise DocumentRejected(
            f"unsupported file type '{extension or filename}'; supported: "
            + ", ".join(SUPPORTED_EXTENSIONS)
        )
    if entry.open_within is not None:
        return entry.open_within(data, max_expanded)
    return entry.open(data)


def expanded_size(filename: str, data: bytes) -> int:
    """Bytes the document takes once unpacked, known before anything is inflated or parsed: a
    package counts its members' sizes (package.expanded_size); other formats are parsed as sent."""
    entry = FORMATS.get(PurePath(filename).suffix.lower())
    return package.expanded_size(data) if entry is not None and entry.packaged else len(data)

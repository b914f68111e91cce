"""Which document formats Tradia translates, and how each is opened."""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePath

from tradia.documents.model import Document, DocumentRejected
from tradia.documents.plain_text import TextDocument
from tradia.documents.word import WordDocument
from tradia.documents.xml_document import XmlDocument

MEDIA_TYPES = {
    ".xml": "application/xml",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
SUPPORTED_EXTENSIONS = tuple(MEDIA_TYPES)


def open_document(filename: str, data: bytes) -> Document:
    extension = PurePath(filename).suffix.lower()
    if extension == ".xml":
        return XmlDocument(data)
    if extension in (".txt", ".md"):
        return TextDocument(data, markdown=extension == ".md")
    if extension == ".docx":
        return WordDocument(data)
    raise DocumentRejected(
        f"unsupported file type '{extension or filename}'; supported: "
        + ", ".join(SUPPORTED_EXTENSIONS)
    )


def expanded_size(filename: str, data: bytes) -> int:
    """Bytes the document takes once unpacked, known before anything is inflated or parsed.

    A .docx counts its members' sizes from the ZIP's central directory (zipfile never inflates
    a member past its recorded size, so a lying directory cannot hide a bigger one); other
    formats are parsed as sent. A file that is not a readable ZIP counts as its own size: the
    parser then refuses it.
    """
    if PurePath(filename).suffix.lower() != ".docx":
        return len(data)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return max(len(data), sum(info.file_size for info in archive.infolist()))
    except (zipfile.BadZipFile, EOFError, ValueError):
        return len(data)

"""Which document formats Tradia translates, and how each is opened."""

from __future__ import annotations

from pathlib import PurePath

from tradia.documents.model import Document, DocumentRejected
from tradia.documents.plain_text import TextDocument
from tradia.documents.scenari import XmlDocument
from tradia.documents.word import WordDocument

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

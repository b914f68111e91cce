"""ZIP-packaged documents (Office Open XML: .docx .xlsx .pptx; OpenDocument: .odt .odp): the
checks every one of them passes before its library opens it.

A package is refused when it holds more parts than any real document, inflates far beyond its
size (zip bombs: sizes come from the central directory, and zipfile never inflates a member past
its recorded size), or has an XML part with a DTD (office suites never write one; entities could
expand or fetch files). Nested archives are never opened.
"""

from __future__ import annotations

import io
import zipfile

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser, ParseError

from tradia.documents.model import DocumentRejected

MAX_UNCOMPRESSED = 100 * 1024 * 1024
MAX_PARTS = 1000
_XML_PARTS = (".xml", ".rels")


class _Discard:
    """A parser target with no callbacks: the part is checked, no tree is built."""


def check_package(data: bytes, kind: str) -> None:
    """Raise DocumentRejected (naming `kind`, e.g. ".xlsx") unless `data` is a safe package."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
            if len(parts) > MAX_PARTS:
                raise DocumentRejected(f"the {kind} holds {len(parts)} parts; at most {MAX_PARTS}")
            if sum(i.file_size for i in parts) > MAX_UNCOMPRESSED:
                raise DocumentRejected(f"the {kind} expands to more than 100 MB")
            for info in parts:
                if info.filename.lower().endswith(_XML_PARTS):
                    _check_xml_part(archive, info, kind)
    except (zipfile.BadZipFile, EOFError, RuntimeError, NotImplementedError) as exc:
        # RuntimeError: encrypted; NotImplementedError: an unknown compression method.
        raise DocumentRejected(f"not a valid {kind} file") from exc


def _check_xml_part(archive: zipfile.ZipFile, info: zipfile.ZipInfo, kind: str) -> None:
    parser = DefusedXMLParser(target=_Discard(), forbid_dtd=True)
    try:
        with archive.open(info) as part:
            while chunk := part.read(1 << 16):
                parser.feed(chunk)
        parser.close()
    except DefusedXmlException as exc:
        raise DocumentRejected(
            f"the {kind} part {info.filename} declares a DTD or entities, which is refused"
        ) from exc
    except ParseError as exc:
        raise DocumentRejected(f"the {kind} part {info.filename} is not well-formed XML") from exc


def expanded_size(data: bytes) -> int:
    """Bytes the package takes once unpacked, from its central directory (its own size if it is
    not a readable ZIP: opening it then fails with a clear error)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return max(len(data), sum(info.file_size for info in archive.infolist()))
    except (zipfile.BadZipFile, EOFError, ValueError):
        return len(data)

"""Hostile and malformed payloads, built in memory: XML bombs, XXE, zip bombs, lying files.

Each builder is cached: the bombs cost a little CPU to compress.
"""

from __future__ import annotations

import io
import zipfile
from functools import cache

import docx

BILLION_LAUGHS_DTD = (
    b'<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10 if n > 1 else "&lol;" * 10}">'.encode()
        for n in range(1, 10)
    )
    + b"]>"
)
XXE_FILE_DTD = b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
XXE_PARAMETER_DTD = b'<!DOCTYPE x [<!ENTITY % p SYSTEM "http://127.0.0.1:9/evil.dtd"> %p;]>'
EXTERNAL_DTD = b'<!DOCTYPE x SYSTEM "http://127.0.0.1:9/evil.dtd">'
DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
SCENARI_OPEN = b'<sc:item xmlns:sc="http://www.utc.fr/ics/scenari/v3/core"><sc:para>'
SCENARI_CLOSE = b"</sc:para></sc:item>"
PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8cfc0f01f0005000201ff0c2c0d1b0000000049454e44ae426082"
)
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
WORD_MAIN = "word/document.xml"
CONTENT_TYPES = "[Content_Types].xml"
WORD_NS = b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def scenari(dtd: bytes, text: bytes) -> bytes:
    return DECLARATION + dtd + SCENARI_OPEN + text + SCENARI_CLOSE


def deeply_nested_xml(depth: int = 50_000) -> bytes:
    return b"<a>" * depth + b"texte" + b"</a>" * depth


def word_body(dtd: bytes, text: bytes) -> bytes:
    return (
        DECLARATION
        + dtd
        + b"<w:document "
        + WORD_NS
        + b"><w:body><w:p><w:r><w:t>"
        + text
        + b"</w:t></w:r></w:p></w:body></w:document>"
    )


@cache
def word_document(text: str = "Bonjour tout le monde.") -> bytes:
    document = docx.Document()
    document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def word_with(
    replaced: dict[str, bytes] | None = None, added: dict[str, bytes] | None = None
) -> bytes:
    """A real .docx with some parts replaced or added."""
    source = zipfile.ZipFile(io.BytesIO(word_document()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            archive.writestr(
                info.filename, (replaced or {}).get(info.filename) or source.read(info)
            )
        for name, data in (added or {}).items():
            archive.writestr(name, data)
    return out.getvalue()


def word_with_embedded(name: str, data: bytes) -> bytes:
    """A real .docx carrying an embedded package (as Word stores an embedded object)."""
    source = zipfile.ZipFile(io.BytesIO(word_document()))
    relationship = (
        f'<Relationship Id="rIdEmbedded" Target="{name.removeprefix("word/")}" Type='
        '"http://schemas.openxmlformats.org/officeDocument/2006/relationships/package"/>'
    ).encode()
    override = f'<Override PartName="/{name}" ContentType="application/zip"/>'.encode()
    rels = source.read("word/_rels/document.xml.rels")
    types = source.read(CONTENT_TYPES)
    return word_with(
        {
            "word/_rels/document.xml.rels": rels.replace(
                b"</Relationships>", relationship + b"</Relationships>"
            ),
            CONTENT_TYPES: types.replace(b"</Types>", override + b"</Types>"),
        },
        {name: data},
    )


def rels_with_dtd() -> bytes:
    original = zipfile.ZipFile(io.BytesIO(word_document())).read("word/_rels/document.xml.rels")
    return original.replace(b"?>", b"?>" + XXE_FILE_DTD, 1)


def content_types_with_dtd() -> bytes:
    original = zipfile.ZipFile(io.BytesIO(word_document())).read(CONTENT_TYPES)
    return original.replace(b"?>", b"?>" + BILLION_LAUGHS_DTD, 1)


@cache
def zeros_zip(megabytes: int, name: str = "zeros.bin") -> bytes:
    """One entry of zeros: about 1,000 times smaller compressed."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open(name, "w", force_zip64=True) as entry,
    ):
        block = bytes(1 << 20)
        for _ in range(megabytes):
            entry.write(block)
    return out.getvalue()


@cache
def zip_bomb_high_ratio() -> bytes:
    """A Word package whose document part inflates to 150 MB of whitespace."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        source = zipfile.ZipFile(io.BytesIO(word_document()))
        for info in source.infolist():
            if info.filename != WORD_MAIN:
                archive.writestr(info.filename, source.read(info))
        with archive.open(WORD_MAIN, "w", force_zip64=True) as entry:
            entry.write(word_body(b"", b"x")[: -len(b"</w:document>")])
            block = b" " * (1 << 20)
            for _ in range(150):
                entry.write(block)
            entry.write(b"</w:document>")
    return out.getvalue()


@cache
def zip_many_entries(count: int = 5000) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for number in range(count):
            archive.writestr(f"p/{number}.xml", b"<a/>")
    return out.getvalue()


@cache
def zip_of_zips(width: int = 10) -> bytes:
    """42.zip-style: archives of archives of zeros (10 x 10 MB here), and no Word structure."""
    inner = zeros_zip(10)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for number in range(width):
            archive.writestr(f"layer{number}.zip", inner)
    return out.getvalue()

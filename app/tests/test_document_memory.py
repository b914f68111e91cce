"""Documents cannot exhaust the app's memory. Which bound stops which format:

- Packages (.docx .xlsx .pptx .odt .odp): what they expand to is read from the ZIP's directory
  and bounded per file (max_document_expanded_bytes, 32 MiB) and per request
  (max_request_expanded_bytes, 64 MiB) before anything is inflated or parsed; over either, the
  request is refused with 413 (`document_too_large`, `documents_too_large`).
- PDF: its size is what it weighs on the wire, but its streams are compressed; the decoded page
  content is measured while parsing and bounded by the same per-document limit (and every
  stream by pypdf's decoding limits, never above it); over it, the file is rejected (422
  `document_rejected`, the reason in the message).
- Every other format is parsed as sent: its size on the wire (max_file_bytes, 5 MiB) bounds it.
- On top of those, documents are parsed only when their job starts, parse_concurrency (2) at
  once, all requests together.

The hostile requests are those of the security review: ten packages of 5 MB, each of which
inflates to about 100 MB of XML (under the packages' own 100 MiB ceiling, so only the new
limits stop them), in each packaged format; and ten PDF bombs at once. They must be refused
while the app's memory stays near where it was and colleagues keep translating.
"""

from __future__ import annotations

import io
import os
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from hostile_files import (
    ODF_CONTENT,
    ODP,
    ODT,
    PPTX_SLIDE,
    WORD_MAIN,
    XLSX_STRINGS,
    open_document,
    pdf_bomb,
    pdf_document,
    pdf_text_page,
    presentation,
    spreadsheet,
    word_document,
)
from tradia.core.config import Settings
from tradia.documents.formats import MEDIA_TYPES
from tradia.stream_client import iter_events
from tradia_testkit import AppProcess, Simulator, running_app

MB = 1_000_000
MIB = 1024 * 1024
FILES = 10
FILE_BYTES = 5 * MB
# Just under the package readers' ceiling (100 MiB for the whole package, padding included).
XML_BYTES = 100 * MIB - FILE_BYTES - 2 * MIB
# Room for the interpreter's own buffers, on top of what the app may hold for the request.
SLACK = 64 * MIB
DEFAULTS = Settings.model_fields
DOCUMENT_LIMIT = DEFAULTS["max_document_expanded_bytes"].default
# Each packaged format: a valid document, and the part its reader parses for the text.
PACKAGES: dict[str, tuple[Callable[[], bytes], str]] = {
    ".docx": (word_document, WORD_MAIN),
    ".xlsx": (spreadsheet, XLSX_STRINGS),
    ".pptx": (presentation, PPTX_SLIDE),
    ".odt": (lambda: open_document(ODT), ODF_CONTENT),
    ".odp": (lambda: open_document(ODP), ODF_CONTENT),
}
T = TypeVar("T")


@cache
def _inflated(base: bytes, main: str, xml_bytes: int) -> bytes:
    """`base` with its part `main` inflating to `xml_bytes`, every other part as it was."""
    source = zipfile.ZipFile(io.BytesIO(base))
    part = source.read(main)
    # Blank comments before the root's end tag: valid in every vocabulary, nothing to
    # translate, but the reader's tree holds them all (each one stays under libxml2's 10 MB
    # node limit, so an office suite would open it).
    cut = part.rindex(b"</")
    head, tail = part[:cut], part[cut:]
    blank = b"<!--" + b" " * 65536 + b"-->"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for info in source.infolist():
            if info.filename != main:
                # `mimetype` (OpenDocument) stays first and stored.
                archive.writestr(info, source.read(info), compress_type=info.compress_type)
        with archive.open(main, "w", force_zip64=True) as entry:
            entry.write(head)
            remaining = xml_bytes - len(head) - len(tail)
            while remaining >= len(blank):
                entry.write(blank)
                remaining -= len(blank)
            entry.write(b" " * remaining)
            entry.write(tail)
    return out.getvalue()


def inflating_package(base: bytes, main: str, xml_bytes: int, file_bytes: int) -> bytes:
    """A real package whose part `main` inflates to `xml_bytes`, padded with an incompressible
    part to `file_bytes` on the wire. The inflating part is compressed once per package and
    part (seconds for 100 MiB), then appended to: each file differs by its padding."""
    out = io.BytesIO(_inflated(base, main, xml_bytes))
    with zipfile.ZipFile(out, "a") as archive:
        padding = file_bytes - len(out.getvalue()) - 4096
        archive.writestr(zipfile.ZipInfo("media/padding.bin"), os.urandom(max(padding, 0)))
    return out.getvalue()


def _form(files: list[bytes], extension: str) -> list[tuple[str, tuple[str, bytes, str]]]:
    media_type = MEDIA_TYPES[extension]
    return [
        ("files", (f"rapport-{n}{extension}", data, media_type)) for n, data in enumerate(files)
    ]


def _translate(url: str, n: int) -> str:
    """One colleague's translation: 'done' when it ended well, else what went wrong."""
    with (
        httpx.Client(base_url=url, timeout=60) as client,
        client.stream(
            "POST", "/api/translate", json={"text": f"Bonjour numéro {n}.", "target": "en"}
        ) as response,
    ):
        if response.status_code != 200:
            return f"HTTP {response.status_code}"
        events = list(iter_events(response))
    return events[-1].type if events else "no event"


def _under_load(
    app: AppProcess, small: bytes, extension: str, attack: Callable[[], T]
) -> tuple[T, int, list[str]]:
    """`attack`'s result, how far the app's RSS rose above its steady state (KiB) while it ran,
    and the outcomes of three colleagues translating meanwhile."""
    # Warm up: the format's reader and a translation loaded, so the baseline is the steady state.
    with httpx.Client(base_url=app.url, timeout=60) as client:
        warm = client.post(
            "/api/documents/translate", files=_form([small], extension), data={"target": "en"}
        )
        assert warm.status_code == 200, warm.text
    assert _translate(app.url, 0) == "done"
    baseline = app.rss_kib()
    peak = baseline
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, app.rss_kib())
            time.sleep(0.02)

    outcomes: list[str] = []

    def colleague(n: int) -> None:
        while not stop.is_set():
            outcomes.append(_translate(app.url, n))

    threads = [threading.Thread(target=sample)] + [
        threading.Thread(target=colleague, args=(n,)) for n in range(3)
    ]
    for thread in threads:
        thread.start()
    try:
        result = attack()
        # The colleagues go on a little after the refusal: the app still serves them.
        time.sleep(1.0)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
    peak = max(peak, app.rss_kib())
    return result, peak - baseline, outcomes


def _post(url: str, form: list[tuple[str, tuple[str, bytes, str]]]) -> httpx.Response | None:
    """The answer, or None when the app was still busy with the request after two minutes
    (what the memory shows is then the finding)."""
    with httpx.Client(base_url=url, timeout=120) as client:
        try:
            return client.post("/api/documents/translate", files=form, data={"target": "en"})
        except httpx.TimeoutException:
            return None


@pytest.fixture(scope="module")
def packages_app(sim: Simulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppProcess]:
    """One app for every packaged format (each measures its own baseline): it never parses
    them, and starting one costs seconds."""
    with AppProcess(sim.url, tmp_path_factory.mktemp("packages") / "tradia.log") as app:
        yield app


@pytest.mark.parametrize("extension", list(PACKAGES))
def test_ten_inflating_packages_are_refused_with_memory_bounded(
    packages_app: AppProcess, extension: str
) -> None:
    base, main = PACKAGES[extension]
    hostile = [inflating_package(base(), main, XML_BYTES, FILE_BYTES) for _ in range(FILES)]
    assert all(FILE_BYTES * 0.95 < len(data) <= FILE_BYTES for data in hostile)
    # What the app may hold for this request: the uploads themselves, once spooled and once
    # read, plus the slack. Parsing one such file costs several times this (its XML alone is
    # 100 MB).
    budget_kib = (2 * FILES * FILE_BYTES + SLACK) // 1024
    app = packages_app
    response, growth_kib, outcomes = _under_load(
        app, base(), extension, lambda: _post(app.url, _form(hostile, extension))
    )
    assert growth_kib <= budget_kib, (
        f"RSS grew by {growth_kib // 1024} MiB, budget {budget_kib // 1024} MiB"
    )
    assert response is not None, "the hostile request was not answered within 120 s"
    assert response.status_code == 413, response.text[:300]
    body = response.json()
    assert body["error"] == "document_too_large", body
    assert body["limit"] == DOCUMENT_LIMIT
    assert f"rapport-0{extension}" in body["message"]
    assert outcomes, "no colleague's translation finished"
    assert set(outcomes) == {"done"}, outcomes


def test_ten_pdf_bombs_at_once_are_rejected_with_memory_bounded(
    sim: Simulator, tmp_path: Path
) -> None:
    # Each: 40 pages of 2 MiB of content once decoded, about 100 KB on the wire. Small pages: a
    # parse may decode one page past the limit before it stops, which the budget leaves out.
    bomb = pdf_bomb(40, 2)
    # Ten requests at once (one request's files are parsed one after another, so only
    # requests together fill the parse slots): their jobs parse parse_concurrency documents at
    # a time, each of which may hold up to the per-document limit of decoded content; plus the
    # uploads, once spooled and once read, and the slack.
    parsing = DEFAULTS["parse_concurrency"].default * DOCUMENT_LIMIT
    budget_kib = (parsing + 2 * FILES * len(bomb) + SLACK) // 1024
    small = pdf_document([pdf_text_page("Bonjour tout le monde.")])

    def attack(url: str) -> list[httpx.Response | None]:
        with ThreadPoolExecutor(FILES) as pool:
            return list(
                pool.map(
                    lambda n: _post(
                        url, [("files", (f"rapport-{n}.pdf", bomb, MEDIA_TYPES[".pdf"]))]
                    ),
                    range(FILES),
                )
            )

    with AppProcess(sim.url, tmp_path / "tradia.log") as app:
        responses, growth_kib, outcomes = _under_load(app, small, ".pdf", lambda: attack(app.url))
    assert growth_kib <= budget_kib, (
        f"RSS grew by {growth_kib // 1024} MiB, budget {budget_kib // 1024} MiB"
    )
    for n, response in enumerate(responses):
        assert response is not None, f"rapport-{n}.pdf was not answered within 120 s"
        assert response.status_code == 422, response.text[:300]
        body = response.json()
        assert body["error"] == "document_rejected", body
        assert f"rapport-{n}.pdf" in body["message"], body
        # The reason, with the limit the app is configured with.
        assert f"more than {DOCUMENT_LIMIT // MIB} MiB" in body["message"], body
    assert outcomes, "no colleague's translation finished"
    assert set(outcomes) == {"done"}, outcomes


def test_documents_within_the_per_file_limit_are_refused_together(sim: Simulator) -> None:
    per_file = 4 * MIB
    with running_app(
        sim.url,
        TRADIA_MAX_DOCUMENT_EXPANDED_BYTES=per_file,
        TRADIA_MAX_REQUEST_EXPANDED_BYTES=2 * per_file,
    ) as url:
        one = inflating_package(word_document(), WORD_MAIN, 3 * MIB, 64 * 1024)
        with httpx.Client(base_url=url, timeout=60) as client:
            alone = client.post(
                "/api/documents/translate", files=_form([one], ".docx"), data={"target": "en"}
            )
            together = client.post(
                "/api/documents/translate",
                files=_form([one, one, one], ".docx"),
                data={"target": "en"},
            )
    assert alone.status_code == 200, alone.text[:300]
    assert together.status_code == 413, together.text[:300]
    body = together.json()
    assert body["error"] == "documents_too_large", body
    assert body["limit"] == 2 * per_file
    assert set(body) == {"error", "message", "limit"}

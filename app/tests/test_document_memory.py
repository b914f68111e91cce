"""Documents cannot exhaust the app's memory: what they expand to is bounded per file and per
request, from the ZIP's directory, before anything is inflated or parsed.

The hostile request is the one of the security review: ten .docx files of 5 MB, each of which
inflates to about 100 MB of XML (under the .docx reader's own 100 MiB ceiling, so only the new
limits stop it). It must be refused with 413 while the app's memory stays near where it was and
colleagues keep translating.
"""

from __future__ import annotations

import io
import os
import threading
import time
import zipfile
from pathlib import Path

import httpx
from hostile_files import WORD_MAIN, word_body, word_document
from tradia.core.config import Settings
from tradia.stream_client import iter_events
from tradia_testkit import AppProcess, Simulator, running_app

MB = 1_000_000
MIB = 1024 * 1024
FILES = 10
FILE_BYTES = 5 * MB
# Just under python-docx's reader's ceiling (100 MiB for the whole package, padding included).
XML_BYTES = 100 * MIB - FILE_BYTES - 2 * MIB
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def inflating_docx(xml_bytes: int, file_bytes: int, seed: int) -> bytes:
    """A real .docx whose document part inflates to `xml_bytes` of XML, padded with an
    incompressible part to `file_bytes` on the wire."""
    source = zipfile.ZipFile(io.BytesIO(word_document()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for info in source.infolist():
            if info.filename != WORD_MAIN:
                archive.writestr(info.filename, source.read(info))
        # One real paragraph, then blank ones: nothing to translate, but the reader must hold
        # them all (each text stays under libxml2's 10 MB node limit, so Word would open it).
        body = word_body(b"", f"Paragraphe {seed}.".encode())
        cut = body.index(b"</w:body>")
        head, tail = body[:cut], body[cut:]
        blank = b'<w:p><w:r><w:t xml:space="preserve">' + b" " * 65536 + b"</w:t></w:r></w:p>"
        with archive.open(WORD_MAIN, "w", force_zip64=True) as entry:
            entry.write(head)
            remaining = xml_bytes - len(head) - len(tail)
            while remaining >= len(blank):
                entry.write(blank)
                remaining -= len(blank)
            entry.write(b" " * remaining)
            entry.write(tail)
        padding = file_bytes - out.tell() - 4096
        archive.writestr(zipfile.ZipInfo("word/media/padding.bin"), os.urandom(max(padding, 0)))
    return out.getvalue()


def _form(files: list[bytes]) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("files", (f"rapport-{n}.docx", data, DOCX)) for n, data in enumerate(files)]


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


def test_ten_inflating_docx_are_refused_with_memory_bounded(sim: Simulator, tmp_path: Path) -> None:
    hostile = [inflating_docx(XML_BYTES, FILE_BYTES, n) for n in range(FILES)]
    assert all(FILE_BYTES * 0.95 < len(data) <= FILE_BYTES for data in hostile)
    # What the app may hold for this request: the uploads themselves, once spooled and once
    # read, plus room for the interpreter's own buffers. Parsing one such file costs several
    # times this (its XML alone is 100 MB).
    budget_kib = (2 * FILES * FILE_BYTES + 64 * MIB) // 1024
    with AppProcess(sim.url, tmp_path / "tradia.log") as app:
        # Warm up: the .docx reader and a translation loaded, so the baseline is the steady state.
        small = [("files", ("petit.docx", word_document(), DOCX))]
        with httpx.Client(base_url=app.url, timeout=60) as client:
            warm = client.post("/api/documents/translate", files=small, data={"target": "en"})
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
            with httpx.Client(base_url=app.url, timeout=120) as client:
                try:
                    response: httpx.Response | None = client.post(
                        "/api/documents/translate", files=_form(hostile), data={"target": "en"}
                    )
                except httpx.TimeoutException:
                    # Still parsing after two minutes: what the memory shows is the finding.
                    response = None
            # The colleagues go on a little after the refusal: the app still serves them.
            time.sleep(1.0)
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=120)
        peak = max(peak, app.rss_kib())
    assert peak - baseline <= budget_kib, (
        f"RSS grew by {(peak - baseline) // 1024} MiB (baseline {baseline // 1024} MiB),"
        f" budget {budget_kib // 1024} MiB"
    )
    assert response is not None, "the hostile request was not answered within 120 s"
    assert response.status_code == 413, response.text[:300]
    body = response.json()
    assert body["error"] == "document_too_large", body
    assert body["limit"] == Settings.model_fields["max_document_expanded_bytes"].default
    assert "rapport-0.docx" in body["message"]
    assert outcomes, "no colleague's translation finished"
    assert set(outcomes) == {"done"}, outcomes


def test_documents_within_the_per_file_limit_are_refused_together(sim: Simulator) -> None:
    per_file = 4 * MIB
    with running_app(
        sim.url,
        TRADIA_MAX_DOCUMENT_EXPANDED_BYTES=per_file,
        TRADIA_MAX_REQUEST_EXPANDED_BYTES=2 * per_file,
    ) as url:
        one = inflating_docx(3 * MIB, 64 * 1024, 0)
        with httpx.Client(base_url=url, timeout=60) as client:
            alone = client.post(
                "/api/documents/translate", files=_form([one]), data={"target": "en"}
            )
            together = client.post(
                "/api/documents/translate", files=_form([one, one, one]), data={"target": "en"}
            )
    assert alone.status_code == 200, alone.text[:300]
    assert together.status_code == 413, together.text[:300]
    body = together.json()
    assert body["error"] == "documents_too_large", body
    assert body["limit"] == 2 * per_file
    assert set(body) == {"error", "message", "limit"}

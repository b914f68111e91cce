"""The documents tab on server-side jobs, in Debian's Chromium: several files sent at once, a
progress bar per file, the job picked up again after a reload and in another tab, the result
downloaded through a plain link, a rejected file's reason, in French and in English."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import docx
from test_accessibility import blocking_violations
from test_format_word_pdf import add_note

HEADER = "En-tête du rapport annuel"
FOOTNOTE = "Chiffres arrêtés au trente et un décembre."
PARAGRAPHS = [
    f"Paragraphe numéro {n} du rapport : les équipes ont avancé sur le projet commun."
    for n in range(1, 9)
]
NOTES = "Première ligne des notes.\n\nDeuxième ligne des notes.\n"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def word_document() -> bytes:
    """A .docx with a header, paragraphs and one footnote on the first paragraph."""
    document = docx.Document()
    document.sections[0].header.paragraphs[0].text = HEADER
    document.add_paragraph(PARAGRAPHS[0])
    add_note(document, "footnote", FOOTNOTE)
    for text in PARAGRAPHS[1:]:
        document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def choose(page, *files: tuple[str, str, bytes]) -> None:
    page.set_input_files(
        "#do-files", files=[{"name": n, "mimeType": m, "buffer": b} for n, m, b in files]
    )


def send(page) -> str:
    """Clicks Send; the selector of the new job's card, from the server's answer."""
    with page.expect_response(
        lambda r: r.url.endswith("/api/documents/jobs") and r.request.method == "POST"
    ) as answer:
        page.click("#do-run")
    assert answer.value.status == 202
    selector = f"#job-{answer.value.json()['id']}"
    page.locator(selector).wait_for()
    return selector


def progress_of(page, name: str) -> dict[str, float]:
    bar = page.get_by_role("progressbar", name=f"Progression de {name}")
    return bar.evaluate("el => ({value: el.value, max: el.max})")


def test_reload_mid_job_picks_it_up_then_downloads(page, tmp_path: Path, artifacts: Path) -> None:
    page.click("#tab-documents")
    choose(
        page,
        ("rapport.docx", DOCX_TYPE, word_document()),
        ("notes.txt", "text/plain", NOTES.encode()),
    )
    assert page.locator("#do-chosen li").count() == 2
    page.select_option("#do-target", "en")
    job_id = send(page).removeprefix("#")
    assert page.locator("#do-chosen li").count() == 0  # sent: the selection is cleared
    page.wait_for_function(
        "() => document.querySelector('#do-jobs progress').value > 0", timeout=30000
    )
    page.reload()
    # The tab, the job and its progress come back from the server, mid-job.
    page.wait_for_selector("#panel-documents:not([hidden])")
    card = page.locator(f"#{job_id}")
    card.wait_for()
    page.wait_for_function(
        f"() => document.querySelector('#{job_id} progress')?.value > 0", timeout=10000
    )
    after_reload = progress_of(page, "rapport.docx")
    assert 0 < after_reload["value"] < after_reload["max"], after_reload
    assert card.locator(".job-state").text_content().startswith(("En cours", "En attente"))
    link = card.locator("a.download")
    link.wait_for(state="visible", timeout=60000)
    # Followed live after the reload: the bar went on to the end.
    assert progress_of(page, "rapport.docx") == {
        "value": after_reload["max"],
        "max": after_reload["max"],
    }
    assert card.locator(".job-state").text_content() == "Terminé"
    assert "conservé jusqu'au" in card.locator(".job-meta").text_content()
    assert link.get_attribute("href") == f"/api/documents/jobs/{job_id.removeprefix('job-')}/result"
    shot = artifacts / "10-document-job-done.png"
    page.screenshot(path=str(shot), full_page=True)
    with page.expect_download() as info:
        link.click()
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    assert target.name == "tradia-en.zip"
    with zipfile.ZipFile(target) as archive:
        names = set(archive.namelist())
        result = docx.Document(io.BytesIO(archive.read("rapport.en.docx")))
        notes = archive.read("notes.en.txt").decode()
    assert {"rapport.en.docx", "notes.en.txt"} <= names, names
    header = result.sections[0].header.paragraphs[0].text
    assert header.startswith("You wrote"), header
    assert HEADER in header, header
    part = next(p for p in result.part.package.parts if p.partname == "/word/footnotes.xml")
    footnotes = part.blob.decode()
    assert f'You wrote: "{FOOTNOTE}"' in footnotes, footnotes
    assert all(p.text.startswith("You wrote") for p in result.paragraphs if p.text), [
        p.text for p in result.paragraphs
    ]
    assert "You wrote" in notes
    # The page stays accessible with a finished job's card shown.
    assert blocking_violations(page) == []


def test_second_tab_follows_the_same_job(page, ui_url: str) -> None:
    page.click("#tab-documents")
    choose(page, ("rapport.docx", DOCX_TYPE, word_document()))
    page.select_option("#do-target", "en")
    job_id = send(page).removeprefix("#")
    other = page.context.new_page()
    try:
        other.goto(ui_url)
        other.click("#tab-documents")
        card = other.locator(f"#{job_id}")
        card.wait_for()
        assert card.locator("h3").text_content() == "rapport.docx → Anglais"
        # Both tabs see it end, each on its own stream.
        for tab in (page, other):
            tab.locator(f"#{job_id} a.download").wait_for(state="visible", timeout=60000)
            assert tab.locator(f"#{job_id} .job-state").text_content() == "Terminé"
        assert other.locator(f"#{job_id} a.download").text_content() == (
            "Télécharger rapport.en.docx"
        )
        # Deleted in one tab: the other drops it when it comes back to the foreground.
        other.locator(f"#{job_id} button").click()
        other.locator(f"#{job_id}").wait_for(state="detached")
        assert other.text_content("#do-announce") == "Document supprimé."
        page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
        page.locator(f"#{job_id}").wait_for(state="detached")
    finally:
        other.close()


def test_dropped_files_a_rejected_one_shows_its_reason(page) -> None:
    page.click("#tab-documents")
    # Dropped on the zone, as from a file manager.
    page.evaluate(
        """() => {
        const data = new DataTransfer();
        data.items.add(new File(['Bonjour à tous.'], 'bonjour.txt', {type: 'text/plain'}));
        data.items.add(new File(['MZ'], 'outil.exe', {type: 'application/octet-stream'}));
        data.items.add(new File(['x'], 'retire.txt', {type: 'text/plain'}));
        document.querySelector('#do-drop').dispatchEvent(
            new DragEvent('drop', {dataTransfer: data, bubbles: true, cancelable: true}));
    }"""
    )
    assert page.locator("#do-chosen li").count() == 3
    page.get_by_role("button", name="Retirer retire.txt").click()
    assert page.locator("#do-chosen li").all_text_contents()[0].startswith("bonjour.txt")
    assert page.locator("#do-chosen li").count() == 2
    page.select_option("#do-target", "en")
    card = page.locator(send(page))
    card.locator("a.download").wait_for(state="visible", timeout=60000)
    assert card.locator("h3").text_content() == "bonjour.txt, outil.exe → Anglais"
    rejected = card.locator(".job-files > li").nth(1)
    assert rejected.locator(".file-state").text_content() == "refusé"
    reason = rejected.locator(".file-details").text_content()
    assert reason.startswith("Fichier refusé : unsupported file type '.exe'"), reason
    assert rejected.locator("progress").is_hidden()
    assert card.locator(".job-files > li").nth(0).locator(".file-state").text_content() == (
        "traduit"
    )


def test_english_strings_and_an_empty_selection(page) -> None:
    page.click("#ui-lang-toggle")
    page.click("#tab-documents")
    assert page.text_content("#panel-documents h2") == "Your documents"
    assert page.text_content("#do-drop label") == "Choose files"
    assert page.get_by_label("Choose files").get_attribute("accept").split(",")[:2] == [
        ".xml",
        ".txt",
    ]
    page.click("#do-run")
    assert page.text_content("#do-status") == "Choose at least one file."
    page.click("#ui-lang-toggle")
    assert page.text_content("#panel-documents h2") == "Vos documents"
    assert page.text_content("#do-drop label") == "Choisir des fichiers"


def test_formality_offered_only_for_target_languages_that_have_it(page, ui_url: str) -> None:
    # The settings as a deployment with formality answers them (whatever this one says).
    def with_formality(route) -> None:
        settings = route.fetch().json()
        route.fulfill(json={**settings, "formality_languages": ["de"]})

    page.route("**/api/settings", with_formality)
    page.reload()
    page.wait_for_function("() => document.querySelectorAll('#model-select option').length > 0")
    page.click("#tab-documents")
    page.select_option("#do-target", "en")
    assert page.is_hidden("#do-formality")
    page.select_option("#do-target", "de")
    assert page.is_visible("#do-formality")
    page.locator("#panel-documents").get_by_label("Registre").select_option("formal")
    choose(page, ("bonjour.txt", "text/plain", "Bonjour à tous.".encode()))
    with page.expect_request("**/api/documents/jobs") as sent:
        card = send(page)
    assert 'name="formality"\r\n\r\nformal\r\n' in sent.value.post_data
    page.locator(f"{card} a.download").wait_for(state="visible", timeout=60000)


def test_a_broken_stream_is_followed_again(page) -> None:
    # The first /events request of the job breaks; the page asks again after a short wait.
    requests: list[str] = []

    def first_breaks(route) -> None:
        requests.append(route.request.url)
        if len(requests) == 1:
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/api/documents/jobs/*/events", first_breaks)
    page.click("#tab-documents")
    choose(page, ("notes.txt", "text/plain", NOTES.encode()))
    page.select_option("#do-target", "en")
    card = page.locator(send(page))
    card.locator("a.download").wait_for(state="visible", timeout=60000)
    assert len(requests) >= 2, requests
    assert card.locator(".job-state").text_content() == "Terminé"
    assert page.text_content("#do-announce") == "notes.txt : Terminé"


def crafted_jobs() -> list[dict[str, object]]:
    """A finished job with every kind of per-file outcome, and one waiting for the GPU."""

    def file(name: str, **fields: object) -> dict[str, object]:
        return {
            "name": name,
            "segments": 3,
            "done": 3,
            "state": "done",
            "error": None,
            "failed_segments": [],
            "terms_missing": [],
            "output": None,
            "note": None,
            **fields,
        }

    common = {
        "created_at": "2026-05-04T08:00:00Z",
        "updated_at": "2026-05-04T08:05:00Z",
        "source": "auto",
        "target": "en",
        "model": "llama3.1:8b",
        "formality": "default",
        "error": None,
    }
    failure = {"segment": 2, "reason": "llm_timeout", "message": "trop long", "excerpt": "Le devis"}
    done = {
        **common,
        "id": "done-job-aaaaaaaaaaaaaaaaaaaa",
        "state": "done",
        "expires_at": "2026-05-05T08:05:00Z",
        "done": 6,
        "total": 6,
        "queue_position": None,
        "files": [
            file(
                "devis.docx",
                failed_segments=[failure],
                terms_missing=[{"segment": 3, "term": "devis", "expected": "quote"}],
            ),
            file("scan.pdf", note="The PDF's layout is not kept.", output="scan.en.docx"),
            file("photo.png", segments=0, done=0, state="rejected", error="unsupported file type"),
        ],
        "result": {"filename": "tradia-en.zip", "media_type": "application/zip", "size": 10},
    }
    waiting = {
        **common,
        "id": "waiting-job-aaaaaaaaaaaaaaaaa",
        "state": "queued",
        "expires_at": None,
        "done": 0,
        "total": 3,
        "queue_position": 3,
        "files": [file("lettre.txt", done=0, state="waiting")],
        "result": None,
    }
    return [waiting, done]


def test_each_file_outcome_is_shown(page) -> None:
    jobs = crafted_jobs()
    page.route("**/api/documents/jobs", lambda route: route.fulfill(json={"jobs": jobs}))
    page.route(
        "**/api/documents/jobs/*/events",
        lambda route: route.fulfill(
            body=json.dumps({"type": "job", "job": jobs[0]}) + "\n",
            content_type="application/x-ndjson",
        ),
    )
    page.reload()
    page.click("#tab-documents")
    waiting = page.locator("#job-waiting-job-aaaaaaaaaaaaaaaaa")
    assert waiting.locator(".job-state").text_content() == (
        "En attente du serveur d'IA : position 3"
    )
    assert waiting.locator("button").text_content() == "Annuler"
    assert waiting.locator("a.download").is_hidden()
    card = page.locator("#job-done-job-aaaaaaaaaaaaaaaaaaaa")
    files = card.locator(".job-files > li")
    first = files.nth(0).locator(".file-details")
    assert first.locator("summary").text_content() == (
        "devis.docx : 1 segment(s) laissé(s) dans la langue d'origine"
    )
    first.locator("summary").click()
    assert first.locator("details li").text_content() == "segment 2 : trop long — « Le devis »"
    assert first.locator(".warning").text_content() == (
        "Termes du glossaire absents : segment 3 : « devis » (attendu : « quote »)"
    )
    assert files.nth(1).locator(".file-details").text_content() == (
        "scan.pdf : la mise en page du PDF n'est pas conservée, le texte revient en .docx."
    )
    assert files.nth(2).locator(".file-details").text_content() == (
        "Fichier refusé : unsupported file type"
    )
    assert card.locator("button").text_content() == "Supprimer"
    assert blocking_violations(page) == []

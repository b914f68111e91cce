"""The UI as a user sees it, in Debian's Chromium."""

from __future__ import annotations

import json
import re
from pathlib import Path

from ollama_sim.profiles import PROFILES
from tradia_testkit import Simulator

DATA = Path(__file__).parents[1] / "data"
FRENCH = "Bonjour à tous. Nous avons le plaisir de vous inviter à la réunion de demain matin."


def shot(page, artifacts: Path, name: str) -> None:
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)


def wait_done(page, prefix: str) -> None:
    page.wait_for_function(
        f"""() => !document.querySelector('#{prefix}-run').disabled &&
            document.querySelector('#{prefix}-status').textContent.length > 0"""
    )


def test_translation_appears_token_by_token(page, artifacts: Path) -> None:
    assert page.locator("html").get_attribute("lang") == "fr"
    page.fill("#tr-input", FRENCH)
    assert page.text_content("#tr-count") == f"{len(FRENCH)} / 8000 caractères"
    page.select_option("#tr-target", "en")
    # Record the output's length, and when, at every DOM change while the answer streams in.
    page.evaluate(
        """() => {
        window.__lengths = [];
        new MutationObserver(() => window.__lengths.push([performance.now(),
            document.querySelector('#tr-output').textContent.length]))
          .observe(document.querySelector('#tr-output'), {childList: true, subtree: true,
                                                          characterData: true});
    }"""
    )
    page.click("#tr-run")
    page.wait_for_selector("#tr-stop", state="visible")
    page.wait_for_function(
        "() => document.querySelector('#tr-status').textContent.startsWith('Terminé')"
    )
    changes = page.evaluate("window.__lengths")
    final = len(page.text_content("#tr-output"))
    partial = [(ms, n) for ms, n in changes if 0 < n < final]
    assert len({n for _, n in partial}) >= 3, changes
    # Visible partial output well before the end: from the first partial text to the whole
    # answer takes at least half of what the slow profile needs to decode it. A body buffered
    # and read in one go is rendered in a few milliseconds, however the page paces its events.
    tokens = int(re.search(r"(\d+) jetons", page.text_content("#tr-status")).group(1))
    decoding_ms = (tokens - 1) / PROFILES["l4"].decode_tokens_per_s * 1000
    whole_at = min(ms for ms, n in changes if n == final)
    assert whole_at - partial[0][0] >= decoding_ms / 2, (partial[0], whole_at, decoding_ms)
    assert page.text_content("#tr-detected") == "Langue détectée : Français"
    assert f'You wrote: "{FRENCH}"' in page.text_content("#tr-output")
    assert page.is_hidden("#tr-stop")
    shot(page, artifacts, "01-translation")
    # Swap: the detected source becomes the target and the translation becomes the input.
    page.click("#tr-swap")
    assert page.input_value("#tr-source") == "en"
    assert page.input_value("#tr-target") == "fr"
    assert page.input_value("#tr-input").startswith("You wrote")


def test_arabic_renders_right_to_left(page, artifacts: Path) -> None:
    page.fill("#tr-input", "مرحبا بكم في اجتماع الفريق صباح الغد")
    assert page.evaluate("document.querySelector('#tr-input').matches(':dir(rtl)')")
    page.select_option("#tr-target", "ar")
    page.click("#tr-run")
    wait_done(page, "tr")
    assert page.evaluate("document.querySelector('#tr-output').matches(':dir(rtl)')")
    assert page.text_content("#tr-detected") == "Langue détectée : Arabe"
    shot(page, artifacts, "02-translation-arabic")


def test_midstream_failure_shows_an_error(page, slow_sim: Simulator, artifacts: Path) -> None:
    slow_sim.fault("midstream_error", after=4, count=1)
    page.fill("#tr-input", FRENCH)
    page.click("#tr-run")
    error = page.wait_for_selector("#tr-status .error")
    assert "La génération a échoué avant la fin" in error.text_content()
    assert not page.text_content("#tr-status").startswith("Terminé")
    assert page.text_content("#tr-output") == ""  # the partial answer is not shown as a result
    shot(page, artifacts, "03-translation-error")


def test_stop_cancels_the_generation(page, slow_sim: Simulator) -> None:
    slow_sim.fault("slow_tokens", delay=0.3, after=2, count=1)
    before = slow_sim.stats()["canceled_running"]
    page.fill("#tr-input", FRENCH)
    page.click("#tr-run")
    page.wait_for_function("() => document.querySelector('#tr-output').textContent.length > 0")
    page.click("#tr-stop")
    page.wait_for_function("() => document.querySelector('#tr-status').textContent === 'Arrêté.'")
    length = len(page.text_content("#tr-output"))
    page.wait_for_timeout(800)
    assert len(page.text_content("#tr-output")) == length
    assert page.is_enabled("#tr-run")
    assert "partial" in page.get_attribute("#tr-output", "class")
    for _ in range(40):
        if slow_sim.stats()["canceled_running"] > before:
            break
        page.wait_for_timeout(100)
    assert slow_sim.stats()["canceled_running"] == before + 1


def test_scenari_file_comes_back_with_markup(page, artifacts: Path, tmp_path: Path) -> None:
    page.click("#tab-documents")
    page.set_input_files("#do-files", str(DATA / "cours.xml"))
    page.select_option("#do-target", "en")
    page.click("#do-run")
    link = page.wait_for_selector("#do-jobs a.download:not([hidden])", timeout=30000)
    assert page.evaluate("document.querySelector('#do-jobs progress').value") == 5
    assert "5 / 5 segments" in page.text_content("#do-jobs")
    with page.expect_download() as info:
        link.click()
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    assert target.name == "cours.en.xml"
    xml = target.read_text(encoding="utf-8")
    assert '<sc:inlineStyle role="emp">bien formé</sc:inlineStyle>' in xml
    assert '<sc:uLink role="url" url="https://www.w3.org/TR/xml/">norme du W3C</sc:uLink>' in xml
    assert "<sp:title>You wrote" in xml
    shot(page, artifacts, "06-documents")


def test_correction_reformulation_minutes_tabs(page, artifacts: Path) -> None:
    page.click("#tab-correct")
    page.fill("#co-input", "Le devis de 1 250 € est valider pour le 3 mars.\nMerci Pierre.")
    page.click("#co-run")
    page.wait_for_selector("#co-result:not([hidden])", timeout=30000)
    assert page.locator("#co-diff ins, #co-diff del").count() > 0
    assert page.evaluate("getComputedStyle(document.querySelector('#co-diff')).whiteSpace") == (
        "pre-wrap"
    )
    shot(page, artifacts, "04-correction")

    page.click("#tab-reformulate")
    page.select_option("#re-tone", "formal_email")
    page.fill("#re-input", "salut, je peux pas venir demain, on décale ?")
    page.click("#re-run")
    page.wait_for_selector("#re-result:not([hidden])", timeout=30000)
    shot(page, artifacts, "05-reformulation")

    page.click("#tab-minutes")
    assert page.is_hidden("#mi-photo-row")
    assert "qwen2.5vl:7b" in page.text_content("#mi-photo-hint")
    page.select_option("#model-select", "qwen2.5vl:7b")
    assert page.is_visible("#mi-photo-row")
    page.fill("#mi-input", "Budget 2027 validé. Marie envoie le devis avant le 12 mai.")
    page.click("#mi-run")
    page.wait_for_selector("#mi-result:not([hidden])", timeout=30000)
    assert page.locator("#mi-output h3").count() == 3
    with page.expect_download() as info:
        page.click("#mi-download")
    assert info.value.suggested_filename == "compte-rendu.md"
    shot(page, artifacts, "07-minutes")


def test_keyboard_tabs_english_dark_mode_history(page, artifacts: Path) -> None:
    page.focus("#tab-translate")
    page.keyboard.press("ArrowRight")
    assert page.get_attribute("#tab-correct", "aria-selected") == "true"
    assert page.evaluate("document.activeElement.id") == "tab-correct"
    page.keyboard.press("End")
    assert page.is_visible("#panel-documents")
    page.keyboard.press("Home")
    assert page.is_visible("#panel-translate")

    page.click("#ui-lang-toggle")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.text_content("#tr-run") == "Translate"
    colours = (
        "[getComputedStyle(document.body).backgroundColor, getComputedStyle(document.body).color]"
    )
    # Two clicks go through both themes, whichever the system preference starts from.
    seen: dict[str, list[str]] = {}
    for _ in range(2):
        page.click("#theme-toggle")
        seen[page.evaluate("document.documentElement.dataset.theme")] = page.evaluate(colours)
    assert set(seen) == {"dark", "light"}, seen
    assert seen["dark"][0] != seen["light"][0], seen  # the background
    assert seen["dark"][1] != seen["light"][1], seen  # the text
    if page.evaluate("document.documentElement.dataset.theme") == "light":
        page.click("#theme-toggle")
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    assert page.evaluate(colours) == seen["dark"]
    page.fill("#tr-input", "Bonjour, ceci reste dans le navigateur.")
    page.click("#tr-run")
    wait_done(page, "tr")
    page.click("#history-toggle")
    assert page.locator("#history-list button").count() >= 1
    shot(page, artifacts, "08-english-dark-history")
    stored = json.loads(page.evaluate("localStorage.getItem('tradia.history')"))
    assert stored[0]["task"] == "translate"
    page.click("#history-clear")
    assert page.evaluate("localStorage.getItem('tradia.history')") is None
    assert page.text_content("#history-list") == "Nothing yet."
    page.keyboard.press("Escape")
    assert page.is_hidden("#history")


def test_ndjson_reader_joins_lines_split_across_reads(page) -> None:
    events = page.evaluate(
        """async () => {
        const { readNdjson } = await import('/shared/ndjson.js');
        const bytes = new TextEncoder().encode(
            '{"type":"token","text":"é"}\\n{"type":"tok' + 'en","text":"中"}\\n{"type":"done"}');
        // Cut inside a line and inside a multi-byte character.
        const cuts = [5, 24, 26, 40, 41, bytes.length];
        let start = 0;
        const body = new ReadableStream({ pull(controller) {
            const end = cuts.shift();
            if (end === undefined) { controller.close(); return; }
            controller.enqueue(bytes.slice(start, end)); start = end;
        }});
        const out = [];
        for await (const event of readNdjson(body)) out.push(event);
        return out;
    }"""
    )
    assert events == [
        {"type": "token", "text": "é"},
        {"type": "token", "text": "中"},
        {"type": "done"},
    ]


def test_responsive_layout(page, artifacts: Path) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.fill("#tr-input", FRENCH)
    box_in = page.locator("#tr-input").bounding_box()
    box_out = page.locator("#tr-output").bounding_box()
    assert box_out["y"] > box_in["y"] + box_in["height"] - 1  # stacked, not side by side
    shot(page, artifacts, "09-mobile")

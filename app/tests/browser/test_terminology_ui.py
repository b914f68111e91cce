"""The translation tab's terminology: the formality choice only where the target has one, sent
with the request, and the required terms the translation lacks shown under it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tradia_testkit import ServerThread, Simulator, make_settings


@pytest.fixture(scope="module")
def terms_url(sim: Simulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path = tmp_path_factory.mktemp("terms") / "terminology.json"
    entry = {"source": "fr", "target": "en", "term": "compte rendu", "translation": "minutes"}
    path.write_text(json.dumps({"glossary": [entry], "do_not_translate": ["Tradia"]}), "utf-8")
    with ServerThread(make_settings(sim.url, TRADIA_GLOSSARY_FILE=str(path))) as url:
        yield url


@pytest.fixture
def terms_page(browser: Any, terms_url: str) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(terms_url)
    page.wait_for_function("() => document.querySelectorAll('#tr-target option').length > 0")
    yield page
    context.close()


def test_formality_is_offered_only_where_the_target_has_it(terms_page: Any) -> None:
    page = terms_page
    page.select_option("#tr-target", "en")
    assert page.is_hidden("#tr-formality-row")
    page.select_option("#tr-target", "de")
    assert page.is_visible("#tr-formality-row")
    values = page.eval_on_selector_all("#tr-formality option", "els => els.map(e => e.value)")
    assert values == ["default", "formal", "informal"]
    page.select_option("#tr-formality", "formal")
    page.fill("#tr-input", "Hello, how are you?")
    with page.expect_request("**/api/translate") as request:
        page.click("#tr-run")
    assert request.value.post_data_json["formality"] == "formal"
    page.wait_for_function(
        "() => document.querySelector('#tr-status').textContent.startsWith('Terminé')"
    )
    # Back to a target without the choice: the request says "default", whatever was chosen.
    page.select_option("#tr-target", "en")
    assert page.is_hidden("#tr-formality-row")
    with page.expect_request("**/api/translate") as request:
        page.click("#tr-run")
    assert request.value.post_data_json["formality"] == "default"


def test_missing_terms_are_shown_under_the_translation(terms_page: Any, artifacts: Path) -> None:
    page = terms_page
    page.select_option("#tr-source", "fr")
    page.select_option("#tr-target", "en")
    page.fill("#tr-input", "Le compte rendu de Tradia est prêt.")
    page.click("#tr-run")
    page.wait_for_function("() => document.querySelector('#tr-glossary').textContent !== ''")
    page.screenshot(path=str(artifacts / "terminology-missing-terms.png"))
    # The scripted model quotes the text: "Tradia" comes back, "minutes" does not.
    report = page.text_content("#tr-glossary")
    assert report.startswith("Glossaire : 1/2 termes appliqués")
    assert "“minutes” (compte rendu)" in report
    assert "Tradia" not in report

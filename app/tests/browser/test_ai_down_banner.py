"""The AI server goes down while the page is open: a real Chromium shows the banner with the
reason, and the banner goes away by itself when the server is back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tradia_testkit import Simulator, running_app

UNREACHABLE_FR = "Le serveur d'IA est injoignable"
# The page polls /readyz every 5 s.
WAIT_MS = 15000


@pytest.fixture
def killable_sim(tmp_path: Path) -> Iterator[Simulator]:
    simulator = Simulator(tmp_path / "models")
    yield simulator
    simulator.stop()


def test_banner_while_the_ai_server_is_down(
    browser, killable_sim: Simulator, artifacts: Path
) -> None:
    with running_app(killable_sim.url) as url:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        try:
            page.goto(url)
            page.wait_for_function("() => document.querySelectorAll('#model-select option').length")
            assert page.is_hidden("#banner")

            killable_sim.kill()
            banner = page.wait_for_selector("#banner", state="visible")
            assert UNREACHABLE_FR in banner.text_content()
            page.screenshot(path=str(artifacts / "10-ai-server-down.png"), full_page=True)

            killable_sim.start()
            page.wait_for_selector("#banner", state="hidden")
            assert page.locator("#model-select option").count() >= 1
        finally:
            context.close()

"""A real Chromium (Debian's, never a downloaded one) against Tradia on a slower simulator."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tradia_testkit import ServerThread, Simulator, make_settings

CHROMIUM = os.environ.get("TRADIA_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("TRADIA_TEST_ARTIFACTS", Path(__file__).parents[1] / "artifacts"))


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="module")
def slow_sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    # The L4 profile (~40 tokens/s) makes token-by-token rendering observable.
    simulator = Simulator(tmp_path_factory.mktemp("slow-sim") / "models", profile="l4")
    yield simulator
    simulator.stop()


@pytest.fixture(autouse=True)
def _clear_slow_sim_fault(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "slow_sim" in request.fixturenames:
        request.getfixturevalue("slow_sim").clear_fault()


@pytest.fixture(scope="module")
def ui_url(slow_sim: Simulator) -> Iterator[str]:
    with ServerThread(make_settings(slow_sim.url, OLLAMA_TIMEOUT=20)) as url:
        # Warm the model once (the profile simulates a cold load of a few seconds).
        httpx.post(f"{url}/api/translate", json={"text": "Bonjour", "target": "en"}, timeout=30)
        yield url


# Module scope: Playwright's sync API keeps an event loop running in this thread while it is
# open, which would stop the asyncio tests that run after this module.
# The prerequisites are checked here, not when this file is imported: a skip at import would
# end `pytest app/tests/browser` with a traceback, and here it is each test's own skip, which
# the root conftest.py turns into a failure in CI.
@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    playwright_sync = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")
    with playwright_sync.sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"],
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser: object, ui_url: str) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(ui_url)
    page.wait_for_function("() => document.querySelectorAll('#model-select option').length > 0")
    yield page
    context.close()

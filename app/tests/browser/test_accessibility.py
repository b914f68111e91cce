"""An automated WCAG 2.1 AA audit (axe-core, from the pinned axe-playwright-python package) of
every tab, in light and dark themes and after a result is shown: no serious or critical
violation."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

TABS = ["translate", "correct", "reformulate", "minutes", "documents"]
# The rules of WCAG 2.0 and 2.1, levels A and AA (axe-core's tags).
WCAG_21_AA = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}
BLOCKING = {"serious", "critical"}


def blocking_violations(page) -> list[str]:
    results: dict[str, Any] = Axe().run(page, options=WCAG_21_AA).response
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(" ".join(node["target"]) for node in v["nodes"][:5])
        for v in results["violations"]
        if v["impact"] in BLOCKING
    ]


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("tab", TABS)
def test_each_tab_passes_wcag_21_aa(page, tab: str, theme: str) -> None:
    page.evaluate(f"document.documentElement.dataset.theme = '{theme}'")
    page.click(f"#tab-{tab}")
    page.wait_for_selector(f"#panel-{tab}:not([hidden])")
    assert blocking_violations(page) == []


def test_a_shown_translation_and_the_history_pass(page) -> None:
    page.fill("#tr-input", "Bonjour à tous.")
    page.select_option("#tr-target", "en")
    page.click("#tr-run")
    page.wait_for_function(
        "() => document.querySelector('#tr-status').textContent.startsWith('Terminé')"
    )
    page.click("#history-toggle")
    page.wait_for_selector("#history:not([hidden])")
    assert blocking_violations(page) == []

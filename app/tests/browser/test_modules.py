"""The page's scripts are ES modules loaded without a build step: Chromium fetches every .js
file of the UI, each with a JavaScript MIME type (it refuses to run a module served otherwise),
and nothing fails to load or throws on the way."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

STATIC = Path(__file__).parents[2] / "tradia" / "static"
# The types a browser accepts for a module script (WHATWG "JavaScript MIME type essence match"),
# as Starlette's StaticFiles gives them: text/javascript from /etc/mime.types, Python's own
# table says application/javascript where that file is missing (slim images).
JAVASCRIPT_TYPES = {"text/javascript", "application/javascript"}


def test_every_module_loads_with_a_javascript_type(browser: object, ui_url: str) -> None:
    # /docs-ui/ belongs to the API docs page, not to the UI.
    expected = {
        "/" + path.relative_to(STATIC).as_posix()
        for path in STATIC.rglob("*.js")
        if path.relative_to(STATIC).parts[0] != "docs-ui"
    }
    assert {"/app.js", "/tabs/translate.js", "/tabs/documents.js"} <= expected, expected
    context = browser.new_context()
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        types: dict[str, str] = {}
        page.on(
            "response",
            lambda r: (
                types.__setitem__(urlsplit(r.url).path, r.headers.get("content-type", ""))
                if r.request.resource_type == "script"
                else None
            ),
        )
        page.goto(ui_url)
        # The module graph has run by "load"; the settings request it starts has answered too.
        page.wait_for_load_state("networkidle")
        assert errors == []
        assert set(types) == expected
        assert {
            path: kind for path, kind in types.items() if kind.split(";")[0] not in JAVASCRIPT_TYPES
        } == {}
        # Every tab's module has run: its markup is expanded and its settings are filled in.
        assert page.locator("task-input, task-actions, task-result").count() == 0
        assert page.locator("#model-select option").count() > 0
        assert page.locator("#re-tone option").count() > 0
        assert page.locator("#mi-language option").count() > 0
        assert page.text_content("#do-formats").startswith("(")
    finally:
        context.close()

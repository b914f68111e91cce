"""The API docs (/docs) render in Chromium from the app's own files: no request leaves for a CDN
and the page's strict CSP (no inline script) refuses nothing it needs."""

from __future__ import annotations


def test_swagger_ui_renders_without_any_other_host(browser: object, ui_url: str) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        requested: list[str] = []
        refused: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        page.on(
            "console",
            lambda message: (
                refused.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )
        page.goto(f"{ui_url}/docs")
        title = page.wait_for_selector(".swagger-ui .info .title", timeout=15000)
        assert title.text_content().startswith("Tradia")
        # The operations are listed from /openapi.json.
        page.wait_for_selector("#operations-tasks-translate_api_translate_post")
        assert requested
        assert [url for url in requested if not url.startswith(ui_url)] == []
        assert refused == []
    finally:
        context.close()

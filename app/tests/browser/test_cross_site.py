"""No cross-site requests, in Chromium: a page on another origin posting a form to the document
job is refused (browsers would resend the user's basic-auth login with it), while the app's own
page keeps working."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

DATA = Path(__file__).parents[1] / "data"

# What a hostile page could hold: a form that starts a document job in the visitor's name.
_ATTACK = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Win a prize</title></head>
<body>
  <form id="attack" method="post" enctype="multipart/form-data" action="{action}">
    <input type="file" name="files" id="files">
    <input type="hidden" name="target" value="en">
    <button type="submit" id="go">Claim</button>
  </form>
</body></html>
"""


@pytest.fixture
def other_origin(ui_url: str, tmp_path: Path) -> Iterator[str]:
    """A page served by another local port: another origin than the app's."""
    (tmp_path / "index.html").write_text(
        _ATTACK.format(action=f"{ui_url}/api/documents/translate"), encoding="utf-8"
    )
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    # "localhost" while the app is on 127.0.0.1: another site altogether, not only another port.
    yield f"http://localhost:{server.server_address[1]}/index.html"
    server.shutdown()


def test_a_form_posted_from_another_origin_is_refused(
    browser: object, other_origin: str, ui_url: str
) -> None:
    context = browser.new_context()
    try:
        attacker = context.new_page()
        attacker.goto(other_origin)
        attacker.set_input_files("#files", str(DATA / "cours.xml"))
        with attacker.expect_response(f"{ui_url}/api/documents/translate") as info:
            attacker.click("#go")
        response = info.value
        assert response.status == 403, f"the app answered {response.status}"
        assert json.loads(response.body()) == {
            "error": "cross_site",
            "message": "Refused: this request comes from another site. Use Tradia's own page.",
        }
    finally:
        context.close()


def test_the_apps_own_page_still_posts(page) -> None:
    # The same kind of request, sent by the app's own page (same origin): accepted.
    status = page.evaluate(
        """async () => {
        const form = new FormData();
        form.append('files', new File(['Bonjour à tous.'], 'note.txt', {type: 'text/plain'}));
        form.append('target', 'en');
        const response = await fetch('/api/documents/translate', {method: 'POST', body: form});
        await response.text();
        return response.status;
    }"""
    )
    assert status == 200
    # And through the UI itself.
    page.click("#tab-documents")
    page.set_input_files("#do-files", str(DATA / "cours.xml"))
    page.select_option("#do-target", "en")
    page.click("#do-run")
    page.wait_for_selector("#do-jobs a.download:not([hidden])", timeout=30000)

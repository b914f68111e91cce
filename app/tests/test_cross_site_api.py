"""State-changing requests a browser says come from another site are refused (403, the app's
error shape); same-origin requests and non-browser clients (no Origin, no Sec-Fetch-Site) pass.
Chromium's own behaviour is proven in browser/test_cross_site.py."""

from __future__ import annotations

import httpx
import pytest

TEXT = {"text": "Bonjour.", "target": "en"}


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        # A same-origin Origin does not excuse a browser that says cross-site.
        {"Sec-Fetch-Site": "cross-site", "Origin": "SELF"},
    ],
)
def test_cross_site_posts_are_refused(
    client: httpx.Client, app_url: str, headers: dict[str, str]
) -> None:
    own = app_url.split("://", 1)[1]
    headers = {k: (f"http://{own}" if v == "SELF" else v) for k, v in headers.items()}
    for path, kwargs in (
        ("/api/translate", {"json": TEXT}),
        (
            "/api/documents/translate",
            {"files": {"files": ("a.txt", b"Bonjour.")}, "data": {"target": "en"}},
        ),
    ):
        response = client.post(path, headers=headers, **kwargs)
        assert response.status_code == 403, (path, headers, response.text[:200])
        body = response.json()
        assert body["error"] == "cross_site"
        assert set(body) == {"error", "message"}


@pytest.mark.parametrize(
    "headers",
    [
        {},  # curl, scripts, API clients
        {"Origin": "SELF", "Sec-Fetch-Site": "same-origin"},  # the app's own page
        {"Sec-Fetch-Site": "none"},  # typed by the user
    ],
)
def test_own_and_non_browser_posts_pass(
    client: httpx.Client, app_url: str, headers: dict[str, str]
) -> None:
    own = app_url.split("://", 1)[1]
    headers = {k: (f"http://{own}" if v == "SELF" else v) for k, v in headers.items()}
    with client.stream("POST", "/api/translate", json=TEXT, headers=headers) as response:
        assert response.status_code == 200
        response.read()


def test_reads_are_not_refused(client: httpx.Client) -> None:
    # A cross-site GET changes nothing (and the UI's assets are loaded by other sites' links).
    response = client.get("/api/settings", headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 200

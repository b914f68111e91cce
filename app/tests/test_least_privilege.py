"""Least privilege in the app: users choose only the models the deployment offers
(TRADIA_MODELS), and the API docs load nothing from a CDN."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from pydantic import ValidationError
from tradia_testkit import DEFAULT_MODEL, Simulator, make_settings, running_app

OFFERED = f"{DEFAULT_MODEL},smollm2:135m"
# Installed on the simulator, but not offered by this deployment.
OTHER = "qwen3:8b"


@pytest.fixture(scope="module")
def restricted(sim: Simulator) -> Iterator[httpx.Client]:
    with (
        running_app(sim.url, TRADIA_MODELS=OFFERED) as url,
        httpx.Client(base_url=url, timeout=30) as client,
    ):
        yield client


def test_settings_list_only_the_offered_models(restricted: httpx.Client) -> None:
    names = [m["name"] for m in restricted.get("/api/settings").json()["models"]]
    assert sorted(names) == sorted(OFFERED.split(","))


@pytest.mark.parametrize(
    ("path", "kwargs"),
    [
        ("/api/translate", {"json": {"text": "Bonjour.", "target": "en", "model": OTHER}}),
        ("/api/correct", {"json": {"text": "Bonjour.", "model": OTHER}}),
        ("/api/reformulate", {"json": {"text": "Bonjour.", "model": OTHER}}),
        ("/api/minutes", {"data": {"notes": "Réunion.", "model": OTHER}}),
        (
            "/api/documents/translate",
            {"files": {"files": ("a.txt", b"Bonjour.")}, "data": {"target": "en", "model": OTHER}},
        ),
    ],
)
def test_another_model_is_refused(restricted: httpx.Client, path: str, kwargs: dict) -> None:
    response = restricted.post(path, **kwargs)
    assert response.status_code == 422, response.text[:300]
    body = response.json()
    assert body["error"] == "model_not_allowed"
    assert set(body) == {"error", "message"}
    assert OTHER in body["message"]


def test_an_offered_model_works(restricted: httpx.Client) -> None:
    body = {"text": "Bonjour.", "target": "en", "model": "smollm2:135m"}
    with restricted.stream("POST", "/api/translate", json=body) as response:
        assert response.status_code == 200
        assert '"type": "done"' in response.read().decode()


def test_the_default_model_must_be_offered(sim: Simulator) -> None:
    with pytest.raises(ValidationError, match="not in TRADIA_MODELS"):
        make_settings(sim.url, TRADIA_MODELS="smollm2:135m")


def test_docs_load_nothing_from_another_host(client: httpx.Client) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert "https:" not in csp
    assert "cdn" not in csp
    assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";", 1)[0]
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources
    assert all(s.startswith("/") and not s.startswith("//") for s in sources), sources
    assert "<script>" not in page.text  # no inline script
    for source in sources:
        asset = client.get(source)
        assert asset.status_code == 200, source

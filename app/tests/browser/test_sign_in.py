"""Chromium signs in: with a local account through the form (the user's name and "Sign out" in
the top bar, a lost session sends the page back to sign-in and then back to where it was), and
through an OpenID Connect provider (oidc_provider.py) and out at the provider."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from auth_kit import write_key, write_users
from oidc_provider import CLIENT_ID, OidcTestProvider
from test_accessibility import blocking_violations
from tradia.auth.settings import AuthSettings
from tradia_testkit import API_KEY, DEFAULT_MODEL, Simulator, running_app

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def local_url(slow_sim: Simulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("local-ui")
    auth = AuthSettings(
        mode="local",
        session_key_file=write_key(tmp),
        local_users_file=write_users(tmp, {"alice": PASSWORD}),
    )
    with running_app(slow_sim.url, OLLAMA_TIMEOUT=20, auth=auth) as url:
        warm(slow_sim)
        yield url


def warm(sim: Simulator) -> None:
    """Loads the model once (the profile simulates a cold load of a few seconds)."""
    body = {"model": DEFAULT_MODEL, "prompt": "Bonjour", "stream": False}
    httpx.post(f"{sim.url}/api/generate", json=body, auth=("api", API_KEY), timeout=60)


def translate_in(page: object) -> None:
    # The settings first (the task buttons wait for them), as the UI tests' page fixture does.
    page.wait_for_function("() => document.querySelectorAll('#model-select option').length > 0")
    page.fill("#tr-input", "Bonjour à tous.")
    page.click("#tr-run")
    page.wait_for_function(
        "() => document.querySelector('#tr-output').textContent.length > 0", timeout=30000
    )


def test_local_sign_in_expiry_and_sign_out(
    browser: object, local_url: str, artifacts: Path
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        page.goto(f"{local_url}/?tab=translate")
        page.wait_for_url("**/auth/login?next=*")
        assert page.locator("html").get_attribute("lang") == "en"
        page.fill("#username", "alice")
        page.fill("#password", "wrong")
        page.click("button[type=submit]")
        error = page.locator("#signin-error")
        assert "Wrong user name or password" in error.text_content()
        assert page.locator("#password").get_attribute("aria-describedby") == "signin-error"
        page.screenshot(path=str(artifacts / "sign-in-refused.png"))
        assert blocking_violations(page) == []

        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{local_url}/?tab=translate")
        page.wait_for_selector("#session:not([hidden])")
        assert "alice" in page.text_content("#session-user")
        translate_in(page)
        page.screenshot(path=str(artifacts / "signed-in.png"))
        assert blocking_violations(page) == []

        # The session disappears (expired, or signed out in another tab): the next call
        # sends the page to sign-in, which says why, and back here afterwards.
        context.clear_cookies()
        page.click("#tr-run")
        page.wait_for_url("**/auth/login?expired=1&next=*")
        assert page.locator("#signin-notice").is_visible()
        page.fill("#username", "alice")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{local_url}/?tab=translate")

        page.wait_for_selector("#session:not([hidden])")
        page.click("#session button")
        page.wait_for_url("**/auth/login?signed_out=1*")
        page.goto(local_url)
        page.wait_for_url("**/auth/login?next=*")
    finally:
        context.close()


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcTestProvider]:
    with OidcTestProvider(tmp_path_factory.mktemp("oidc-ui")) as idp:
        yield idp


@pytest.fixture(scope="module")
def oidc_url(
    slow_sim: Simulator, provider: OidcTestProvider, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("oidc-ui-app")
    auth = AuthSettings(
        mode="oidc",
        session_key_file=write_key(tmp),
        oidc_issuer=provider.issuer,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret_file=provider.write_secret(tmp),
        oidc_ca_file=provider.tls.ca,
        oidc_allowed_groups=["tradia-users"],
        oidc_provider_name="Test SSO",
    )
    with running_app(slow_sim.url, OLLAMA_TIMEOUT=20, auth=auth) as url:
        provider.allow_redirect(url)
        warm(slow_sim)
        yield url


def test_oidc_sign_in_and_out_at_the_provider(
    browser: object, oidc_url: str, provider: OidcTestProvider, artifacts: Path
) -> None:
    # The provider's certificate comes from the tests' CA, which Chromium does not know.
    context = browser.new_context(ignore_https_errors=True, locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        page.goto(oidc_url)
        page.wait_for_url("**/auth/login?next=*")
        page.click("#signin-provider")
        page.wait_for_url(f"{oidc_url}/")
        page.wait_for_selector("#session:not([hidden])")
        assert "alice" in page.text_content("#session-user")
        assert page.text_content("#session button") == "Se déconnecter"
        translate_in(page)

        page.click("#session button")
        # The sign-out page refreshes to the provider, which comes back to the sign-in page.
        page.wait_for_url(f"{oidc_url}/auth/login*")
        assert provider.logouts
        assert provider.logouts[-1]["id_token_hint"]
        page.screenshot(path=str(artifacts / "oidc-signed-out.png"))
        page.goto(oidc_url)
        page.wait_for_url("**/auth/login?next=*")
    finally:
        context.close()

"""Sign-in through an OpenID Connect provider (oidc_provider.py, Authlib's server side over
HTTPS with a test CA): the code flow with PKCE and nonce, the id_token's signature, issuer,
audience, expiry and nonce checked, the allowed groups, logout at the provider, a provider that
is down (new visitors get a clear page, open sessions carry on), no secret in the log."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest
from auth_kit import COOKIE, Browser, page_error, set_cookies, translate, write_key
from oidc_provider import CLIENT_ID, OidcTestProvider, Person
from tradia.auth.settings import AuthSettings
from tradia_testkit import AppProcess, Simulator, running_app

ALLOWED = "tradia-users"


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcTestProvider]:
    with OidcTestProvider(tmp_path_factory.mktemp("oidc")) as idp:
        yield idp


@pytest.fixture(autouse=True)
def _provider_reset(provider: OidcTestProvider) -> Iterator[None]:
    yield
    provider.down = False
    provider.tamper = None
    provider.lean_id_token = False
    provider.user = Person("alice", [ALLOWED])


def oidc_settings(tmp: Path, provider: OidcTestProvider, **extra: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "mode": "oidc",
        "session_key_file": write_key(tmp),
        "oidc_issuer": provider.issuer,
        "oidc_client_id": CLIENT_ID,
        "oidc_client_secret_file": provider.write_secret(tmp),
        "oidc_ca_file": provider.tls.ca,
        "oidc_allowed_groups": [ALLOWED],
        "oidc_provider_name": "Test SSO",
        "oidc_timeout": 5,
    }
    values.update(extra)
    return values


@pytest.fixture(scope="module")
def oidc_app(
    sim: Simulator, provider: OidcTestProvider, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    auth = AuthSettings(**oidc_settings(tmp_path_factory.mktemp("oidc-app"), provider))
    with running_app(sim.url, auth=auth) as url:
        provider.allow_redirect(url)
        yield url


@pytest.fixture
def browser(provider: OidcTestProvider) -> Iterator[Browser]:
    with Browser(verify=str(provider.tls.ca)) as b:
        yield b


def start(browser: Browser, app: str, next_path: str = "/") -> httpx.Response:
    """The sign-in page, then its provider button: the app's redirect to the provider."""
    page = browser.get(f"{app}/auth/login", params={"next": next_path})
    assert page.status_code == 200
    link = re.search(r'id="signin-provider" href="([^"]+)"', page.text)
    assert link, page.text
    return browser.get(urljoin(app, unescape(link.group(1))))


def sign_in(browser: Browser, app: str, next_path: str = "/") -> httpx.Response:
    """The whole flow, redirects followed by hand: the app's answer to the callback."""
    to_provider = start(browser, app, next_path)
    assert to_provider.status_code == 302, to_provider.text
    back = browser.get(to_provider.headers["location"])
    assert back.status_code == 302, back.text
    assert back.headers["location"].startswith(f"{app}/auth/callback?")
    return browser.get(back.headers["location"])


def test_code_flow_with_pkce_signs_in_and_out_at_the_provider(
    oidc_app: str, provider: OidcTestProvider, browser: Browser
) -> None:
    assert translate(browser, oidc_app).status_code == 401
    answer = sign_in(browser, oidc_app, "/?tab=minutes")
    assert answer.status_code == 303, page_error(answer)
    assert answer.headers["location"] == "/?tab=minutes"
    asked = provider.authorize_params[-1]
    assert asked["response_type"] == "code"
    assert asked["code_challenge_method"] == "S256"
    assert len(asked["code_challenge"]) >= 43
    assert asked["nonce"]
    assert asked["state"]
    assert "openid" in asked["scope"].split()
    assert asked["redirect_uri"] == f"{oidc_app}/auth/callback"
    session = browser.get(f"{oidc_app}/api/session").json()
    assert session == {"user": "alice", "groups": [ALLOWED], "auth": "oidc"}
    assert translate(browser, oidc_app).status_code == 200

    out = browser.post(f"{oidc_app}/auth/logout", headers={"Accept-Language": "en"})
    assert out.status_code == 200
    assert browser.session_cookie(oidc_app) is None
    target = unescape(re.search(r'id="provider-logout" href="([^"]+)"', out.text).group(1))
    assert f'content="0; url={target}"'.replace("&", "&amp;") in out.text
    assert target.startswith(f"{provider.issuer}/logout?")
    query = parse_qs(urlsplit(target).query)
    assert query["post_logout_redirect_uri"] == [f"{oidc_app}/auth/login"]
    assert query["id_token_hint"][0].count(".") == 2
    back = browser.get(target)
    assert back.status_code == 302
    assert provider.logouts[-1]["id_token_hint"] == query["id_token_hint"][0]
    assert translate(browser, oidc_app).status_code == 401


def test_claims_from_userinfo_when_the_id_token_is_lean(
    oidc_app: str, provider: OidcTestProvider, browser: Browser
) -> None:
    provider.lean_id_token = True
    assert sign_in(browser, oidc_app).status_code == 303
    assert browser.get(f"{oidc_app}/api/session").json()["user"] == "alice"


def test_user_outside_the_allowed_groups_refused(
    oidc_app: str, provider: OidcTestProvider, browser: Browser
) -> None:
    provider.user = Person("bob", ["accounting"])
    answer = sign_in(browser, oidc_app)
    assert answer.status_code == 403
    assert "bob" in page_error(answer)
    assert translate(browser, oidc_app).status_code == 401


@pytest.mark.parametrize("tamper", ["foreign_key", "issuer", "audience", "expired", "nonce"])
def test_a_bad_id_token_is_refused(
    oidc_app: str, provider: OidcTestProvider, browser: Browser, tamper: str
) -> None:
    provider.tamper = tamper
    answer = sign_in(browser, oidc_app)
    assert answer.status_code == 400, (tamper, answer.status_code)
    assert page_error(answer)
    assert translate(browser, oidc_app).status_code == 401


def test_state_is_checked(oidc_app: str, provider: OidcTestProvider, browser: Browser) -> None:
    to_provider = start(browser, oidc_app)
    back = browser.get(to_provider.headers["location"]).headers["location"]
    # Another state (a callback this browser did not start), then the code replayed.
    forged = re.sub(r"state=[^&]+", "state=forged", back)
    assert browser.get(forged).status_code == 400
    with Browser(verify=str(provider.tls.ca)) as stranger:
        assert stranger.get(back).status_code == 400
    assert translate(browser, oidc_app).status_code == 401


def test_provider_down_new_visitors_told_open_sessions_carry_on(
    oidc_app: str, provider: OidcTestProvider, browser: Browser
) -> None:
    assert sign_in(browser, oidc_app).status_code == 303
    provider.down = True
    with Browser(verify=str(provider.tls.ca)) as newcomer:
        refused = start(newcomer, oidc_app)
        assert refused.status_code == 503
        assert "Test SSO" in page_error(refused)
    assert translate(browser, oidc_app).status_code == 200
    # Signing out still ends the app's session, without the provider.
    out = browser.post(f"{oidc_app}/auth/logout")
    assert out.status_code == 303
    assert translate(browser, oidc_app).status_code == 401


def test_unreachable_issuer_gives_a_clear_page(
    sim: Simulator, provider: OidcTestProvider, tmp_path: Path, browser: Browser
) -> None:
    issuer = "https://localhost:9"  # discard port: nothing listens
    auth = AuthSettings(**oidc_settings(tmp_path, provider, oidc_issuer=issuer, oidc_timeout=2))
    with running_app(sim.url, auth=auth) as url:
        refused = start(browser, url)
        assert refused.status_code == 503
        assert COOKIE not in set_cookies(refused) or "user" not in refused.text


def test_no_secret_in_the_log(sim: Simulator, provider: OidcTestProvider, tmp_path: Path) -> None:
    values = oidc_settings(tmp_path, provider)
    env = {
        "TRADIA_AUTH": "oidc",
        "TRADIA_SESSION_KEY_FILE": str(values["session_key_file"]),
        "TRADIA_OIDC_ISSUER": provider.issuer,
        "TRADIA_OIDC_CLIENT_ID": CLIENT_ID,
        "TRADIA_OIDC_CLIENT_SECRET_FILE": str(values["oidc_client_secret_file"]),
        "TRADIA_OIDC_CA_FILE": str(provider.tls.ca),
        "TRADIA_OIDC_ALLOWED_GROUPS": ALLOWED,
        "TRADIA_LOG_LEVEL": "DEBUG",
    }
    log = tmp_path / "app.log"
    with AppProcess(sim.url, log, **env) as app, Browser(verify=str(provider.tls.ca)) as browser:
        provider.allow_redirect(app.url)
        assert sign_in(browser, app.url).status_code == 303
        cookie = browser.session_cookie(app.url)
        assert translate(browser, app.url).status_code == 200
        browser.post(f"{app.url}/auth/logout")
    text = log.read_text()
    events = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    assert any(e["event"] == "signed_in" and e["user"] == "alice" for e in events)
    for secret in (provider.client.client_secret, values["session_key_file"].read_text().strip()):
        assert secret not in text
    assert cookie
    assert cookie not in text


def test_a_user_in_many_groups_still_fits_in_the_cookie(
    oidc_app: str, provider: OidcTestProvider, browser: Browser
) -> None:
    """Browsers drop a cookie over 4096 bytes, signing the user out in silence: an Entra or AD
    user is often in hundreds of groups, and the id_token that lists them is as large."""
    provider.user = Person("alice", [f"department-{n:03d}" for n in range(300)] + [ALLOWED])
    answer = sign_in(browser, oidc_app)
    assert answer.status_code == 303
    cookie = set_cookies(answer)[COOKIE]["value"]
    assert len(f"{COOKIE}={cookie}") < 4096
    assert browser.get(f"{oidc_app}/api/session").json()["groups"] == [ALLOWED]
    out = browser.post(f"{oidc_app}/auth/logout")
    target = unescape(re.search(r'id="provider-logout" href="([^"]+)"', out.text).group(1))
    # Without the hint (too large to keep), client_id names the client to the provider.
    assert parse_qs(urlsplit(target).query)["client_id"] == [CLIENT_ID]

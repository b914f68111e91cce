"""Sign-in with local accounts (TRADIA_AUTH=local), and what every session mode shares: the
cookie's flags and checks (forged, tampered, expired), the proxy header ignored, the gate's
answers, `next` kept local, failed sign-ins rate-limited, no secret in the log."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bcrypt
import httpx
import itsdangerous
import pytest
from auth_kit import (
    COOKIE,
    Browser,
    page_error,
    set_cookies,
    sign_in,
    translate,
    write_key,
    write_users,
)
from tradia.auth import local_accounts
from tradia.auth.local_accounts import LocalAccounts, UsersFileError
from tradia.auth.redirects import safe_next
from tradia.auth.settings import AuthSettings
from tradia_testkit import AppProcess, Simulator, running_app

USERS = {"alice": "correct horse battery", "bob": "tr0ub4dor&3"}


def local_auth(tmp: Path, **extra: Any) -> AuthSettings:
    return AuthSettings(
        mode="local",
        session_key_file=write_key(tmp),
        local_users_file=write_users(tmp, USERS),
        **extra,
    )


@pytest.fixture(scope="module")
def local(
    sim: Simulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, AuthSettings]]:
    auth = local_auth(tmp_path_factory.mktemp("local"))
    with running_app(sim.url, auth=auth) as url:
        yield url, auth


@pytest.fixture
def browser() -> Iterator[Browser]:
    with Browser() as b:
        yield b


def signed_cookie(key: str, payload: dict[str, Any], at: float | None = None) -> str:
    """A cookie as SessionMiddleware writes it, signed with `key` at time `at`."""

    class Signer(itsdangerous.TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time() if at is None else at)

    data = base64.b64encode(json.dumps(payload).encode())
    return Signer(key).sign(data).decode()


def test_sign_in_translate_sign_out(local: tuple[str, AuthSettings], browser: Browser) -> None:
    url, _ = local
    refused = translate(browser, url)
    assert refused.status_code == 401
    assert refused.json()["error"] == "signed_out"
    page = browser.get(f"{url}/?tab=documents", headers={"Accept": "text/html"})
    assert page.status_code == 303
    assert page.headers["location"] == "/auth/login?next=%2F%3Ftab%3Ddocuments"
    form = browser.follow(page)
    assert form.status_code == 200
    assert 'name="next" value="/?tab=documents"' in form.text
    assert '<label for="password">' in form.text

    signed = sign_in(browser, url, "alice", USERS["alice"], "/?tab=documents")
    assert signed.status_code == 303, signed.text
    assert signed.headers["location"] == "/?tab=documents"
    assert browser.get(f"{url}/api/session").json() == {
        "user": "alice",
        "groups": [],
        "auth": "local",
    }
    assert translate(browser, url).status_code == 200
    assert 'user="alice"' in browser.get(f"{url}/metrics").text
    home = browser.get(f"{url}/", headers={"Accept": "text/html"})
    assert home.status_code == 200
    assert "<task-input" in home.text

    out = browser.post(f"{url}/auth/logout")
    assert out.status_code == 303
    assert out.headers["location"].startswith("/auth/login?signed_out=1")
    assert set_cookies(out)[COOKIE]["value"] in ("", "null")
    assert browser.session_cookie(url) is None
    assert translate(browser, url).status_code == 401
    assert browser.get(f"{url}/api/session").status_code == 401


def test_the_cookie_flags(local: tuple[str, AuthSettings], browser: Browser) -> None:
    url, auth = local
    cookie = set_cookies(sign_in(browser, url, "bob", USERS["bob"]))[COOKIE]
    assert cookie["secure"]
    assert cookie["httponly"]
    assert cookie["samesite"].lower() == "lax"
    assert cookie["path"] == "/"
    assert int(cookie["max-age"]) == int(auth.session_idle_minutes * 60)
    # What the cookie carries, readable by whoever holds it: nothing secret.
    payload = json.loads(base64.b64decode(cookie["value"].split(".")[0]))
    assert set(payload) == {"user", "groups", "login", "seen"}
    assert USERS["bob"] not in json.dumps(payload)


def test_wrong_and_unknown_refused_alike(local: tuple[str, AuthSettings], browser: Browser) -> None:
    url, _ = local
    headers = {"X-Forwarded-For": "192.0.2.10"}
    wrong = browser.post(
        f"{url}/auth/login", data={"username": "alice", "password": "nope"}, headers=headers
    )
    unknown = browser.post(
        f"{url}/auth/login", data={"username": "zoe", "password": "nope"}, headers=headers
    )
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert COOKIE not in set_cookies(response)
        assert page_error(response) == page_error(wrong) != ""
        assert 'aria-describedby="signin-error"' in response.text


def test_unknown_user_costs_one_bcrypt_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    accounts = LocalAccounts(write_users(tmp_path, USERS))
    calls: list[bytes] = []
    real = bcrypt.checkpw

    def counting(password: bytes, hashed: bytes) -> bool:
        calls.append(hashed)
        return real(password, hashed)

    monkeypatch.setattr(local_accounts.bcrypt, "checkpw", counting)
    assert not accounts.check("nobody", "x")
    assert accounts.check("alice", USERS["alice"])
    assert len(calls) == 2
    assert calls[0].startswith(b"$2b$10$")


def test_users_file_refuses_weak_or_foreign_hashes(tmp_path: Path) -> None:
    weak = tmp_path / "weak"
    weak.write_text(f"eve:{bcrypt.hashpw(b'x', bcrypt.gensalt(4)).decode()}\n")
    with pytest.raises(UsersFileError, match="cost 4 < 10"):
        LocalAccounts(weak)
    md5 = tmp_path / "md5"
    md5.write_text("eve:$apr1$abc$def\n")
    with pytest.raises(UsersFileError, match="not a bcrypt hash"):
        LocalAccounts(md5)
    # htpasswd -B writes $2y$: accepted.
    apache = tmp_path / "apache"
    hashed = bcrypt.hashpw(b"pw", bcrypt.gensalt(10)).decode().replace("$2b$", "$2y$", 1)
    apache.write_text(f"eve:{hashed}\n")
    assert LocalAccounts(apache).check("eve", "pw")


def test_settings_refuse_a_short_key_or_no_users_file(tmp_path: Path) -> None:
    short = tmp_path / "short.key"
    short.write_text("too-short")
    with pytest.raises(ValueError, match="at least 32"):
        AuthSettings(
            mode="local", session_key_file=short, local_users_file=write_users(tmp_path, USERS)
        )
    with pytest.raises(ValueError, match="TRADIA_LOCAL_USERS_FILE"):
        AuthSettings(mode="local", session_key_file=write_key(tmp_path))
    with pytest.raises(ValueError, match="TRADIA_SESSION_KEY_FILE"):
        AuthSettings(mode="local", local_users_file=write_users(tmp_path, USERS))


def test_forged_tampered_and_expired_cookies_refused(local: tuple[str, AuthSettings]) -> None:
    url, auth = local
    key = auth.session_key
    now = time.time()
    good = {"user": "alice", "groups": [], "login": now, "seen": now}
    with httpx.Client(base_url=url, timeout=30) as http:

        def status(cookie: str) -> int:
            response = http.post(
                "/api/translate",
                json={"text": "Bonjour.", "target": "en"},
                headers={"Cookie": f"{COOKIE}={cookie}"},
            )
            response.read()
            return response.status_code

        assert status(signed_cookie(key, good)) == 200, "the test's own cookie must be valid"
        # Another key (forged), one byte of the payload changed (tampered), unsigned.
        assert status(signed_cookie("x" * 64, good)) == 401
        genuine = signed_cookie(key, good)
        _data, _, signature = genuine.partition(".")
        other = base64.b64encode(json.dumps({**good, "user": "admin"}).encode()).decode()
        assert status(f"{other}.{signature}") == 401
        assert status(base64.b64encode(json.dumps(good).encode()).decode()) == 401
        # Signed longer ago than the idle lifetime; or signed now, but past the absolute one.
        idle = auth.session_idle_minutes * 60
        assert status(signed_cookie(key, good, at=now - idle - 5)) == 401
        old = now - auth.session_max_hours * 3600 - 5
        assert status(signed_cookie(key, {**good, "login": old})) == 401
        stale = {**good, "seen": now - idle - 5}
        assert status(signed_cookie(key, stale)) == 401
        # A page load with a dead cookie: the sign-in page says the session expired.
        page = http.get("/", headers={"Accept": "text/html", "Cookie": f"{COOKIE}={genuine}x"})
        assert page.status_code == 303
        assert page.headers["location"] == "/auth/login?next=%2F&expired=1"
        notice = http.get(page.headers["location"], headers={"Accept-Language": "en"})
        assert "Your session has expired" in notice.text


def test_the_proxy_header_is_ignored(local: tuple[str, AuthSettings], browser: Browser) -> None:
    url, _ = local
    # Alone, the header opens nothing.
    assert translate(browser, url, **{"X-Forwarded-User": "alice"}).status_code == 401
    sign_in(browser, url, "bob", USERS["bob"])
    assert translate(browser, url, **{"X-Forwarded-User": "mallory"}).status_code == 200
    metrics = browser.get(f"{url}/metrics").text
    assert 'user="mallory"' not in metrics
    assert 'user="bob"' in metrics
    who = browser.get(f"{url}/api/session", headers={"X-Forwarded-User": "mallory"}).json()
    assert who["user"] == "bob"


def test_what_stays_reachable_signed_out(local: tuple[str, AuthSettings]) -> None:
    url, _ = local
    with httpx.Client(base_url=url, timeout=30) as http:
        for path in ("/healthz", "/readyz", "/metrics", "/app.css", "/favicon.svg", "/auth/login"):
            assert http.get(path).status_code == 200, path
        for path in ("/api/settings", "/app.js", "/openapi.json", "/api/documents/jobs"):
            response = http.get(path)
            assert response.status_code == 401, path
            assert response.json()["error"] == "signed_out"
        english = http.get("/auth/login", headers={"Accept-Language": "en-GB,en;q=0.9,fr;q=0.5"})
        assert '<html lang="en">' in english.text
        assert "Sign in" in english.text
        french = http.get("/auth/login?lang=fr", headers={"Accept-Language": "en"})
        assert '<html lang="fr">' in french.text
        assert "Se connecter" in french.text


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "http:/x",
        "javascript:alert(1)",
        "/\t/evil.example",
        "",
        "/auth/logout",
    ],
)
def test_next_never_leaves_the_site(local: tuple[str, AuthSettings], target: str) -> None:
    url, _ = local
    assert safe_next(target) == "/"
    with Browser() as browser:
        response = sign_in(browser, url, "alice", USERS["alice"], target)
        assert response.status_code == 303
        assert response.headers["location"] == "/"
        page = httpx.get(f"{url}/auth/login", params={"next": target})
        assert 'name="next" value="/"' in page.text


def test_next_keeps_a_local_path(local: tuple[str, AuthSettings], browser: Browser) -> None:
    url, _ = local
    response = sign_in(browser, url, "alice", USERS["alice"], "/docs?x=1#y")
    assert response.headers["location"] == "/docs?x=1#y"


def test_failed_sign_ins_rate_limited_per_user_and_address(sim: Simulator, tmp_path: Path) -> None:
    with running_app(sim.url, auth=local_auth(tmp_path)) as url, Browser() as browser:

        def attempt(user: str, password: str, address: str) -> httpx.Response:
            return browser.post(
                f"{url}/auth/login",
                data={"username": user, "password": password},
                headers={"X-Forwarded-For": address},
            )

        # Per user name: five failures from five addresses, then even the right password waits.
        for n in range(5):
            assert attempt("alice", "wrong", f"198.51.100.{n}").status_code == 401
        limited = attempt("alice", USERS["alice"], "198.51.100.99")
        assert limited.status_code == 429
        assert 0 < int(limited.headers["Retry-After"]) <= 60
        assert "60" in page_error(limited) or limited.headers["Retry-After"] in page_error(limited)
        assert COOKIE not in set_cookies(limited)
        # Per address: five names from one address, then a sixth name from there waits too.
        for n in range(5):
            assert attempt(f"guess{n}", "wrong", "203.0.113.7").status_code == 401
        assert attempt("bob", USERS["bob"], "203.0.113.7").status_code == 429
        # Another user from another address is not held back.
        assert attempt("bob", USERS["bob"], "203.0.113.8").status_code == 303


def test_no_secret_in_the_log(sim: Simulator, tmp_path: Path) -> None:
    key_file = write_key(tmp_path)
    users = write_users(tmp_path, USERS)
    log = tmp_path / "app.log"
    env = {
        "TRADIA_AUTH": "local",
        "TRADIA_SESSION_KEY_FILE": str(key_file),
        "TRADIA_LOCAL_USERS_FILE": str(users),
        "TRADIA_LOG_LEVEL": "DEBUG",
    }
    with AppProcess(sim.url, log, **env) as app, Browser() as browser:
        sign_in(browser, app.url, "alice", "a-wrong-password-canary")
        assert sign_in(browser, app.url, "alice", USERS["alice"]).status_code == 303
        cookie = browser.session_cookie(app.url)
        assert cookie
        assert translate(browser, app.url).status_code == 200
        browser.post(f"{app.url}/auth/logout")
    text = log.read_text()
    events = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    assert any(e["event"] == "signed_in" and e["user"] == "alice" for e in events)
    assert any(e["event"] == "sign_in_refused" and e["user"] == "alice" for e in events)
    assert any(e["event"] == "llm_call" and e["user"] == "alice" for e in events)
    for secret in (USERS["alice"], "a-wrong-password-canary", key_file.read_text().strip(), cookie):
        assert secret not in text


def test_sign_in_form_posts_from_this_site_only(
    local: tuple[str, AuthSettings], browser: Browser
) -> None:
    """The sign-in and sign-out forms are posted by the app's own pages, where the
    Referrer-Policy (no-referrer) makes Chromium send "Origin: null" beside Sec-Fetch-Site
    same-origin; another site's form (login CSRF) is refused."""
    url, _ = local
    own = {"Origin": "null", "Sec-Fetch-Site": "same-origin"}
    foreign_forms = (
        {"Origin": "null"},
        {"Origin": "null", "Sec-Fetch-Site": "cross-site"},
        {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    )
    form = {"username": "alice", "password": USERS["alice"]}
    for foreign in foreign_forms:
        refused = browser.post(f"{url}/auth/login", data=form, headers=foreign)
        assert refused.status_code == 403, foreign
        assert refused.json()["error"] == "cross_site"
    signed = browser.post(f"{url}/auth/login", data=form, headers=own)
    assert signed.status_code == 303
    assert browser.post(f"{url}/auth/logout", headers=own).status_code == 303
    assert browser.session_cookie(url) is None


def test_signed_in_answers_are_revalidated(
    local: tuple[str, AuthSettings], browser: Browser
) -> None:
    """A browser signed out must meet the gate, not its cache of the page it had signed in."""
    url, _ = local
    sign_in(browser, url, "alice", USERS["alice"])
    for path in ("/", "/app.js", "/api/settings"):
        response = browser.get(f"{url}{path}", headers={"Accept": "text/html"})
        assert response.status_code == 200, path
        assert response.headers["cache-control"] == "no-cache", path
        assert "Cookie" in response.headers["vary"], path

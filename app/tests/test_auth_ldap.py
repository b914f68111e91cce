"""Sign-in against a real OpenLDAP (slapd, ldap_server.py): LDAPS with the test CA, StartTLS,
a service account finds the user, the user's own bind checks the password, a group limits who
gets in; the directory down or untrusted gives a clear page; no password in the log."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from auth_kit import COOKIE, Browser, page_error, set_cookies, sign_in, translate, write_key
from ldap_server import (
    ALLOWED_GROUP,
    BASE,
    SERVICE_DN,
    SERVICE_PASSWORD,
    SLAPD,
    USERS,
    Slapd,
)
from ollama_sim.testing import free_port
from tls_certs import make_server_cert
from tradia.auth.ldap_directory import InvalidCredentials, LdapDirectory
from tradia.auth.settings import AuthSettings
from tradia_testkit import AppProcess, Simulator, running_app


@pytest.fixture(scope="module")
def slapd() -> Iterator[Slapd]:
    if not Path(SLAPD).exists():
        pytest.skip("no slapd (apt-get install -y slapd ldap-utils)")
    server = Slapd()
    yield server
    server.stop()


def ldap_settings(tmp: Path, slapd: Slapd, **extra: Any) -> dict[str, Any]:
    password = tmp / "bind.password"
    password.write_text(SERVICE_PASSWORD + "\n")
    values: dict[str, Any] = {
        "mode": "ldap",
        "session_key_file": write_key(tmp),
        "ldap_url": slapd.ldaps_url,
        "ldap_ca_file": slapd.tls.ca,
        "ldap_bind_dn": SERVICE_DN,
        "ldap_bind_password_file": password,
        "ldap_search_base": f"ou=people,{BASE}",
        "ldap_user_filter": "(&(objectClass=inetOrgPerson)(uid={username}))",
        "ldap_group_dn": ALLOWED_GROUP,
        "ldap_timeout": 3,
    }
    values.update(extra)
    return values


@pytest.fixture(scope="module")
def ldap_app(
    sim: Simulator, slapd: Slapd, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    auth = AuthSettings(**ldap_settings(tmp_path_factory.mktemp("ldap"), slapd))
    with running_app(sim.url, auth=auth) as url:
        yield url


@pytest.fixture
def browser() -> Iterator[Browser]:
    with Browser() as b:
        yield b


def test_member_signs_in_over_ldaps_and_out(ldap_app: str, browser: Browser) -> None:
    assert translate(browser, ldap_app).status_code == 401
    # The name as the directory spells it (uid matching ignores case): one user for jobs.
    response = sign_in(browser, ldap_app, "ALICE", USERS["alice"], "/?x=1")
    assert response.status_code == 303, page_error(response)
    assert response.headers["location"] == "/?x=1"
    session = browser.get(f"{ldap_app}/api/session").json()
    assert session["user"] == "alice"
    assert session["auth"] == "ldap"
    assert ALLOWED_GROUP in session["groups"]
    assert translate(browser, ldap_app).status_code == 200
    assert browser.post(f"{ldap_app}/auth/logout").status_code == 303
    assert translate(browser, ldap_app).status_code == 401


@pytest.mark.parametrize(
    ("user", "password"),
    [
        ("alice", "wrong"),
        ("alice", USERS["bob"]),
        ("nobody", "x"),
        # An empty password would be an "unauthenticated bind", which LDAP servers accept.
        ("alice", ""),
        # Filter injection: escaped, so these match no entry.
        ("*", USERS["alice"]),
        ("alice)(uid=*", USERS["alice"]),
    ],
)
def test_wrong_credentials_refused(
    ldap_app: str, browser: Browser, user: str, password: str
) -> None:
    response = browser.post(
        f"{ldap_app}/auth/login",
        data={"username": user, "password": password},
        headers={"X-Forwarded-For": f"192.0.2.{len(user) + len(password)}"},
    )
    assert response.status_code in (400, 401)
    assert COOKIE not in set_cookies(response)
    assert page_error(response)


def test_user_outside_the_group_refused(ldap_app: str, browser: Browser) -> None:
    response = sign_in(browser, ldap_app, "bob", USERS["bob"])
    assert response.status_code == 403
    assert "bob" in page_error(response)
    assert COOKIE not in set_cookies(response)
    assert translate(browser, ldap_app).status_code == 401
    # carol is in both groups: in.
    assert sign_in(browser, ldap_app, "carol", USERS["carol"]).status_code == 303


def test_starttls_on_plain_ldap(
    sim: Simulator, slapd: Slapd, tmp_path: Path, browser: Browser
) -> None:
    auth = AuthSettings(
        **ldap_settings(tmp_path, slapd, ldap_url=slapd.ldap_url, ldap_starttls=True)
    )
    with running_app(sim.url, auth=auth) as url:
        assert sign_in(browser, url, "carol", USERS["carol"]).status_code == 303
        assert translate(browser, url).status_code == 200


@pytest.mark.parametrize("fault", ["down", "untrusted"])
def test_directory_unreachable_or_untrusted_gives_a_clear_page(
    sim: Simulator, slapd: Slapd, tmp_path: Path, browser: Browser, fault: str
) -> None:
    if fault == "down":
        extra: dict[str, Any] = {"ldap_url": f"ldaps://localhost:{free_port()}"}
    else:
        extra = {"ldap_ca_file": make_server_cert(tmp_path, "localhost", "other").ca}
    auth = AuthSettings(**ldap_settings(tmp_path, slapd, **extra))
    with running_app(sim.url, auth=auth) as url:
        response = browser.post(
            f"{url}/auth/login",
            data={"username": "alice", "password": USERS["alice"]},
            headers={"Accept-Language": "en"},
        )
        assert response.status_code == 503
        assert "directory cannot be reached" in page_error(response)
        assert COOKIE not in set_cookies(response)


def test_no_password_in_the_log(sim: Simulator, slapd: Slapd, tmp_path: Path) -> None:
    values = ldap_settings(tmp_path, slapd)
    env = {
        "TRADIA_AUTH": "ldap",
        "TRADIA_SESSION_KEY_FILE": str(values["session_key_file"]),
        "TRADIA_LDAP_URL": slapd.ldaps_url,
        "TRADIA_LDAP_CA_FILE": str(slapd.tls.ca),
        "TRADIA_LDAP_BIND_DN": SERVICE_DN,
        "TRADIA_LDAP_BIND_PASSWORD_FILE": str(values["ldap_bind_password_file"]),
        "TRADIA_LDAP_SEARCH_BASE": values["ldap_search_base"],
        "TRADIA_LDAP_GROUP_DN": ALLOWED_GROUP,
        "TRADIA_LOG_LEVEL": "DEBUG",
    }
    log = tmp_path / "app.log"
    with AppProcess(sim.url, log, **env) as app, Browser() as browser:
        assert sign_in(browser, app.url, "alice", "wrong-ldap-canary").status_code == 401
        assert sign_in(browser, app.url, "bob", USERS["bob"]).status_code == 403
        assert sign_in(browser, app.url, "alice", USERS["alice"]).status_code == 303
        assert translate(browser, app.url).status_code == 200
    text = log.read_text()
    events = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    assert any(e["event"] == "signed_in" and e["user"] == "alice" for e in events)
    for secret in (SERVICE_PASSWORD, USERS["alice"], USERS["bob"], "wrong-ldap-canary"):
        assert secret not in text


def test_settings_need_a_url_base_and_filter(tmp_path: Path) -> None:
    key = write_key(tmp_path)
    with pytest.raises(ValueError, match="ldap:// or ldaps://"):
        AuthSettings(mode="ldap", session_key_file=key, ldap_url="http://x", ldap_search_base=BASE)
    with pytest.raises(ValueError, match="contain \\{username\\}"):
        AuthSettings(
            mode="ldap",
            session_key_file=key,
            ldap_url="ldaps://x",
            ldap_search_base=BASE,
            ldap_user_filter="(uid=alice)",
        )


def test_empty_password_never_reaches_the_directory(slapd: Slapd, tmp_path: Path) -> None:
    """Some directories (AD among them) accept a DN with an empty password as an
    "unauthenticated bind": the form refuses it, and so does the directory module itself."""
    directory = LdapDirectory(AuthSettings(**ldap_settings(tmp_path, slapd)))
    with pytest.raises(InvalidCredentials):
        directory.authenticate("alice", "")
    assert directory.authenticate("alice", USERS["alice"]).name == "alice"

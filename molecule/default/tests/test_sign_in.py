"""Sign-in against a real identity provider and directory (app_server_auth oidc, then ldap).

LemonLDAP::NG and OpenLDAP (images/lemonldap) run in a container beside the lab, on its network,
with a certificate from a CA of this test; the app server is reconverged in oidc mode, then in
ldap mode, then back to the lab's basic mode for the files that follow (file order). The secrets
are drawn here and reach the play through an extra-vars file, never a command line.
"""

import base64
import html
import json
import secrets
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from itsdangerous import TimestampSigner

from app.tests.tls_certs import make_server_cert
from conftest import ARTIFACTS, on_controller_docker, run_playbook, wait_until

IDP_IMAGE = "tradia/lemonldap:bookworm"
IDP_CONTAINER = "tradia-molecule-idp"
IDP_NAME = "idp.tradia.test"
ISSUER = f"https://{IDP_NAME}"
NETWORK = "tradia-molecule-default"
BASE_DN = "dc=tradia,dc=test"
COOKIE = "tradia_session"
PROVIDER = "LemonLDAP::NG (lab)"


@dataclass(frozen=True)
class Idp:
    address: str
    ca: Path
    passwords: dict[str, str]
    client_secret: str


@dataclass
class Mode:
    """The app server as one converge left it: its play's output (-vvv) and its secrets."""

    output: str
    secrets: dict[str, str]


def _secret() -> str:
    return secrets.token_hex(24)


@pytest.fixture(scope="module")
def idp(tmp_path_factory: pytest.TempPathFactory, app_url: str) -> Iterator[Idp]:
    found = subprocess.run(["docker", "image", "inspect", IDP_IMAGE], capture_output=True)
    assert found.returncode == 0, f"{IDP_IMAGE} is missing: scripts/build-images.sh lemonldap"
    folder = tmp_path_factory.mktemp("idp")
    cert = make_server_cert(folder, host=IDP_NAME, label="lab identity provider")
    tls = folder / "tls"
    tls.mkdir()
    (tls / "cert.pem").write_bytes(cert.cert.read_bytes())
    (tls / "key.pem").write_bytes(cert.key.read_bytes())
    passwords = {"alice": _secret(), "bob": _secret(), "service": _secret()}
    client_secret = _secret()
    files = folder / "secrets"
    files.mkdir()
    for name, value in {**passwords, "client_secret": client_secret}.items():
        (files / name).write_text(value)
    for path in [folder, tls, files, *tls.iterdir(), *files.iterdir()]:
        # The portal (www-data) and slapd (openldap) read them inside the container.
        path.chmod(0o755 if path.is_dir() else 0o644)
    on_controller_docker("rm", "-f", IDP_CONTAINER)
    on_controller_docker(
        "run", "-d", "--name", IDP_CONTAINER, "--network", NETWORK, "--network-alias", IDP_NAME,
        "--label", "owner=molecule",
        "-v", f"{tls}:/etc/tradia-idp/tls:ro", "-v", f"{files}:/run/secrets/idp:ro",
        "-e", f"IDP_ISSUER={ISSUER}", "-e", "IDP_CLIENT_ID=tradia",
        "-e", "IDP_CLIENT_SECRET_FILE=/run/secrets/idp/client_secret",
        "-e", f"IDP_REDIRECT_URIS={app_url}/auth/callback",
        "-e", f"IDP_POST_LOGOUT_REDIRECT_URIS={app_url}/auth/login",
        "-e", "IDP_ALICE_PASSWORD_FILE=/run/secrets/idp/alice",
        "-e", "IDP_BOB_PASSWORD_FILE=/run/secrets/idp/bob",
        "-e", "IDP_SERVICE_PASSWORD_FILE=/run/secrets/idp/service",
        IDP_IMAGE,
    )  # fmt: skip
    try:
        wait_until(lambda: _idp_health() == "healthy", "the identity provider is healthy", 120)
        networks = json.loads(
            on_controller_docker(
                "inspect", "-f", "{{json .NetworkSettings.Networks}}", IDP_CONTAINER
            ).stdout
        )
        address = networks[NETWORK]["IPAddress"]
        yield Idp(address, cert.ca, passwords, client_secret)
    finally:
        subprocess.run(["docker", "rm", "-f", IDP_CONTAINER], capture_output=True)


def _idp_health() -> str:
    return on_controller_docker(
        "inspect", "-f", "{{.State.Health.Status}}", IDP_CONTAINER
    ).stdout.strip()


def _converge(tmp: Path, extra: dict[str, Any] | None) -> str:
    """app_server.yml with these variables over the lab's (none: the lab's own), -vvv."""
    args = ["-vvv"]
    if extra is not None:
        variables = tmp / "sign-in-vars.json"
        variables.write_text(json.dumps(extra))
        variables.chmod(0o600)
        args += ["-e", f"@{variables}"]
    run = run_playbook("app_server.yml", *args)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-3000:]
    return run.stdout + run.stderr


@pytest.fixture(scope="module")
def restore_basic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[], str]]:
    """The lab's basic mode back, once, even when a test of this file failed on the way."""
    done: list[str] = []

    def restore() -> str:
        if not done:
            done.append(_converge(tmp_path_factory.mktemp("basic"), None))
        return done[0]

    yield restore
    restore()


def _session_vars(idp: Idp) -> dict[str, Any]:
    return {
        # Each of these modes is refused with users (the directory or provider says who).
        "app_server_users": [],
        "app_server_session_key": _secret(),
        "app_server_app_hosts": {IDP_NAME: idp.address},
    }


@pytest.fixture(scope="module")
def oidc(idp: Idp, tmp_path_factory: pytest.TempPathFactory, restore_basic) -> Mode:
    variables = _session_vars(idp) | {
        "app_server_auth": "oidc",
        "app_server_oidc_issuer": ISSUER,
        "app_server_oidc_client_id": "tradia",
        "app_server_oidc_client_secret": idp.client_secret,
        "app_server_oidc_ca_file": str(idp.ca),
        "app_server_oidc_allowed_groups": ["translators"],
        "app_server_oidc_provider_name": PROVIDER,
    }
    output = _converge(tmp_path_factory.mktemp("oidc"), variables)
    return Mode(
        output,
        {
            "client secret": idp.client_secret,
            "session key": variables["app_server_session_key"],
        },
    )


@pytest.fixture(scope="module")
def ldap(idp: Idp, tmp_path_factory: pytest.TempPathFactory, restore_basic) -> Mode:
    variables = _session_vars(idp) | {
        "app_server_auth": "ldap",
        "app_server_ldap_url": f"ldaps://{IDP_NAME}:636",
        "app_server_ldap_ca_file": str(idp.ca),
        "app_server_ldap_bind_dn": f"uid=svc-tradia,ou=services,{BASE_DN}",
        "app_server_ldap_bind_password": idp.passwords["service"],
        "app_server_ldap_user_base": f"ou=users,{BASE_DN}",
        "app_server_ldap_user_filter": "(uid={username})",
        "app_server_ldap_group_dn": f"cn=translators,ou=groups,{BASE_DN}",
    }
    output = _converge(tmp_path_factory.mktemp("ldap"), variables)
    return Mode(
        output,
        {
            "bind password": idp.passwords["service"],
            "session key": variables["app_server_session_key"],
        },
    )


@contextmanager
def _browser(idp: Idp, name: str) -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=[
                "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                # The provider's name, as the organisation's DNS would answer it.
                f"--host-resolver-rules=MAP {IDP_NAME} {idp.address}",
            ],
        )  # fmt: skip
        # Chromium has no store for the test CAs; the chains are checked by the app (back
        # channel) and test_default.py (the app's certificate).
        context = browser.new_context(
            ignore_https_errors=True, locale="fr-FR", viewport={"width": 1280, "height": 900}
        )
        page = context.new_page()
        page.set_default_timeout(90000)
        try:
            yield page
        finally:
            page.screenshot(path=str(ARTIFACTS / f"sign-in-{name}.png"), full_page=True)
            browser.close()


def _provider_form(page: Any, user: str, password: str) -> None:
    """The provider's own login form (LemonLDAP::NG's portal)."""
    page.wait_for_selector("input[name=password]")
    assert page.url.startswith(ISSUER), page.url
    page.fill("input[name=user]", user)
    page.fill("input[name=password]", password)
    page.press("input[name=password]", "Enter")


def test_oidc_signs_in_at_the_provider_translates_and_signs_out(oidc: Mode, idp: Idp, app_url):
    with _browser(idp, "oidc") as page:
        page.goto(app_url)
        page.wait_for_url("**/auth/login**")
        page.click("#signin-provider")
        _provider_form(page, "alice", idp.passwords["alice"])
        page.wait_for_selector("#session:not([hidden])")
        assert "alice" in page.text_content("#session-user")
        cookie = next(c for c in page.context.cookies() if c["name"] == COOKIE)
        assert (cookie["secure"], cookie["httpOnly"], cookie["sameSite"]) == (True, True, "Lax")

        page.wait_for_function("() => document.querySelectorAll('#model-select option').length > 0")
        page.fill("#tr-input", "Bonjour, merci pour votre message.")
        page.select_option("#tr-target", "en")
        page.click("#tr-run")
        page.wait_for_function(
            "() => document.querySelector('#tr-status').textContent.startsWith('Terminé')"
        )
        assert page.text_content("#tr-output").strip()

        # Signing out ends the provider's session too: the next visit meets its form again.
        page.click("#session button")
        page.wait_for_url(f"{app_url}/auth/login**")
        assert not any(c["name"] == COOKIE for c in page.context.cookies())
        page.goto(app_url)
        page.wait_for_url("**/auth/login**")
        page.click("#signin-provider")
        page.wait_for_selector("input[name=password]")
        assert page.url.startswith(ISSUER), "signed out, yet the provider signed alice in again"


def test_oidc_refuses_a_user_outside_the_allowed_group(oidc: Mode, idp: Idp, app_url):
    with _browser(idp, "oidc-refused") as page:
        page.goto(f"{app_url}/auth/login")
        page.click("#signin-provider")
        _provider_form(page, "bob", idp.passwords["bob"])
        page.wait_for_url(f"{app_url}/auth/callback**")
        body = page.text_content("body")
        assert "(bob) n'appartient pas aux groupes autorisés" in body, body
        session = page.request.get(f"{app_url}/api/session")
        assert session.status == 401


def _cookie(key: str, payload: dict[str, Any], age: float = 0) -> str:
    """A session cookie as the app's SessionMiddleware signs it (itsdangerous), made `age`
    seconds ago."""

    class Then(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time() - age)

    data = base64.b64encode(json.dumps(payload).encode())
    return Then(key).sign(data).decode()


def _session_status(client: httpx.Client, cookie: str) -> int:
    return client.get("/api/session", cookies={COOKIE: cookie}).status_code


def test_forged_tampered_and_expired_cookies_are_refused(oidc: Mode, app_url, tls_context):
    key = oidc.secrets["session key"]
    now = time.time()
    alice = {"user": "alice", "groups": ["translators"], "login": now, "seen": now}
    with httpx.Client(base_url=app_url, verify=tls_context, timeout=30) as client:
        # The form the app signs is understood: this one gets in (what the refusals are against).
        assert _session_status(client, _cookie(key, alice)) == 200
        assert _session_status(client, _cookie(_secret(), alice)) == 401, "forged (another key)"
        # itsdangerous's form: payload.timestamp.signature; another payload, the same signature.
        _, timestamp, signature = _cookie(key, alice).rsplit(".", 2)
        admin = base64.b64encode(json.dumps(alice | {"user": "admin"}).encode()).decode()
        tampered = f"{admin}.{timestamp}.{signature}"
        assert _session_status(client, tampered) == 401, "tampered (another user, same signature)"
        idle = 121 * 60  # past app_server_session_idle_minutes (120)
        assert _session_status(client, _cookie(key, alice, age=idle)) == 401, "expired (idle)"
        old = alice | {"login": now - 13 * 3600}  # past app_server_session_max_hours (12)
        assert _session_status(client, _cookie(key, old)) == 401, "expired (absolute lifetime)"


def test_provider_down_new_visitors_are_told_open_sessions_keep_working(
    oidc: Mode, idp: Idp, app_url, tls_context
):
    key = oidc.secrets["session key"]
    now = time.time()
    open_session = _cookie(
        key, {"user": "alice", "groups": ["translators"], "login": now, "seen": now}
    )
    on_controller_docker("stop", IDP_CONTAINER)
    try:
        with httpx.Client(base_url=app_url, verify=tls_context, timeout=60) as client:
            start = client.get("/auth/oidc/start", headers={"Accept-Language": "en"})
            assert start.status_code == 503, start.text[:2000]
            assert (
                f"{PROVIDER}) cannot be reached" in start.text or "cannot be reached" in start.text
            )
            assert _session_status(client, open_session) == 200
            with client.stream(
                "POST", "/api/translate", cookies={COOKIE: open_session},
                json={"text": "Bonjour.", "target": "en"},
            ) as answer:  # fmt: skip
                assert answer.status_code == 200
                events = [json.loads(line) for line in answer.iter_lines() if line.strip()]
            assert events[-1]["type"] == "done", events[-3:]
    finally:
        on_controller_docker("start", IDP_CONTAINER)
        wait_until(lambda: _idp_health() == "healthy", "the identity provider is back", 120)


def _no_secret_anywhere(mode: Mode, app_server) -> None:
    places = {
        "ansible-playbook -vvv": mode.output,
        "docker inspect": app_server.check_output("docker inspect tradia-app tradia-app-traefik"),
        "the process list": app_server.check_output("ps auxwwe"),
        "the app's log": app_server.run("docker logs tradia-app 2>&1").stdout,
        "Traefik's log": app_server.run("docker logs tradia-app-traefik 2>&1").stdout,
        "the journal": app_server.run("journalctl --no-pager -q").stdout,
    }
    leaks = [
        f"{secret} in {place}"
        for secret, value in mode.secrets.items()
        for place, text in places.items()
        if value in text
    ]
    assert not leaks, leaks


def test_oidc_secrets_appear_in_no_log_process_list_or_inspect(oidc: Mode, app_server):
    _no_secret_anywhere(oidc, app_server)


def _sign_in_form(client: httpx.Client, user: str, password: str) -> httpx.Response:
    form = client.get("/auth/login")
    assert form.status_code == 200
    assert 'name="password"' in form.text
    return client.post("/auth/login", data={"username": user, "password": password, "next": "/"})


def test_ldap_signs_in_against_the_directory_and_refuses_a_wrong_password(
    ldap: Mode, idp: Idp, app_url, tls_context
):
    with httpx.Client(base_url=app_url, verify=tls_context, timeout=30) as client:
        wrong = _sign_in_form(client, "alice", "not-her-password")
        assert wrong.status_code == 401
        assert "incorrect" in wrong.text
        assert COOKIE not in client.cookies
        refused = _sign_in_form(client, "bob", idp.passwords["bob"])
        assert "(bob) n'appartient pas aux groupes" in html.unescape(refused.text), refused.text
        assert COOKIE not in client.cookies
        signed_in = _sign_in_form(client, "alice", idp.passwords["alice"])
        assert signed_in.status_code == 303, signed_in.text[:2000]
        session = client.get("/api/session")
        assert session.status_code == 200
        # LDAP names groups by their DN (the group the inventory requires among them).
        assert session.json() == {
            "user": "alice",
            "groups": [f"cn=translators,ou=groups,{BASE_DN}"],
            "auth": "ldap",
        }


def test_ldap_secrets_appear_in_no_log_process_list_or_inspect(ldap: Mode, app_server):
    _no_secret_anywhere(ldap, app_server)


def test_back_to_basic_mode_the_app_has_no_way_out_and_no_secret_left(
    restore_basic, app_server, client
):
    restore_basic()
    networks = json.loads(
        app_server.check_output("docker inspect -f '{{json .NetworkSettings.Networks}}' tradia-app")
    )
    assert list(networks) == ["tradia_app"]
    assert app_server.run("docker network inspect tradia_app_egress").rc != 0
    left = app_server.run("find /etc/tradia/app/auth -type f").stdout.split()
    assert not left, left
    assert client.get("/api/session").status_code == 200

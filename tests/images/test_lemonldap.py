"""tradia/lemonldap:bookworm as the test bed runs it: LemonLDAP::NG as an OpenID Connect provider
on its slapd, on a private network under the name the app will use, HTTPS with a certificate of
our own CA, and a relying party signing users in with the authorization code flow and PKCE.

The client is httpx, speaking to the container's address but naming the provider's host (Host
header, SNI, certificate check), as a browser behind the test bed's DNS would; id_tokens are
checked against the provider's JWKS with joserfc."""

import base64
import hashlib
import ipaddress
import json
import secrets
import ssl
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx
import pytest
from docker_cli import docker, inspect, remove, wait_healthy
from joserfc import jwt
from joserfc.jwk import KeySet
from ldap3 import AUTO_BIND_TLS_BEFORE_BIND, SUBTREE, Connection, Server, Tls
from ldap3.core.exceptions import LDAPBindError

from app.tests.tls_certs import make_server_cert

pytestmark = pytest.mark.docker

CONTEXT = Path(__file__).parents[2] / "images" / "lemonldap"
BASE_IMAGE = "tradia/debian:bookworm"
IMAGE = "tradia/lemonldap:test"
HOST = "idp.tradia.test"
ISSUER = f"https://{HOST}"
CLIENT_ID = "tradia-test"
REDIRECT_URI = "https://app.tradia.test/auth/callback"
POST_LOGOUT_URI = "https://app.tradia.test/"
SERVICE_DN = "uid=svc-tradia,ou=services,dc=tradia,dc=test"
SERVICE_PASSWORD = "svc-" + secrets.token_urlsafe(12)
PASSWORDS = {
    "alice": "alice-" + secrets.token_urlsafe(12),
    "bob": "bob-" + secrets.token_urlsafe(12),
}


@dataclass
class Provider:
    name: str
    address: str
    ca: Path
    client_secret: str
    discovery: dict[str, Any]

    def client(self) -> httpx.Client:
        """A fresh browser: no cookies, redirects followed by the test, one step at a time."""
        return httpx.Client(
            transport=PinnedHost(
                HOST, self.address, verify=ssl.create_default_context(cafile=self.ca)
            ),
            follow_redirects=False,
            timeout=30,
        )


class PinnedHost(httpx.HTTPTransport):
    """Sends requests for `host` to `address`, keeping the host name for Host, SNI and the
    certificate check: the test machine cannot resolve the test bed's names."""

    def __init__(self, host: str, address: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.host = host
        self.address = address

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == self.host:
            # A new request: the client keeps the original one (its cookies' domain) as the
            # response's request.
            request = httpx.Request(
                request.method,
                request.url.copy_with(host=self.address),
                headers=request.headers,
                stream=request.stream,
                extensions={**request.extensions, "sni_hostname": self.host},
            )
        return super().handle_request(request)


class Forms(HTMLParser):
    """The <form>s of a page: action and the inputs' names and values."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append(
                {"action": values.get("action", ""), "id": values.get("id"), "fields": {}}
            )
        elif tag == "input" and self.forms and values.get("name"):
            self.forms[-1]["fields"][values["name"]] = values.get("value", "")


def login_form(page: httpx.Response) -> dict[str, Any]:
    parser = Forms()
    parser.feed(page.text)
    forms = [form for form in parser.forms if {"user", "password"} <= form["fields"].keys()]
    assert forms, f"no login form on {page.url} ({page.status_code}):\n{page.text[:2000]}"
    return forms[0]


def write_certificates(folder: Path) -> Path:
    """A CA and the provider's certificate for HOST (the app tests' builder), laid out as the
    image expects them: tls/cert.pem and tls/key.pem; returns the CA file."""
    tls = folder / "tls"
    tls.mkdir()
    paths = make_server_cert(tls, host=HOST, label="idp")
    paths.cert.rename(tls / "cert.pem")
    paths.key.rename(tls / "key.pem")
    # The container's root copies the files; the bind mount keeps the host's modes.
    (tls / "key.pem").chmod(0o644)
    return paths.ca.rename(folder / "ca.pem")


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    docker("build", "--build-arg", f"BASE_IMAGE={BASE_IMAGE}", "-t", IMAGE, str(CONTEXT))
    folder = tmp_path_factory.mktemp("lemonldap")
    ca = write_certificates(folder)
    client_secret = secrets.token_urlsafe(24)
    # The client secret through a file (IDP_CLIENT_SECRET_FILE), the passwords as variables:
    # both ways the image documents.
    (folder / "client_secret").write_text(client_secret + "\n")
    (folder / "client_secret").chmod(0o644)
    suffix = uuid.uuid4().hex[:8]
    network, name = f"tradia-idptest-{suffix}", f"tradia-idptest-{suffix}"
    try:
        docker("network", "create", network)
        docker(
            "run", "-d", "--name", name, "--network", network, "--network-alias", HOST,
            "-v", f"{folder / 'tls'}:/etc/tradia-idp/tls:ro",
            "-v", f"{folder / 'client_secret'}:/run/secrets/client_secret:ro",
            "-e", f"IDP_ISSUER={ISSUER}",
            "-e", f"IDP_CLIENT_ID={CLIENT_ID}",
            "-e", "IDP_CLIENT_SECRET_FILE=/run/secrets/client_secret",
            "-e", f"IDP_REDIRECT_URIS={REDIRECT_URI}",
            "-e", f"IDP_POST_LOGOUT_REDIRECT_URIS={POST_LOGOUT_URI}",
            "-e", f"IDP_ALICE_PASSWORD={PASSWORDS['alice']}",
            "-e", f"IDP_BOB_PASSWORD={PASSWORDS['bob']}",
            "-e", f"IDP_SERVICE_PASSWORD={SERVICE_PASSWORD}",
            IMAGE,
        )  # fmt: skip
        wait_healthy(name, seconds=180)
        address = inspect(name)["NetworkSettings"]["Networks"][network]["IPAddress"]
        ipaddress.ip_address(address)  # a real address, or the inspect layout changed
        bare = Provider(name, address, ca, client_secret, {})
        with bare.client() as client:
            answer = client.get(f"{ISSUER}/.well-known/openid-configuration")
        # Without the OIDC issuer, the portal answers this path with its HTML login page.
        kind = answer.headers.get("content-type", "")
        assert (answer.status_code, kind.split(";")[0]) == (200, "application/json"), (
            answer.status_code,
            kind,
            answer.text[:500],
        )
        bare.discovery = answer.json()
        yield bare
    finally:
        remove(name, network=network)


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize_url(provider: Provider, state: str, nonce: str, challenge: str | None) -> str:
    params = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid profile email groups",
        "state": state,
        "nonce": nonce,
    }
    if challenge is not None:
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    return f"{provider.discovery['authorization_endpoint']}?{urlencode(params)}"


def follow_to_app(client: httpx.Client, response: httpx.Response) -> httpx.Response:
    """Follows the provider's own redirects; stops at the first one leaving it (to the app)."""
    for _ in range(10):
        location = response.headers.get("location")
        if response.status_code not in (301, 302, 303, 307, 308) or location is None:
            return response
        target = urljoin(str(response.url), location)
        if urlsplit(target).hostname != HOST:
            return response
        response = client.get(target)
    raise AssertionError(f"redirect loop at {response.url}")


def sign_in(
    client: httpx.Client, provider: Provider, user: str, password: str, challenge: str | None
) -> tuple[httpx.Response, str, str]:
    """The browser's part: the authorization request, the portal's form posted with the user's
    credentials. Returns the last response (a redirect to the app when it worked), state, nonce."""
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    url = authorize_url(provider, state, nonce, challenge)
    page = client.get(url)
    assert page.status_code == 200, f"{page.status_code}: {page.text[:2000]}"
    form = login_form(page)
    fields = form["fields"] | {"user": user, "password": password}
    action = urljoin(url, form["action"]) if form["action"] not in ("", "#") else url
    return follow_to_app(client, client.post(action, data=fields)), state, nonce


def code_from(response: httpx.Response, state: str) -> str:
    location = response.headers.get("location", "")
    redirected = (response.status_code, location.startswith(REDIRECT_URI + "?"))
    assert redirected == (302, True), (
        f"{response.status_code} {location!r}:\n{response.text[:2000]}"
    )
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == [state]
    return query["code"][0]


def redeem(provider: Provider, code: str, verifier: str | None) -> httpx.Response:
    """The app's back channel: its own client (no browser cookie), authenticated by its secret."""
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    if verifier is not None:
        data["code_verifier"] = verifier
    with provider.client() as app:
        return app.post(
            provider.discovery["token_endpoint"],
            data=data,
            auth=(CLIENT_ID, provider.client_secret),
        )


def verified_claims(provider: Provider, id_token: str, nonce: str) -> dict[str, Any]:
    """The id_token's claims, once its RS256 signature is checked with the provider's JWKS."""
    with provider.client() as app:
        jwks = app.get(provider.discovery["jwks_uri"])
    assert jwks.status_code == 200, jwks.text
    token = jwt.decode(id_token, KeySet.import_key_set(jwks.json()), algorithms=["RS256"])
    assert token.header["alg"] == "RS256"
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": ISSUER},
        aud={"essential": True, "value": CLIENT_ID},
        nonce={"essential": True, "value": nonce},
        exp={"essential": True},
    ).validate(token.claims)
    return token.claims


def signed_in_claims(provider: Provider, user: str) -> tuple[httpx.Client, dict[str, Any], str]:
    """A browser signed in as `user` (returned open), the verified id_token's claims, the token."""
    browser = provider.client()
    verifier, challenge = pkce_pair()
    response, state, nonce = sign_in(browser, provider, user, PASSWORDS[user], challenge)
    tokens = redeem(provider, code_from(response, state), verifier)
    assert tokens.status_code == 200, tokens.text
    id_token = tokens.json()["id_token"]
    return browser, verified_claims(provider, id_token, nonce), id_token


def test_discovery_names_the_issuer_and_offers_s256(provider: Provider) -> None:
    meta = provider.discovery
    assert meta["issuer"] == ISSUER
    for endpoint in (
        "authorization_endpoint",
        "token_endpoint",
        "jwks_uri",
        "end_session_endpoint",
    ):
        assert meta[endpoint].startswith(ISSUER + "/"), (endpoint, meta.get(endpoint))
    assert "S256" in meta["code_challenge_methods_supported"]
    assert "RS256" in meta["id_token_signing_alg_values_supported"]
    assert "code" in meta["response_types_supported"]


def test_alice_signs_in_with_pkce_and_is_a_translator(provider: Provider) -> None:
    client, claims, _ = signed_in_claims(provider, "alice")
    client.close()
    assert claims["preferred_username"] == "alice"
    assert claims["sub"] == "alice"
    assert "translators" in claims["groups"], claims
    assert claims["email"] == "alice@tradia.test"


def test_bob_is_not_a_translator(provider: Provider) -> None:
    client, claims, _ = signed_in_claims(provider, "bob")
    client.close()
    assert claims["preferred_username"] == "bob"
    # His one group, a list even with one value: a claim the app can test membership in.
    assert claims["groups"] == ["other"], claims
    assert "translators" not in claims["groups"]


def test_a_wrong_password_is_refused(provider: Provider) -> None:
    with provider.client() as client:
        _, challenge = pkce_pair()
        response, _, _ = sign_in(client, provider, "alice", PASSWORDS["alice"] + "x", challenge)
        assert not response.headers.get("location", "").startswith(REDIRECT_URI), response.headers
        assert response.status_code == 200, response.status_code
        # The portal answers with its form again, and no session cookie.
        login_form(response)
        assert "lemonldap" not in client.cookies


def test_the_code_needs_its_pkce_verifier(provider: Provider) -> None:
    with provider.client() as client:
        _, challenge = pkce_pair()
        response, state, _ = sign_in(client, provider, "alice", PASSWORDS["alice"], challenge)
        code = code_from(response, state)
        stolen = redeem(provider, code, pkce_pair()[0])
        assert stolen.status_code == 400, stolen.text
        assert stolen.json()["error"] == "invalid_grant", stolen.text


def test_an_authorization_request_without_pkce_is_refused(provider: Provider) -> None:
    with provider.client() as client:
        response, _, _ = sign_in(client, provider, "alice", PASSWORDS["alice"], None)
        location = response.headers.get("location", "")
        # An OAuth error sent back to the app, never a code.
        query = parse_qs(urlsplit(location).query)
        assert "code" not in query, location
        assert query.get("error") == ["invalid_request"], (response.status_code, location)


def test_end_session_signs_the_user_out(provider: Provider) -> None:
    client, _, id_token = signed_in_claims(provider, "alice")
    try:
        # Signed in: a second authorization request gets a code at once, without the form.
        state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        again = follow_to_app(
            client, client.get(authorize_url(provider, state, nonce, pkce_pair()[1]))
        )
        code_from(again, state)
        logout_state = secrets.token_urlsafe(16)
        query = {
            "id_token_hint": id_token,
            "post_logout_redirect_uri": POST_LOGOUT_URI,
            "state": logout_state,
        }
        bye = follow_to_app(
            client, client.get(f"{provider.discovery['end_session_endpoint']}?{urlencode(query)}")
        )
        location = bye.headers.get("location", "")
        redirected = (bye.status_code, location.startswith(POST_LOGOUT_URI))
        assert redirected == (302, True), (location, bye.text[:1000])
        assert parse_qs(urlsplit(location).query).get("state") == [logout_state]
        # Signed out: the same browser is asked for its password again.
        page = client.get(authorize_url(provider, secrets.token_urlsafe(16), nonce, pkce_pair()[1]))
        assert page.status_code == 200, (page.status_code, page.headers.get("location"))
        login_form(page)
    finally:
        client.close()


def ldap_server(provider: Provider, *, ldaps: bool) -> Server:
    """slapd as the app's LDAP mode reaches it: LDAPS on 636, or 389 for StartTLS, our CA."""
    tls = Tls(
        ca_certs_file=str(provider.ca), validate=ssl.CERT_REQUIRED, valid_names=[HOST], sni=HOST
    )
    return Server(provider.address, port=636 if ldaps else 389, use_ssl=ldaps, tls=tls)


def test_the_directory_answers_over_ldaps_and_starttls(provider: Provider) -> None:
    # The service account, over LDAPS: finds alice and her group (what the LDAP backend does).
    with Connection(
        ldap_server(provider, ldaps=True), SERVICE_DN, SERVICE_PASSWORD, auto_bind=True
    ) as service:
        service.search("ou=users,dc=tradia,dc=test", "(uid=alice)", attributes=["uid", "mail"])
        [alice] = service.entries
        service.search(
            "ou=groups,dc=tradia,dc=test",
            f"(member={alice.entry_dn})",
            search_scope=SUBTREE,
            attributes=["cn"],
        )
        assert [group.cn.value for group in service.entries] == ["translators"]
        # No password hash is readable, even by the service account.
        service.search("ou=users,dc=tradia,dc=test", "(uid=bob)", attributes=["userPassword"])
        assert service.entries[0].entry_attributes_as_dict == {"userPassword": []}
    # alice, over StartTLS before the bind: her password binds, a wrong one does not.
    plain = ldap_server(provider, ldaps=False)
    starttls = AUTO_BIND_TLS_BEFORE_BIND
    with Connection(plain, alice.entry_dn, PASSWORDS["alice"], auto_bind=starttls) as user:
        assert user.extend.standard.who_am_i() == f"dn:{alice.entry_dn}"
    with pytest.raises(LDAPBindError, match="invalidCredentials"):
        Connection(plain, alice.entry_dn, PASSWORDS["alice"] + "x", auto_bind=starttls)
    # Anonymous clients may bind but read nothing.
    with Connection(plain, auto_bind=True) as anonymous:
        anonymous.search("dc=tradia,dc=test", "(uid=*)")
        assert anonymous.entries == []


def test_no_secret_in_logs_processes_or_inspect(provider: Provider) -> None:
    # What a person with `docker` access sees, after the sign-ins above.
    logs = subprocess.run(
        ["docker", "logs", provider.name], capture_output=True, text=True, check=True, timeout=60
    )
    # Every process's command line (the image has no ps).
    processes = docker(
        "exec", provider.name, "sh", "-c",
        r'for f in /proc/[0-9]*/cmdline; do tr "\0" " " <"$f"; echo; done',
    )  # fmt: skip
    assert "slapd" in processes, processes
    assert "llng-fastcgi-server" in processes, processes
    seen = {"logs": logs.stdout + logs.stderr, "command lines": processes}
    for where, text in seen.items():
        for secret in (provider.client_secret, SERVICE_PASSWORD, *PASSWORDS.values()):
            assert secret not in text, f"a secret in the container's {where}"
    # The client secret came from a file: not in the container's definition either.
    assert provider.client_secret not in json.dumps(inspect(provider.name))
    # The plain copies the entry script made are gone once it has configured the provider.
    leftovers = docker("exec", provider.name, "ls", "-A", "/run/tradia-idp")
    assert leftovers.split() == ["tls"], leftovers

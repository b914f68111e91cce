"""A small OpenID Connect provider for the OIDC sign-in tests, built on Authlib's server-side
components (AuthorizationServer, the authorization code grant with PKCE required, the OpenID
Connect code extension): discovery, an authorization endpoint that approves the configured
user at once, a token endpoint (client_secret_basic/post), JWKS, userinfo and end_session.
Served over HTTPS (a test CA) by uvicorn in a thread.

Knobs for the refusal tests: `user` (name, groups), `down` (every endpoint 503), `tamper`
(the id_token signed by a key not in the JWKS, for another audience or issuer, expired, or with
another nonce), `lean_id_token` (claims in userinfo only), and what it saw (`authorize_params`,
`logouts`).
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import uvicorn
from authlib.oauth2.rfc6749 import AuthorizationServer, ClientMixin, OAuth2Request, TokenMixin
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import OpenIDCode, UserInfo
from authlib.oidc.core.models import AuthorizationCodeMixin
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from tls_certs import make_server_cert

CLIENT_ID = "tradia"


@dataclass
class Person:
    name: str
    groups: list[str]


@dataclass
class Client(ClientMixin):
    client_id: str
    client_secret: str
    redirect_uris: list[str]

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in scope.split() if s in ("openid", "profile", "email", "groups"))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class Code(AuthorizationCodeMixin):
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: Person
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    issued: float = field(default_factory=time.time)

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return int(self.issued)

    def get_acr(self) -> str:
        return ""

    def get_amr(self) -> list[str]:
        return []


@dataclass
class Token(TokenMixin):
    access_token: str
    user: Person
    scope: str


class _Request(OAuth2Request):
    def __init__(self, method: str, uri: str, query: dict[str, str], form: dict[str, str],
                 headers: Any) -> None:  # fmt: skip
        super().__init__(method, uri, headers=headers)
        self._query, self._form = query, form
        self.payload = BasicOAuth2Payload({**query, **form})

    @property
    def args(self) -> dict[str, str]:
        return self._query

    @property
    def form(self) -> dict[str, str]:
        return self._form


class OidcTestProvider:
    def __init__(self, directory: Path) -> None:
        self.tls = make_server_cert(directory, "localhost", "oidc")
        self.port = 0
        self.issuer = ""
        self.client = Client(CLIENT_ID, secrets.token_urlsafe(24), [])
        self.user = Person("alice", ["tradia-users"])
        self.key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
        self.foreign_key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
        self.down = False
        self.tamper: str | None = None
        # As LemonLDAP::NG by default: the id_token has only `sub`, the rest is in userinfo.
        self.lean_id_token = False
        self.authorize_params: list[dict[str, str]] = []
        self.logouts: list[dict[str, str]] = []
        self.tokens_issued = 0
        self._codes: dict[str, Code] = {}
        self._tokens: dict[str, Token] = {}
        self.server = self._authorization_server()
        app = Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self.discovery),
                Route("/jwks", self.jwks),
                Route("/authorize", self.authorize),
                Route("/token", self.token, methods=["POST"]),
                Route("/userinfo", self.userinfo),
                Route("/logout", self.logout),
            ]
        )
        app.add_middleware(_DownSwitch, provider=self)  # type: ignore[arg-type]
        config = uvicorn.Config(
            app, host="127.0.0.1", port=0, log_level="warning", lifespan="off",
            ssl_certfile=str(self.tls.cert), ssl_keyfile=str(self.tls.key),
        )  # fmt: skip
        self._uvicorn = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._uvicorn.run, daemon=True)

    # --- lifecycle ---
    def __enter__(self) -> OidcTestProvider:
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._uvicorn.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the test OIDC provider did not start")
            time.sleep(0.02)
        self.port = self._uvicorn.servers[0].sockets[0].getsockname()[1]
        self.issuer = f"https://localhost:{self.port}"
        return self

    def __exit__(self, *_: object) -> None:
        self._uvicorn.should_exit = True
        self._thread.join(timeout=10)

    def allow_redirect(self, app_url: str) -> None:
        self.client.redirect_uris.append(f"{app_url}/auth/callback")

    def write_secret(self, directory: Path) -> Path:
        path = directory / "client.secret"
        path.write_text(self.client.client_secret + "\n")
        return path

    # --- Authlib ---
    def _authorization_server(self) -> AuthorizationServer:
        provider = self

        class Server(AuthorizationServer):
            def query_client(self, client_id: str) -> Client | None:
                return provider.client if client_id == provider.client.client_id else None

            def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
                provider._tokens[token["access_token"]] = Token(
                    token["access_token"], request.user, token.get("scope", "")
                )
                provider.tokens_issued += 1

            def create_oauth2_request(self, request: OAuth2Request) -> OAuth2Request:
                return request

            def handle_response(self, status: int, body: Any, headers: Any) -> Response:
                headers = dict(headers)
                if isinstance(body, dict):
                    return JSONResponse(body, status_code=status, headers=headers)
                return Response(body or b"", status_code=status, headers=headers)

            def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
                pass

        class Grant(AuthorizationCodeGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]  # noqa: RUF012

            def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
                data = request.payload.data
                provider._codes[code] = Code(
                    code, request.client.client_id, data.get("redirect_uri", ""),
                    request.payload.scope, request.user, data.get("nonce"),
                    data.get("code_challenge"), data.get("code_challenge_method"),
                )  # fmt: skip

            def query_authorization_code(self, code: str, client: Client) -> Code | None:
                found = provider._codes.get(code)
                return found if found and found.client_id == client.client_id else None

            def delete_authorization_code(self, authorization_code: Code) -> None:
                provider._codes.pop(authorization_code.code, None)

            def authenticate_user(self, authorization_code: Code) -> Person:
                return authorization_code.user

        class OpenID(OpenIDCode):
            def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
                return any(c.nonce == nonce for c in provider._codes.values())

            def resolve_client_private_key(self, client: Client) -> RSAKey:
                return provider.foreign_key if provider.tamper == "foreign_key" else provider.key

            def get_client_claims(self, client: Client) -> dict[str, Any]:
                now = int(time.time())
                claims: dict[str, Any] = {"iss": provider.issuer, "aud": [client.client_id]}
                if provider.tamper == "issuer":
                    claims["iss"] = "https://impostor.example"
                if provider.tamper == "audience":
                    claims["aud"] = ["another-client"]
                if provider.tamper == "expired":
                    claims.update(iat=now - 7200, exp=now - 3600)
                return claims

            def get_authorization_code_claims(self, authorization_code: Code) -> dict[str, Any]:
                claims = super().get_authorization_code_claims(authorization_code)
                if provider.tamper == "nonce":
                    claims["nonce"] = "not-the-app-nonce"
                return claims

            def generate_user_info(self, user: Person, scope: str) -> UserInfo:
                if provider.lean_id_token:
                    return UserInfo(sub=f"id-{user.name}")
                return UserInfo(sub=f"id-{user.name}", preferred_username=user.name,
                                groups=list(user.groups))  # fmt: skip

        server = Server(scopes_supported=["openid", "profile", "email", "groups"])
        server.register_token_generator(
            "default", BearerTokenGenerator(lambda **_: secrets.token_urlsafe(32))
        )
        server.register_grant(Grant, [CodeChallenge(required=True), OpenID(require_nonce=True)])
        return server

    # --- endpoints ---
    async def _oauth_request(self, request: Request) -> OAuth2Request:
        form = {k: str(v) for k, v in (await request.form()).items()}
        return _Request(
            request.method, str(request.url), dict(request.query_params), form,
            request.headers,
        )  # fmt: skip

    async def discovery(self, _: Request) -> JSONResponse:
        base = self.issuer
        return JSONResponse(
            {
                "issuer": base,
                "authorization_endpoint": f"{base}/authorize",
                "token_endpoint": f"{base}/token",
                "jwks_uri": f"{base}/jwks",
                "userinfo_endpoint": f"{base}/userinfo",
                "end_session_endpoint": f"{base}/logout",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_basic",
                    "client_secret_post",
                ],
                "scopes_supported": ["openid", "profile", "email", "groups"],
            }
        )

    async def jwks(self, _: Request) -> JSONResponse:
        return JSONResponse({"keys": [self.key.as_dict(private=False)]})

    async def authorize(self, request: Request) -> Response:
        self.authorize_params.append(dict(request.query_params))
        oauth = await self._oauth_request(request)
        grant = self.server.get_consent_grant(oauth, end_user=self.user)
        return self.server.create_authorization_response(oauth, grant_user=self.user, grant=grant)

    async def token(self, request: Request) -> Response:
        return self.server.create_token_response(await self._oauth_request(request))

    async def userinfo(self, request: Request) -> JSONResponse:
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        token = self._tokens.get(bearer)
        if token is None:
            return JSONResponse({"error": "invalid_token"}, status_code=401)
        return JSONResponse(
            {"sub": f"id-{token.user.name}", "preferred_username": token.user.name,
             "groups": token.user.groups}
        )  # fmt: skip

    async def logout(self, request: Request) -> Response:
        self.logouts.append(dict(request.query_params))
        back = request.query_params.get("post_logout_redirect_uri")
        if back:
            state = request.query_params.get("state")
            return RedirectResponse(
                back + (f"?{urlencode({'state': state})}" if state else ""), 302
            )
        return Response("signed out")


class _DownSwitch:
    """Every endpoint answers 503 while `provider.down` is set."""

    def __init__(self, app: Any, provider: OidcTestProvider) -> None:
        self.app = app
        self.provider = provider

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and self.provider.down:
            await Response("down", status_code=503)(scope, receive, send)
            return
        await self.app(scope, receive, send)

"""OpenID Connect: authorization code flow with PKCE (S256) through Authlib's Starlette client.

The provider's discovery document is fetched lazily, at each sign-in start, and kept for the
callback and logout (its JWKS too, fetched again when a token names an unknown key). Authlib
keeps state, nonce and the PKCE verifier in the session cookie until the callback and checks
them there; the id_token's signature (JWKS), iss, aud, exp and nonce are checked by Authlib's
CodeIDToken. A provider that is down only stops new sign-ins: open sessions live in the cookie.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.integrations.starlette_client import OAuth, OAuthError
from joserfc.errors import JoseError
from starlette.requests import Request
from starlette.responses import RedirectResponse

from tradia.auth.settings import AuthSettings

_NAME = "tradia"

# Authlib's client runs on httpx2 when it is installed, on httpx otherwise: catch either.
try:
    import httpx2

    _HTTP_ERRORS: tuple[type[Exception], ...] = (httpx.HTTPError, httpx2.HTTPError)
except ImportError:  # pragma: no cover - depends on what else is installed
    _HTTP_ERRORS = (httpx.HTTPError,)


class ProviderUnavailable(Exception):
    """Discovery, token or JWKS endpoint unreachable or answering garbage."""


class SignInFailed(Exception):
    """The callback does not prove a sign-in (state, nonce, token or signature refused)."""


@dataclass(frozen=True)
class ProviderUser:
    name: str
    groups: list[str]
    id_token: str | None


class OidcProvider:
    def __init__(self, auth: AuthSettings) -> None:
        self.auth = auth
        self.issuer = auth.oidc_issuer.rstrip("/")
        verify: ssl.SSLContext | bool = True
        if auth.oidc_ca_file is not None:
            verify = ssl.create_default_context(cafile=str(auth.oidc_ca_file))
        oauth = OAuth()
        self.client = oauth.register(
            _NAME,
            client_id=auth.oidc_client_id,
            client_secret=auth.oidc_client_secret,
            server_metadata_url=f"{self.issuer}/.well-known/openid-configuration",
            client_kwargs={
                "scope": auth.oidc_scopes,
                "code_challenge_method": "S256",
                "timeout": auth.oidc_timeout,
                "verify": verify,
            },
        )

    async def metadata(self) -> dict[str, Any]:
        try:
            metadata: dict[str, Any] = await self.client.load_server_metadata()
        except (*_HTTP_ERRORS, ValueError) as exc:
            raise ProviderUnavailable(type(exc).__name__) from None
        # A discovery document for another issuer would make every id_token check fail later.
        if str(metadata.get("issuer", "")).rstrip("/") != self.issuer:
            self.client.server_metadata.pop("_loaded_at", None)
            raise ProviderUnavailable("discovery names another issuer")
        return metadata

    async def authorize_redirect(self, request: Request, redirect_uri: str) -> RedirectResponse:
        # Discovery fetched again at each sign-in start (one GET, sign-ins are rare): a provider
        # that went down is told here, not by a browser error page at the provider's address.
        # The callback, the JWKS and logout use the copy.
        self.client.server_metadata.pop("_loaded_at", None)
        await self.metadata()
        try:
            response: RedirectResponse = await self.client.authorize_redirect(request, redirect_uri)
        except _HTTP_ERRORS as exc:
            raise ProviderUnavailable(type(exc).__name__) from None
        return response

    async def finish(self, request: Request) -> ProviderUser:
        """Exchange the code (state, PKCE, nonce and the id_token checked) for the user."""
        metadata = await self.metadata()
        options = {"iss": {"essential": True, "values": [metadata["issuer"]]}}
        try:
            token = await self.client.authorize_access_token(request, claims_options=options)
        except _HTTP_ERRORS as exc:
            raise ProviderUnavailable(type(exc).__name__) from None
        except (OAuthError, JoseError, KeyError, ValueError) as exc:
            # The OAuth error code, if any (invalid_grant, ...): says why, holds no secret.
            code = getattr(exc, "error", None)
            raise SignInFailed(f"{type(exc).__name__} {code or ''}".strip()) from None
        claims = dict(token.get("userinfo") or {})
        if not claims:
            raise SignInFailed("no id_token")
        user_claim, groups_claim = self.auth.oidc_username_claim, self.auth.oidc_groups_claim
        if user_claim not in claims or (groups_claim and groups_claim not in claims):
            # Providers (LemonLDAP::NG, Keycloak's defaults) may put these in userinfo only.
            try:
                extra = await self.client.userinfo(token=token)
            except (*_HTTP_ERRORS, OAuthError, RuntimeError, KeyError):
                extra = {}
            if extra.get("sub") == claims.get("sub"):
                claims = {**extra, **claims}
        name = claims.get(user_claim)
        if not isinstance(name, str) or not name.strip():
            raise SignInFailed(f"no {user_claim} claim")
        raw = claims.get(groups_claim, []) if groups_claim else []
        groups = [raw] if isinstance(raw, str) else [str(g) for g in raw or []]
        return ProviderUser(name.strip(), groups, token.get("id_token"))

    def allowed(self, user: ProviderUser) -> bool:
        allowed = self.auth.oidc_allowed_groups
        return not allowed or any(group in allowed for group in user.groups)

    def session_groups(self, user: ProviderUser) -> list[str]:
        """The groups worth keeping in the session: the allowed ones the user is in (a user may
        be in hundreds), or all of them when any group is allowed."""
        allowed = self.auth.oidc_allowed_groups
        return [g for g in user.groups if g in allowed] if allowed else user.groups

    async def logout_url(self, id_token: str | None, post_logout_redirect_uri: str) -> str | None:
        """The provider's end-session URL, or None when it has none (or is down)."""
        try:
            metadata = await self.metadata()
        except ProviderUnavailable:
            return None
        endpoint = metadata.get("end_session_endpoint")
        if not endpoint:
            return None
        params: dict[str, str] = {
            "post_logout_redirect_uri": post_logout_redirect_uri,
            "client_id": self.auth.oidc_client_id,
        }
        if id_token:
            params["id_token_hint"] = id_token
        return str(httpx.URL(endpoint).copy_merge_params(params))

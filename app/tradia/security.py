"""HTTP hardening: security headers on every response, a hard cap on request bodies, and no
state-changing request from another site.

All are plain ASGI middlewares: they never buffer a streamed response.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# No inline script or style anywhere in the UI, so the policy can forbid them.
APP_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:;"
    " connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none';"
    " form-action 'self'; frame-ancestors 'none'"
)
# The interactive docs are Swagger UI served by the app itself (tradia/docs_ui.py): no CDN, no
# inline script. Swagger UI sets inline style attributes, which this page alone allows.
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline';"
    " img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none';"
    " form-action 'self'; frame-ancestors 'none'"
)
DOCS_PATHS = frozenset({"/docs"})

_COMMON_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = DOCS_CSP if scope["path"] in DOCS_PATHS else APP_CSP

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() != b"content-security-policy"
                ]
                headers.append((b"content-security-policy", csp.encode()))
                headers.extend(_COMMON_HEADERS)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def send_json(send: Send, status: int, payload: dict[str, object]) -> None:
    """A whole JSON answer from a middleware, before the app has seen the request."""
    body = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class BodyTooLarge(Exception):
    pass


class BodySizeLimitMiddleware:
    """Refuse (413) any request body over its limit, whether announced or streamed.

    Multipart uploads (documents, photos) get `form_limit`; every other body (JSON text tasks)
    gets the much smaller `limit`, so a huge JSON body is refused before it is parsed.
    """

    def __init__(self, app: ASGIApp, limit: int, form_limit: int) -> None:
        self.app = app
        self.limit = limit
        self.form_limit = form_limit

    @staticmethod
    async def _reject(send: Send, limit: int) -> None:
        refusal = {
            "error": "too_large",
            "message": f"The request is larger than the limit ({limit // 1024} KiB).",
            "limit": limit,
        }
        await send_json(send, 413, refusal)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        is_form = headers.get(b"content-type", b"").lower().startswith(b"multipart/form-data")
        limit = self.form_limit if is_form else self.limit
        length = headers.get(b"content-length", b"")
        if length.isdigit() and int(length) > limit:
            await self._reject(send, limit)
            return
        received = 0
        exceeded = False
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            # The framework may turn the aborted body read into its own 400: answer 413 instead.
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
                if exceeded:
                    await self._reject(send, limit)
                    return
            if not exceeded:
                await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not response_started:
                await self._reject(send, limit)


# Methods that start generations or jobs: what a cross-site form or fetch must not trigger.
_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Sec-Fetch-Site values of a request the app's own page made, or the user typed.
_OWN_FETCH_SITES = frozenset({b"same-origin", b"none"})


class CrossSiteRequestMiddleware:
    """Refuse (403) a state-changing request that a browser says comes from another site.

    Browsers resend basic-auth credentials on a cross-site form POST, so without this any page
    a user visits could start generations and document jobs in their name. A request is refused
    when its Sec-Fetch-Site is neither same-origin nor none, or its Origin is not the host it
    was sent to; a request with neither header (curl, scripts, API clients) is not a browser's
    and passes.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    @staticmethod
    def _cross_site(scope: Scope) -> bool:
        headers = dict(scope.get("headers", []))
        fetch_site = headers.get(b"sec-fetch-site")
        if fetch_site is not None and fetch_site.lower() not in _OWN_FETCH_SITES:
            return True
        origin = headers.get(b"origin")
        if origin is None:
            return False
        # A form posted from one of the app's own pages (sign-in, sign-out) carries "Origin: null"
        # under the app's Referrer-Policy no-referrer; the browser's own Sec-Fetch-Site says it
        # is same-origin, which a page elsewhere cannot claim.
        if (
            origin.strip() == b"null"
            and fetch_site is not None
            and fetch_site.lower() == b"same-origin"
        ):
            return False
        # "null" (sandboxed frames, some redirects) names no site: not ours either.
        netloc = urlsplit(origin.decode("latin-1").strip()).netloc.lower()
        host = headers.get(b"host", b"").decode("latin-1").strip().lower()
        return not netloc or netloc != host

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in _UNSAFE_METHODS
            or not self._cross_site(scope)
        ):
            await self.app(scope, receive, send)
            return
        refusal = {
            "error": "cross_site",
            "message": "Refused: this request comes from another site. Use Tradia's own page.",
        }
        await send_json(send, 403, refusal)

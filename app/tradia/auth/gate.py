"""Nobody reaches the app without a session (in the modes that have one): API calls get 401
`signed_out` in the app's error vocabulary, page loads are sent to the sign-in page.

Health probes, metrics (protected on their own, by the proxy) and the sign-in pages and their
assets stay reachable.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tradia.auth.session import COOKIE_NAME, session_user
from tradia.auth.settings import AuthSettings
from tradia.security import send_json

PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/metrics", "/app.css", "/favicon.svg"})
PUBLIC_PREFIXES = ("/auth/",)
USER_KEY = "tradia_user"
SIGNED_OUT = {
    "error": "signed_out",
    "message": "You are signed out (or your session has expired): sign in again.",
}


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def wants_page(scope: Scope) -> bool:
    """A browser loading a page (not the UI's fetch, not an API client)."""
    if scope["method"] != "GET" or scope["path"].startswith("/api/"):
        return False
    headers = dict(scope.get("headers", []))
    return b"text/html" in headers.get(b"accept", b"")


def had_cookie(scope: Scope) -> bool:
    headers = dict(scope.get("headers", []))
    return f"{COOKIE_NAME}=".encode() in headers.get(b"cookie", b"")


def _revalidated(send: Send) -> Send:
    """What a signed-in browser got (the UI's page and scripts included) is asked again before
    reuse, so a signed-out browser meets the gate instead of its cache."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            if "cache-control" not in headers:
                headers["Cache-Control"] = "no-cache"
            headers.add_vary_header("Cookie")
        await send(message)

    return sending


class SignInGate:
    """Inside SessionMiddleware: scope["session"] is the cookie's content, verified."""

    def __init__(self, app: ASGIApp, auth: AuthSettings) -> None:
        self.app = app
        self.auth = auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        user = session_user(scope["session"], self.auth)
        if user is not None:
            scope.setdefault("state", {})[USER_KEY] = user
            await self.app(scope, receive, _revalidated(send))
            return
        if is_public(scope["path"]):
            await self.app(scope, receive, send)
            return
        if wants_page(scope):
            query = scope["query_string"].decode("latin-1")
            target = scope["path"] + (f"?{query}" if query else "")
            location = f"/auth/login?next={quote(target, safe='')}"
            if had_cookie(scope):
                location += "&expired=1"
            await send(
                {
                    "type": "http.response.start",
                    "status": 303,
                    "headers": [(b"location", location.encode()), (b"content-length", b"0")],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return
        await send_json(send, 401, SIGNED_OUT)

"""Helpers of the sign-in tests: a cookie-keeping HTTP client that follows redirects by hand,
session-key and users files, and reading the sign-in page."""

from __future__ import annotations

import re
import secrets
import ssl
from html import unescape
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import bcrypt
import httpx

COOKIE = "tradia_session"
TEXT = {"text": "Bonjour.", "target": "en"}


def write_key(directory: Path) -> Path:
    path = directory / "session.key"
    path.write_text(secrets.token_hex(32) + "\n")
    return path


def write_users(directory: Path, users: dict[str, str], cost: int = 10) -> Path:
    path = directory / "users"
    lines = [
        f"{name}:{bcrypt.hashpw(pw.encode(), bcrypt.gensalt(cost)).decode()}"
        for name, pw in users.items()
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def set_cookies(response: httpx.Response) -> dict[str, dict[str, Any]]:
    """Each Set-Cookie of the answer: {name: {"value": .., flag: ..}} (flags lower-cased)."""
    found: dict[str, dict[str, Any]] = {}
    for header in response.headers.get_list("set-cookie"):
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        for name, morsel in jar.items():
            flags = {k.lower(): v for k, v in morsel.items() if v}
            found[name] = {"value": morsel.value, **flags}
    return found


class Browser:
    """Keeps cookies per host itself: the session cookie is `Secure`, which httpx's jar would
    not send over the tests' plain http on the loopback (Chromium allows it there)."""

    def __init__(self, timeout: float = 30, verify: str | bool = True) -> None:
        # `verify`: a CA file for the tests' HTTPS servers (the OIDC provider).
        context = ssl.create_default_context(cafile=verify) if isinstance(verify, str) else verify
        self.http = httpx.Client(timeout=timeout, follow_redirects=False, verify=context)
        self.cookies: dict[str, dict[str, str]] = {}

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _absorb(self, response: httpx.Response) -> None:
        host = urlsplit(str(response.request.url)).netloc
        jar = self.cookies.setdefault(host, {})
        for name, cookie in set_cookies(response).items():
            expired = "expires" in cookie and "1970" in str(cookie["expires"])
            if expired or cookie["value"] in ("", "null"):
                jar.pop(name, None)
            else:
                jar[name] = cookie["value"]

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        host = urlsplit(url).netloc
        jar = self.cookies.get(host, {})
        headers = dict(kwargs.pop("headers", {}) or {})
        if jar and "Cookie" not in headers:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in jar.items())
        response = self.http.request(method, url, headers=headers, **kwargs)
        self._absorb(response)
        return response

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def follow(self, response: httpx.Response, limit: int = 10) -> httpx.Response:
        """Follows redirects (GET), cookies kept per host, as a browser does."""
        for _ in range(limit):
            if response.status_code not in (301, 302, 303, 307, 308):
                return response
            target = urljoin(str(response.request.url), response.headers["location"])
            response = self.get(target, headers={"Accept": "text/html"})
        raise AssertionError("too many redirects")

    def session_cookie(self, base: str) -> str | None:
        return self.cookies.get(urlsplit(base).netloc, {}).get(COOKIE)


def sign_in(
    browser: Browser, base: str, user: str, password: str, next_path: str = "/"
) -> httpx.Response:
    """Posts the sign-in form; the answer (a 303 to `next` when it worked)."""
    return browser.post(
        f"{base}/auth/login",
        data={"username": user, "password": password, "next": next_path},
    )


def translate(browser: Browser, base: str, **headers: str) -> httpx.Response:
    response = browser.post(f"{base}/api/translate", json=TEXT, headers=headers)
    response.read()
    return response


def page_error(response: httpx.Response) -> str:
    match = re.search(r'id="signin-error"[^>]*>([^<]*)<', response.text)
    return unescape(match.group(1)) if match else ""

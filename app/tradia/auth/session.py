"""The session: who signed in, kept in a cookie signed by Starlette's SessionMiddleware
(itsdangerous, HMAC). It holds the user name, groups, the sign-in time, the last refresh and,
for OIDC, the id_token to hint the provider at logout: nothing secret, nothing a client could
change without the key.

The cookie's signature carries its own time: it is refused once older than the idle lifetime,
and re-signed at most once a minute while in use, so a busy tab stays signed in until the
absolute lifetime ends and an idle one is signed out.
"""

from __future__ import annotations

import re
import time
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

from tradia.auth.settings import AuthSettings

COOKIE_NAME = "tradia_session"
# Re-sign the cookie (a Set-Cookie) at most this often: not on every request.
_REFRESH_SECONDS = 60.0
# A user name becomes a metrics label and a log field: short and printable.
_UNSAFE = re.compile(r"[^A-Za-z0-9@._+-]")
_SESSION_KEYS = ("user", "groups", "login", "seen", "hint")
# Browsers drop a cookie over 4096 bytes (the user then silently stays signed out): keep a few
# groups (the ones that matter are chosen by the caller) and drop an id_token hint that is too
# large (logout then names the client instead).
MAX_GROUPS = 20
_MAX_GROUP_CHARS = 200
MAX_HINT_CHARS = 2000


@dataclass(frozen=True)
class SessionUser:
    name: str
    groups: tuple[str, ...]


def clean_name(raw: str) -> str:
    return _UNSAFE.sub("_", raw.strip())[:64]


def cookie_options(auth: AuthSettings) -> dict[str, Any]:
    """SessionMiddleware's cookie: Secure, HttpOnly, SameSite=Lax, Path=/, refused once older
    than the idle lifetime."""
    return {
        "secret_key": auth.session_key,
        "session_cookie": COOKIE_NAME,
        "max_age": int(auth.session_idle_minutes * 60),
        "path": "/",
        "same_site": "lax",
        "https_only": True,
    }


def start_session(
    session: MutableMapping[str, Any], name: str, groups: list[str], hint: str | None = None
) -> SessionUser:
    """A new session (whatever the cookie held before is dropped: no session fixation)."""
    kept = tuple(g for g in groups if len(g) <= _MAX_GROUP_CHARS)[:MAX_GROUPS]
    user = SessionUser(clean_name(name), kept)
    now = time.time()
    session.clear()
    session.update({"user": user.name, "groups": list(user.groups), "login": now, "seen": now})
    if hint and len(hint) <= MAX_HINT_CHARS:
        session["hint"] = hint
    return user


def end_session(session: MutableMapping[str, Any]) -> str | None:
    """Forget the session; the id_token hint, when there was one, for the provider's logout."""
    hint = session.get("hint")
    session.clear()
    return hint if isinstance(hint, str) else None


def session_user(
    session: MutableMapping[str, Any], auth: AuthSettings, now: float | None = None
) -> SessionUser | None:
    """The signed-in user, or None (no session, or one past its idle or absolute lifetime)."""
    name, login, seen = session.get("user"), session.get("login"), session.get("seen")
    if not isinstance(name, str) or not name or not isinstance(login, int | float):
        return None
    if not isinstance(seen, int | float):
        return None
    now = time.time() if now is None else now
    if now - login > auth.session_max_hours * 3600 or now - seen > auth.session_idle_minutes * 60:
        for key in _SESSION_KEYS:
            session.pop(key, None)
        return None
    if now - seen > _REFRESH_SECONDS:
        session["seen"] = now
    groups = session.get("groups")
    return SessionUser(name, tuple(g for g in groups if isinstance(g, str)) if groups else ())

"""Puts sign-in into the app: its routes always (/api/session answers in every mode), the
session cookie and the gate only in the modes that sign people in."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.sessions import SessionMiddleware

from tradia.auth.gate import SignInGate
from tradia.auth.routes import router
from tradia.auth.service import SignIn
from tradia.auth.session import cookie_options
from tradia.core.config import Settings


def install_auth(app: FastAPI, settings: Settings) -> None:
    """Call before the static files are mounted, and before the other middlewares are added
    (so the cross-site check and the security headers wrap the gate's answers too)."""
    auth = settings.auth
    app.state.sign_in = SignIn(auth, settings.user_header)
    app.include_router(router)
    if auth.sessions:
        # Added first: SignInGate runs inside SessionMiddleware, which verifies the cookie.
        app.add_middleware(SignInGate, auth=auth)
        app.add_middleware(SessionMiddleware, **cookie_options(auth))

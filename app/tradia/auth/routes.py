"""The sign-in routes: /auth/login (form or provider button), /auth/oidc/start and
/auth/callback (OIDC), /auth/logout, and /api/session for the UI."""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel

from tradia.api.errors import error_responses
from tradia.auth.gate import SIGNED_OUT, USER_KEY
from tradia.auth.ldap_directory import DirectoryUnavailable, InvalidCredentials, NotInGroup
from tradia.auth.oidc_client import ProviderUnavailable, SignInFailed
from tradia.auth.pages import denied_page, login_page, provider_logout_page
from tradia.auth.rate_limit import limiter_keys
from tradia.auth.redirects import safe_next
from tradia.auth.service import SignIn
from tradia.auth.session import SessionUser, clean_name, end_session, start_session
from tradia.auth.strings import STRINGS, pick_language
from tradia.core.users import user_from_request

log = logging.getLogger("tradia.auth")


class SessionOut(BaseModel):
    user: str
    groups: list[str]
    # none, local, ldap or oidc: with none (the proxy signs people in) there is no sign-out.
    auth: str


router = APIRouter(tags=["sign-in"])
_NEXT_KEY = "next"


def _signin(request: Request) -> SignIn:
    return request.app.state.sign_in


def _user(request: Request) -> SessionUser | None:
    return request.scope.get("state", {}).get(USER_KEY)


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _redirect(location: str) -> RedirectResponse:
    return RedirectResponse(location, status_code=303, headers={"Cache-Control": "no-store"})


@router.get("/api/session", response_model=SessionOut, responses=error_responses(401))
async def current_session(request: Request) -> JSONResponse:
    """Who is signed in: `{user, groups, auth}`; 401 `signed_out` without a session."""
    signin = _signin(request)
    if not signin.auth.sessions:
        name = user_from_request(request, signin.user_header)
        return JSONResponse({"user": name, "groups": [], "auth": "none"})
    user = _user(request)
    if user is None:
        return JSONResponse(SIGNED_OUT, status_code=401)
    body = {"user": user.name, "groups": list(user.groups), "auth": signin.auth.mode}
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


@router.get("/auth/login", include_in_schema=False)
async def login_form(request: Request) -> Response:
    signin = _signin(request)
    lang = pick_language(request)
    next_path = safe_next(request.query_params.get("next"))
    if not signin.auth.sessions:
        return _redirect(next_path)
    if _user(request) is not None:
        return _redirect(next_path)
    s = STRINGS[lang]
    notice = ""
    if request.query_params.get("expired"):
        notice = s["expired"]
    elif request.query_params.get("signed_out"):
        notice = s["signed_out"]
    return login_page(
        lang, signin.auth.mode, next_path, provider=signin.auth.oidc_provider_name, notice=notice
    )


@router.post("/auth/login", include_in_schema=False)
async def login_submit(
    request: Request,
    username: Annotated[str, Form(max_length=256)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=2048)] = "/",  # the form's field name
    lang: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    signin = _signin(request)
    mode = signin.auth.mode
    language = lang if lang in STRINGS else pick_language(request)
    next_path = safe_next(next)
    s = STRINGS[language]
    if mode not in ("local", "ldap"):
        return _redirect(f"/auth/login?lang={language}")

    def page(error: str, status: int, retry_after: int | None = None) -> Response:
        return login_page(
            language,
            mode,
            next_path,
            error=error,
            username=username,
            status=status,
            retry_after=retry_after,
        )

    if not username.strip() or not password:
        return page(s["missing"], 400)
    client = _client(request)
    keys = limiter_keys(username, client)
    wait = signin.limiter.retry_after(keys)
    if wait:
        log.warning("sign_in_limited", extra={"user": clean_name(username), "client": client})
        return page(s["rate_limited"].format(seconds=wait), 429, retry_after=wait)

    name, groups = username.strip(), []
    try:
        if mode == "local":
            ok = await asyncio.to_thread(signin.local.check, name, password)  # type: ignore[union-attr]
            if not ok:
                raise InvalidCredentials
        else:
            found = await asyncio.to_thread(signin.ldap.authenticate, name, password)  # type: ignore[union-attr]
            name, groups = found.name, found.groups
    except InvalidCredentials:
        signin.limiter.failed(keys)
        log.warning(
            "sign_in_refused",
            extra={"user": clean_name(username), "client": client, "reason": "invalid"},
        )
        return page(s["invalid"], 401)
    except NotInGroup:
        log.warning(
            "sign_in_refused",
            extra={"user": clean_name(username), "client": client, "reason": "not_in_group"},
        )
        return denied_page(language, clean_name(username))
    except DirectoryUnavailable as exc:
        log.error("directory_unavailable", extra={"reason": str(exc)})
        return page(s["directory_down"], 503)
    user = start_session(request.session, name, groups)
    log.info("signed_in", extra={"user": user.name, "auth": mode, "client": client})
    return _redirect(next_path)


@router.get("/auth/oidc/start", include_in_schema=False)
async def oidc_start(request: Request) -> Response:
    signin = _signin(request)
    lang = pick_language(request)
    next_path = safe_next(request.query_params.get("next"))
    if signin.oidc is None:
        return _redirect(f"/auth/login?lang={lang}")
    request.session[_NEXT_KEY] = next_path
    request.session["lang"] = lang
    try:
        return await signin.oidc.authorize_redirect(request, str(request.url_for("oidc_callback")))
    except ProviderUnavailable as exc:
        log.error("oidc_provider_unavailable", extra={"reason": str(exc)})
        provider = signin.auth.oidc_provider_name
        error = STRINGS[lang]["provider_down"].format(provider=provider)
        return login_page(lang, "oidc", next_path, provider=provider, error=error, status=503)


@router.get("/auth/callback", name="oidc_callback", include_in_schema=False)
async def oidc_callback(request: Request) -> Response:
    signin = _signin(request)
    saved_lang = request.session.get("lang")
    lang = saved_lang if saved_lang in STRINGS else pick_language(request)
    next_path = safe_next(request.session.get(_NEXT_KEY))
    if signin.oidc is None:
        return _redirect("/auth/login")
    provider = signin.auth.oidc_provider_name
    # No failed-attempt count here: a callback guesses no password (state and PKCE bind it
    # to the browser that started it).
    client = _client(request)
    try:
        found = await signin.oidc.finish(request)
    except ProviderUnavailable as exc:
        log.error("oidc_provider_unavailable", extra={"reason": str(exc)})
        error = STRINGS[lang]["provider_down"].format(provider=provider)
        return login_page(lang, "oidc", next_path, provider=provider, error=error, status=503)
    except SignInFailed as exc:
        log.warning("sign_in_refused", extra={"client": client, "reason": str(exc)})
        error = STRINGS[lang]["sign_in_failed"]
        return login_page(lang, "oidc", next_path, provider=provider, error=error, status=400)
    if not signin.oidc.allowed(found):
        log.warning(
            "sign_in_refused",
            extra={"user": clean_name(found.name), "client": client, "reason": "not_in_group"},
        )
        request.session.clear()
        return denied_page(lang, clean_name(found.name))
    groups = signin.oidc.session_groups(found)
    user = start_session(request.session, found.name, groups, hint=found.id_token)
    log.info("signed_in", extra={"user": user.name, "auth": "oidc", "client": client})
    return _redirect(next_path)


@router.post("/auth/logout", include_in_schema=False)
async def logout(request: Request) -> Response:
    signin = _signin(request)
    lang = pick_language(request)
    if not signin.auth.sessions:
        return _redirect("/")
    user = _user(request)
    hint = end_session(request.session)
    if user is not None:
        log.info("signed_out", extra={"user": user.name, "auth": signin.auth.mode})
    if signin.oidc is not None:
        back = str(request.url_for("login_form"))
        url = await signin.oidc.logout_url(hint, back)
        if url:
            return provider_logout_page(lang, url, signin.auth.oidc_provider_name)
    return _redirect(f"/auth/login?signed_out=1&lang={lang}")

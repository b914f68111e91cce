"""The sign-in pages: plain server-rendered HTML on the app's stylesheet (no script, so the
CSP's "no inline script" holds), errors tied to the fields with aria-describedby."""

from __future__ import annotations

from html import escape
from urllib.parse import urlencode

from starlette.responses import HTMLResponse

from tradia.auth.strings import STRINGS

# The browser keeps none of these pages: they may name the user.
_NO_STORE = {"Cache-Control": "no-store"}


def _page(lang: str, title: str, body: str, status: int = 200, head: str = "") -> HTMLResponse:
    html = f"""<!doctype html>
<html lang="{lang}">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="color-scheme" content="light dark">
  <title>{escape(title)} · Tradia</title>
  <link rel="stylesheet" href="/app.css">
  <link rel="icon" href="/favicon.svg" type="image/svg+xml">{head}
</head>
<body>
  <header class="topbar"><p class="brand">Tradia</p></header>
  <main id="main" class="signin">
{body}
  </main>
</body>
</html>
"""
    return HTMLResponse(html, status_code=status, headers=_NO_STORE)


def _switch(lang: str, next_path: str) -> str:
    other = "en" if lang == "fr" else "fr"
    query = urlencode({"lang": other, "next": next_path})
    label = STRINGS[lang]["switch"]
    return f'    <p><a href="/auth/login?{escape(query)}" lang="{other}">{escape(label)}</a></p>'


def login_page(
    lang: str,
    mode: str,
    next_path: str,
    *,
    provider: str = "",
    notice: str = "",
    error: str = "",
    username: str = "",
    status: int = 200,
    retry_after: int | None = None,
) -> HTMLResponse:
    s = STRINGS[lang]
    parts = [f"    <h1>{escape(s['title'])}</h1>", f"    <p>{escape(s['intro'])}</p>"]
    if notice:
        parts.append(f'    <p id="signin-notice" class="notice" role="status">{escape(notice)}</p>')
    if error:
        parts.append(f'    <p id="signin-error" class="error-box" role="alert">{escape(error)}</p>')
    if mode == "oidc":
        query = urlencode({"next": next_path})
        label = s["provider"].format(provider=provider)
        parts.append(
            f'    <p><a class="button primary" id="signin-provider" href="/auth/oidc/start?'
            f'{escape(query)}">{escape(label)}</a></p>'
        )
    else:
        described = ' aria-describedby="signin-error" aria-invalid="true"' if error else ""
        parts.append(
            f"""    <form method="post" action="/auth/login" class="signin-form">
      <input type="hidden" name="next" value="{escape(next_path)}">
      <input type="hidden" name="lang" value="{lang}">
      <div class="field">
        <label for="username">{escape(s["username"])}</label>
        <input id="username" name="username" autocomplete="username" required
               value="{escape(username)}"{described}>
      </div>
      <div class="field">
        <label for="password">{escape(s["password"])}</label>
        <input id="password" name="password" type="password" autocomplete="current-password"
               required{described}>
      </div>
      <button type="submit" class="primary">{escape(s["submit"])}</button>
    </form>"""
        )
    parts.append(_switch(lang, next_path))
    response = _page(lang, s["title"], "\n".join(parts), status)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def denied_page(lang: str, user: str) -> HTMLResponse:
    s = STRINGS[lang]
    body = (
        f"    <h1>{escape(s['denied_title'])}</h1>\n"
        f'    <p id="signin-error" class="error-box" role="alert">'
        f"{escape(s['denied'].format(user=user))}</p>\n"
        f'    <p><a href="/auth/login?lang={lang}">{escape(s["back"])}</a></p>'
    )
    return _page(lang, s["denied_title"], body, 403)


def provider_logout_page(lang: str, url: str, provider: str) -> HTMLResponse:
    """Signed out here; the browser goes on to the provider's end-session endpoint.

    A page with a refresh rather than a 303 from the sign-out form: the app's CSP
    (form-action 'self') forbids a form's redirect to another site.
    """
    s = STRINGS[lang]
    body = (
        f"    <h1>{escape(s['logout_title'])}</h1>\n"
        f'    <p role="status">{escape(s["signed_out"])}</p>\n'
        f'    <p><a id="provider-logout" href="{escape(url)}">'
        f"{escape(s['logout_continue'].format(provider=provider))}</a></p>"
    )
    head = f'\n  <meta http-equiv="refresh" content="0; url={escape(url)}">'
    return _page(lang, s["logout_title"], body, 200, head)

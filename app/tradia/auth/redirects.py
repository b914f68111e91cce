"""Where to go after signing in: only a path of this site (no open redirect)."""

from __future__ import annotations

from urllib.parse import urlsplit

HOME = "/"


def safe_next(value: str | None) -> str:
    """`value` when it is a local path ("/..."), else "/".

    Refused: absolute URLs, scheme-relative "//host", backslashes (browsers read "/\\host" as
    "//host"), control characters, and anything with a scheme or host once parsed.
    """
    if not value or not value.startswith("/") or value.startswith("//"):
        return HOME
    if "\\" in value or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return HOME
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return HOME
    if value.startswith("/auth/"):
        return HOME
    return value

"""Who is asking, as told by the reverse proxy (used for per-user usage counts only)."""

from __future__ import annotations

import re

from starlette.requests import Request

ANONYMOUS = "anonymous"
_SAFE = re.compile(r"[^A-Za-z0-9@._+-]")


def user_from_request(request: Request, header_name: str) -> str:
    raw = request.headers.get(header_name, "").strip() if header_name else ""
    # The value becomes a metrics label: keep it short and printable.
    cleaned = _SAFE.sub("_", raw)[:64]
    return cleaned or ANONYMOUS

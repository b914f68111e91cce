"""Dependencies shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from tradia.api.errors import RequestRejected
from tradia.auth.gate import SIGNED_OUT, USER_KEY
from tradia.core.users import user_from_request
from tradia.state import AppState


def get_state(request: Request) -> AppState:
    return request.app.state.tradia


def get_user(request: Request, state: Annotated[AppState, Depends(get_state)]) -> str:
    if not state.settings.auth.sessions:
        return user_from_request(request, state.settings.user_header)
    # Signed-in modes: the session's user (set by the gate), never a header a client could send.
    user = request.scope.get("state", {}).get(USER_KEY)
    if user is None:
        raise RequestRejected(401, SIGNED_OUT["error"], SIGNED_OUT["message"])
    return user.name


StateDep = Annotated[AppState, Depends(get_state)]
UserDep = Annotated[str, Depends(get_user)]

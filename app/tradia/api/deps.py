"""Dependencies shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from tradia.core.users import user_from_request
from tradia.state import AppState


def get_state(request: Request) -> AppState:
    return request.app.state.tradia


def get_user(request: Request, state: Annotated[AppState, Depends(get_state)]) -> str:
    return user_from_request(request, state.settings.user_header)


StateDep = Annotated[AppState, Depends(get_state)]
UserDep = Annotated[str, Depends(get_user)]

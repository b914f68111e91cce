"""The relay part's session mode: the bench signs in through the app's own form, and the
roles' sign-in files are found where bench.render moved them (no stack, no Traefik)."""

import asyncio
from pathlib import Path

import bcrypt
import httpx
import pytest
from tradia.auth.settings import AuthSettings
from tradia.core.config import Settings
from tradia.main import create_app

from bench.measure import sign_in
from bench.render import bcrypt_cost, localise_auth_env

USER = ("bench", "bench-password")


def _app(tmp_path: Path) -> httpx.ASGITransport:
    key = tmp_path / "session.key"
    key.write_text("k" * 64 + "\n")
    users = tmp_path / "users"
    # 10: the app refuses a lower cost; the role renders 12.
    hashed = bcrypt.hashpw(USER[1].encode(), bcrypt.gensalt(10)).decode()
    users.write_text(f"{USER[0]}:{hashed}\n")
    auth = AuthSettings(mode="local", session_key_file=key, local_users_file=users)
    settings = Settings(ollama_api_key="bench-test-key-0123456789", auth=auth)
    return httpx.ASGITransport(app=create_app(settings))


def _session_user(transport: httpx.ASGITransport, password: str) -> int | str:
    """Sign in with `password`, then ask the app who this client is (401 without a session)."""

    async def go() -> int | str:
        # https: the session cookie is Secure, httpx's jar sends it over https only.
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as http:
            await sign_in(http, (USER[0], password))
            response = await http.get("/api/session")
            return response.json()["user"] if response.status_code == 200 else response.status_code

    return asyncio.run(go())


def test_sign_in_leaves_the_client_with_a_session(tmp_path):
    assert _session_user(_app(tmp_path), USER[1]) == USER[0]


def test_a_refused_sign_in_stops_the_bench(tmp_path):
    # Otherwise every sample of the mode would be a 401, measured as a fast failure.
    with pytest.raises(RuntimeError, match="sign-in refused: 401"):
        _session_user(_app(tmp_path), "wrong")


def test_the_apps_sign_in_files_are_read_where_the_bench_put_them(tmp_path):
    env = {
        "TRADIA_AUTH": "local",
        "TRADIA_SESSION_KEY_FILE": "/etc/tradia/auth/session.key",
        "TRADIA_LOCAL_USERS_FILE": "/etc/tradia/auth/users",
        "TRADIA_SESSION_IDLE_MINUTES": "120",
    }
    assert localise_auth_env(env, tmp_path / "app") == {
        "TRADIA_AUTH": "local",
        "TRADIA_SESSION_KEY_FILE": str(tmp_path / "app" / "auth" / "session.key"),
        "TRADIA_LOCAL_USERS_FILE": str(tmp_path / "app" / "auth" / "users"),
        "TRADIA_SESSION_IDLE_MINUTES": "120",
    }


def test_bcrypt_cost_of_a_users_file(tmp_path):
    users = tmp_path / "users"
    hashed = bcrypt.hashpw(b"x", bcrypt.gensalt(4)).decode().replace("$2b$", "$2y$")
    users.write_text(f"bench:{hashed}\n")
    assert bcrypt_cost(users) == 4
    assert bcrypt_cost(tmp_path / "absent") is None

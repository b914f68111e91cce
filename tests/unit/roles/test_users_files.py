"""The roles' secret files, run for real against a temporary directory on localhost.

The app server's users file: a rerun keeps each hash, a changed password or cost replaces it,
and no salt comes from the password (the old derivation, sha256 of password and name, was a
fast-hash oracle). The AI gateway's configuration: each client's keys only as SHA-256 digests
(keys are 32+ random characters), a rotation accepted with both keys, no key in any file but the
role's own key file."""

import hashlib
import os
from pathlib import Path

import bcrypt
import pytest
import yaml
from role_check_mode import run_play

KEY = "users-file-test-key-0123456789abcdef0123"
NEW_KEY = "users-file-test-key-fedcba9876543210fedc"

pytestmark = [
    pytest.mark.slow,
    # The tasks give the files to root and the roles' groups, as on a server.
    pytest.mark.skipif(os.geteuid() != 0, reason="the roles' file tasks chown to root"),
]


def _render(tmp_path: Path, variables: dict) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Runs ai_server's traefik_config.yml and app_server's config.yml under tmp_path; returns
    the gateway's {client: key digests} and the app server's users file {user: hash}."""
    play = {
        "hosts": "localhost",
        "gather_facts": False,
        "tasks": [
            {
                "name": "AI gateway configuration",
                "ansible.builtin.include_role": {
                    "name": "ai_server",
                    "tasks_from": "traefik_config",
                },
                "vars": {"ai_server_config_dir": str(tmp_path / "ai")},
            },
            {
                "name": "App server users file",
                "ansible.builtin.include_role": {"name": "app_server", "tasks_from": "config"},
                "vars": {"app_server_config_dir": str(tmp_path / "app")},
            },
        ],
    }
    extra = {
        "app_server_ai_servers": ["https://ai1.example.org:11434"],
        "app_server_ollama_model": "smollm2:135m",
        **variables,
    }
    result = run_play(play, extra, tmp_path, check=False, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    keys = [variables["ai_server_api_key"]] + [
        value
        for client in variables.get("ai_server_api_clients", [])
        for field, value in client.items()
        if field in ("key", "previous_key")
    ]
    for secret in (*keys, *(u["password"] for u in variables["app_server_users"])):
        assert secret not in result.stdout + result.stderr
    # No file of the AI server holds a client's key (the role's own key file holds its own).
    for path in (tmp_path / "ai").rglob("*"):
        if path.is_file():
            assert not any(key in path.read_text(errors="replace") for key in keys), path
    dynamic = yaml.safe_load((tmp_path / "ai" / "traefik" / "dynamic" / "ollama.yml").read_text())
    clients = dynamic["http"]["middlewares"]["ollama-keyauth"]["plugin"]["keyauth"]["clients"]
    users = (tmp_path / "app" / "traefik" / "users").read_text().splitlines()
    return (
        {client["name"]: client["keys"] for client in clients},
        dict(line.split(":", 1) for line in users),
    )


def _sha256(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _variables(key: str, password: str, cost: int = 5) -> dict:
    return {
        "ai_server_api_key": key,
        "app_server_api_key": key,
        "app_server_users": [{"name": "alice", "password": password}],
        "app_server_users_bcrypt_cost": cost,
    }


def _verifies(password: str, hashed: str) -> bool:
    return bcrypt.checkpw(password.encode(), hashed.encode())


def test_users_file_keeps_verifying_hashes_and_gateway_holds_only_digests(tmp_path):
    ai, app = _render(tmp_path, _variables(KEY, "alice-password-1"))
    assert ai["app-servers"] == [_sha256(KEY)]
    assert len(ai["local"]) == 1  # the role's own key, generated on the host
    local_key = (tmp_path / "ai" / "local-client.key").read_text().strip()
    assert ai["local"] == [_sha256(local_key)]
    assert len(local_key) >= 32
    assert _verifies("alice-password-1", app["alice"])
    # The salt (characters 7-28) is not what the password and the name alone give.
    assert (
        app["alice"][7:29]
        != hashlib.sha256(b"alice-password-1:alice:tradia-app").hexdigest()[:21] + "e"
    )

    # A rerun with the same secrets keeps everything (a fresh salt would restart Traefik), the
    # role's own key included.
    assert _render(tmp_path, _variables(KEY, "alice-password-1")) == (ai, app)

    # Changed secrets: new digests and hashes that verify the new secrets only.
    ai2, app2 = _render(tmp_path, _variables(NEW_KEY, "alice-password-2"))
    assert ai2["app-servers"] == [_sha256(NEW_KEY)]
    assert _verifies("alice-password-2", app2["alice"])
    assert not _verifies("alice-password-1", app2["alice"])

    # A changed cost: new hashes at that cost.
    _, app3 = _render(tmp_path, _variables(NEW_KEY, "alice-password-2", cost=6))
    assert app3["alice"].startswith("$2b$06$")
    assert _verifies("alice-password-2", app3["alice"])


def test_a_client_in_rotation_has_both_keys_and_loses_the_old_one(tmp_path):
    robot = {"name": "robot", "key": "robot-new-key-" + "n" * 30, "allowed_from": ["10.0.0.9"]}
    rotating = {**robot, "previous_key": "robot-old-key-" + "o" * 30}
    variables = _variables(KEY, "alice-password-1")
    ai, _ = _render(tmp_path, {**variables, "ai_server_api_clients": [rotating]})
    assert ai["robot"] == [_sha256(rotating["key"]), _sha256(rotating["previous_key"])]
    ai, _ = _render(tmp_path, {**variables, "ai_server_api_clients": [robot]})
    assert ai["robot"] == [_sha256(robot["key"])]
    ai, _ = _render(tmp_path, variables)
    assert "robot" not in ai

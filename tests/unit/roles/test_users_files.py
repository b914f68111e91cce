"""The roles' users-file tasks, run for real against a temporary directory on localhost: a
rerun keeps each hash, a changed password or cost replaces it, and no salt comes from the
password (the old derivation, sha256 of password and name, was a fast-hash oracle)."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import bcrypt
import pytest
import yaml

ROOT = Path(__file__).parents[3]
KEY = "users-file-test-key-0123456789abcdef0123"
NEW_KEY = "users-file-test-key-fedcba9876543210fedc"

pytestmark = [
    pytest.mark.slow,
    # The tasks give the files to root and the roles' groups, as on a server.
    pytest.mark.skipif(os.geteuid() != 0, reason="the roles' file tasks chown to root"),
]


def _render(tmp_path: Path, variables: dict) -> tuple[dict[str, str], dict[str, str]]:
    """Runs ai_server's traefik_config.yml and app_server's config.yml under tmp_path; returns
    the {user: hash} of the AI server's and the app server's users files."""
    playbook = tmp_path / "play.yml"
    playbook.write_text(
        yaml.safe_dump(
            [
                {
                    "hosts": "localhost",
                    "gather_facts": False,
                    "tasks": [
                        {
                            "name": "AI server users file",
                            "ansible.builtin.include_role": {
                                "name": "ai_server",
                                "tasks_from": "traefik_config",
                            },
                            "vars": {"ai_server_config_dir": str(tmp_path / "ai")},
                        },
                        {
                            "name": "App server users file",
                            "ansible.builtin.include_role": {
                                "name": "app_server",
                                "tasks_from": "config",
                            },
                            "vars": {"app_server_config_dir": str(tmp_path / "app")},
                        },
                    ],
                }
            ]
        )
    )
    extra = tmp_path / "vars.json"
    extra.write_text(
        json.dumps(
            {
                "app_server_ai_servers": ["https://ai1.example.org:11434"],
                "app_server_ollama_model": "smollm2:135m",
                "ansible_python_interpreter": sys.executable,
                **variables,
            }
        )
    )
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_ROLES_PATH": str(ROOT / "roles"),
        "ANSIBLE_NOCOLOR": "1",
    }
    command = [
        str(Path(sys.executable).parent / "ansible-playbook"),
        "-i", "localhost,", "-c", "local", "-e", f"@{extra}", str(playbook),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for secret in (
        variables["ai_server_api_key"],
        *(u["password"] for u in variables["app_server_users"]),
    ):
        assert secret not in result.stdout + result.stderr
    files = (tmp_path / "ai" / "traefik" / "users", tmp_path / "app" / "traefik" / "users")
    return tuple(  # type: ignore[return-value]
        dict(line.split(":", 1) for line in path.read_text().splitlines()) for path in files
    )


def _variables(key: str, password: str, cost: int = 5) -> dict:
    return {
        "ai_server_api_key": key,
        "ai_server_api_bcrypt_cost": cost,
        "app_server_api_key": key,
        "app_server_users": [{"name": "alice", "password": password}],
        "app_server_users_bcrypt_cost": cost,
    }


def _verifies(password: str, hashed: str) -> bool:
    return bcrypt.checkpw(password.encode(), hashed.encode())


def test_users_files_keep_verifying_hashes_and_replace_the_others(tmp_path):
    ai, app = _render(tmp_path, _variables(KEY, "alice-password-1"))
    assert _verifies(KEY, ai["api"])
    assert _verifies("alice-password-1", app["alice"])
    # The salt (characters 7-28) is not what the password and the name alone give.
    assert ai["api"][7:29] != hashlib.sha256(f"{KEY}:api:tradia".encode()).hexdigest()[:21] + "e"
    assert (
        app["alice"][7:29]
        != hashlib.sha256(b"alice-password-1:alice:tradia-app").hexdigest()[:21] + "e"
    )

    # A rerun with the same secrets keeps both hashes (a fresh salt would restart Traefik).
    assert _render(tmp_path, _variables(KEY, "alice-password-1")) == (ai, app)

    # Changed secrets: new hashes that verify the new secrets only.
    ai2, app2 = _render(tmp_path, _variables(NEW_KEY, "alice-password-2"))
    assert _verifies(NEW_KEY, ai2["api"])
    assert not _verifies(KEY, ai2["api"])
    assert _verifies("alice-password-2", app2["alice"])
    assert not _verifies("alice-password-1", app2["alice"])

    # A changed cost: new hashes at that cost.
    ai3, app3 = _render(tmp_path, _variables(NEW_KEY, "alice-password-2", cost=6))
    assert ai3["api"].startswith("$2b$06$")
    assert _verifies(NEW_KEY, ai3["api"])
    assert app3["alice"].startswith("$2b$06$")
    assert _verifies("alice-password-2", app3["alice"])

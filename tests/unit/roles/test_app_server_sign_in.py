"""The app server's sign-in modes (app_server_auth), run for real against a temporary directory.

basic keeps Traefik's basic auth and the user header; local, ldap and oidc take Traefik's login
off the app's routers (the app signs users in itself) and hand the app its secrets in files only
it reads, never in its environment or the play's output. A mode left behind leaves no secret."""

import json
import os
import stat
from pathlib import Path

import bcrypt
import pytest
import yaml
from role_check_mode import run_play

API_KEY = "sign-in-test-api-key-0123456789abcdef"
SESSION_KEY = "sign-in-test-session-key-0123456789abcdef"
BIND_PASSWORD = "sign-in-test-bind-password-0123"
CLIENT_SECRET = "sign-in-test-client-secret-0123"
PASSWORD = "sign-in-test-alice-password"
APP_GID = 10001  # the app's group (vars/main.yml)
USERS = [{"name": "alice", "password": PASSWORD}]

pytestmark = [
    pytest.mark.slow,
    # The tasks give the files to root and the roles' groups, as on a server.
    pytest.mark.skipif(os.geteuid() != 0, reason="the role's file tasks chown to root"),
]


def _modes(ca_file: Path) -> dict[str, dict]:
    return {
        "basic": {"app_server_auth": "basic", "app_server_users": USERS},
        "local": {
            "app_server_auth": "local",
            "app_server_users": USERS,
            "app_server_local_bcrypt_cost": 10,
        },
        "ldap": {
            "app_server_auth": "ldap",
            "app_server_ldap_url": "ldap://idp.tradia.test:389",
            "app_server_ldap_starttls": True,
            "app_server_ldap_bind_dn": "uid=svc-tradia,ou=services,dc=tradia,dc=test",
            "app_server_ldap_bind_password": BIND_PASSWORD,
            "app_server_ldap_user_base": "ou=users,dc=tradia,dc=test",
            "app_server_ldap_group_dn": "cn=translators,ou=groups,dc=tradia,dc=test",
            # Empty: the deployment CA of internal_ca_dir.
            "app_server_ldap_ca_file": "",
        },
        "oidc": {
            "app_server_auth": "oidc",
            "app_server_oidc_issuer": "https://idp.tradia.test",
            "app_server_oidc_client_id": "tradia",
            "app_server_oidc_client_secret": CLIENT_SECRET,
            "app_server_oidc_scopes": ["openid", "profile", "groups"],
            "app_server_oidc_allowed_groups": ["translators", "reviewers"],
            "app_server_oidc_provider_name": "LemonLDAP::NG",
            "app_server_oidc_ca_file": str(ca_file),
        },
    }


def _deploy(tmp_path: Path, mode: str) -> tuple[dict, list[str], str]:
    """Runs app_server's config.yml in `mode` under tmp_path/app; returns the app container's
    environment and volumes as the role computes them, and the play's whole output."""
    pki = tmp_path / "pki"
    pki.mkdir(exist_ok=True)
    (pki / "ca.crt").write_text("deployment CA\n")
    (tmp_path / "idp-ca.pem").write_text("provider CA\n")
    play = {
        "hosts": "localhost",
        "gather_facts": False,
        "tasks": [
            {
                "name": "App server configuration",
                "ansible.builtin.include_role": {
                    "name": "app_server",
                    "tasks_from": "config",
                    "public": True,
                },
            },
            {
                "name": "The app container's environment and volumes",
                "ansible.builtin.debug": {
                    "msg": {
                        "env": "{{ __app_server_container_env }}",
                        "volumes": "{{ __app_server_app_volumes }}",
                    }
                },
            },
        ],
    }
    variables = {
        "app_server_config_dir": str(tmp_path / "app"),
        "app_server_api_key": API_KEY,
        "app_server_session_key": SESSION_KEY,
        "app_server_ai_servers": ["https://ai1.example.org:11434"],
        "app_server_ollama_model": "smollm2:135m",
        "internal_ca_dir": str(pki),
        **_modes(tmp_path / "idp-ca.pem")[mode],
    }
    result = run_play(play, variables, tmp_path, check=False, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads(result.stdout)
    shown = report["plays"][0]["tasks"][-1]["hosts"]["localhost"]["msg"]
    return shown["env"], shown["volumes"], result.stdout + result.stderr


def _files(tmp_path: Path) -> dict[str, str]:
    return {
        str(path.relative_to(tmp_path / "app")): path.read_text(errors="replace")
        for path in (tmp_path / "app").rglob("*")
        if path.is_file()
    }


def _app_routers_middlewares(tmp_path: Path) -> tuple[dict, dict]:
    dynamic = yaml.safe_load((tmp_path / "app" / "traefik" / "dynamic" / "tradia.yml").read_text())
    routers = {name: router["middlewares"] for name, router in dynamic["http"]["routers"].items()}
    return routers, dynamic["http"]["middlewares"]


def test_basic_mode_keeps_traefik_basic_auth_and_the_user_header(tmp_path):
    env, volumes, output = _deploy(tmp_path, "basic")
    routers, middlewares = _app_routers_middlewares(tmp_path)
    chain = ["tradia-user-strip", "tradia-ratelimit", "tradia-headers", "tradia-auth"]
    chain.append("tradia-compress")
    assert routers == {"tradia": chain, "tradia-metrics": ["tradia-metrics-allow", *chain]}
    assert middlewares["tradia-auth"]["basicAuth"]["headerField"] == "X-Forwarded-User"
    files = _files(tmp_path)
    assert bcrypt.checkpw(
        PASSWORD.encode(), files["traefik/users"].split(":", 1)[1].strip().encode()
    )
    # The app trusts the header Traefik sets; it signs nobody in itself.
    assert env["TRADIA_AUTH"] == "none"
    assert env["TRADIA_USER_HEADER"] == "X-Forwarded-User"
    assert not any(
        name.startswith(("TRADIA_SESSION", "TRADIA_LDAP", "TRADIA_OIDC")) for name in env
    )
    assert not any(path.startswith("auth/") for path in files), sorted(files)
    assert not any("/auth:" in volume for volume in volumes), volumes
    assert PASSWORD not in output


@pytest.mark.parametrize("mode", ["local", "ldap", "oidc"])
def test_session_modes_drop_basic_auth_and_keep_secrets_in_their_files(mode, tmp_path):
    env, volumes, output = _deploy(tmp_path, mode)
    routers, middlewares = _app_routers_middlewares(tmp_path)
    # No password asked by Traefik on any route to the app, and no basicAuth middleware at all...
    assert all("tradia-auth" not in chain for chain in routers.values()), routers
    assert not any("basicAuth" in middleware for middleware in middlewares.values())
    # ...but a user header sent by a client is still dropped before the app.
    assert all(chain.count("tradia-user-strip") == 1 for chain in routers.values()), routers
    assert middlewares["tradia-user-strip"]["headers"]["customRequestHeaders"] == {
        "X-Forwarded-User": ""
    }

    files = _files(tmp_path)
    assert "traefik/users" not in files
    secrets = {
        SESSION_KEY: "auth/session.key",
        BIND_PASSWORD: "auth/ldap-bind-password" if mode == "ldap" else None,
        CLIENT_SECRET: "auth/oidc-client-secret" if mode == "oidc" else None,
        PASSWORD: None,  # only its bcrypt hash is written
    }
    for secret, home in secrets.items():
        holders = [path for path, text in files.items() if secret in text]
        assert holders == ([home] if home else []), (home, holders)
        assert secret not in output
        assert secret not in json.dumps(env)
    for name in ("session.key", "ldap-bind-password", "oidc-client-secret", "users"):
        path = tmp_path / "app" / "auth" / name
        if path.exists():
            info = path.stat()
            assert (stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid) == (0o440, 0, APP_GID)

    auth = "/etc/tradia/auth"
    assert env["TRADIA_AUTH"] == mode
    assert env["TRADIA_SESSION_KEY_FILE"] == f"{auth}/session.key"
    assert "TRADIA_USER_HEADER" not in env
    assert f"{tmp_path}/app/auth:{auth}:ro" in volumes
    if mode == "local":
        name, hashed = files["auth/users"].strip().split(":", 1)
        assert name == "alice"
        assert hashed.startswith("$2b$10$")
        assert bcrypt.checkpw(PASSWORD.encode(), hashed.encode())
        assert env["TRADIA_LOCAL_USERS_FILE"] == f"{auth}/users"
    if mode == "ldap":
        assert files["auth/ldap-ca.crt"] == "deployment CA\n"
        assert env["TRADIA_LDAP_URL"] == "ldap://idp.tradia.test:389"
        assert env["TRADIA_LDAP_STARTTLS"] == "true"
        assert env["TRADIA_LDAP_CA_FILE"] == f"{auth}/ldap-ca.crt"
        assert env["TRADIA_LDAP_BIND_PASSWORD_FILE"] == f"{auth}/ldap-bind-password"
        assert env["TRADIA_LDAP_SEARCH_BASE"] == "ou=users,dc=tradia,dc=test"
        assert env["TRADIA_LDAP_USER_FILTER"] == "(uid={username})"
    if mode == "oidc":
        assert files["auth/oidc-ca.crt"] == "provider CA\n"
        assert env["TRADIA_OIDC_SCOPES"] == "openid profile groups"
        assert env["TRADIA_OIDC_ALLOWED_GROUPS"] == "translators,reviewers"
        assert env["TRADIA_OIDC_CLIENT_SECRET_FILE"] == f"{auth}/oidc-client-secret"
        assert env["TRADIA_OIDC_CA_FILE"] == f"{auth}/oidc-ca.crt"


def test_a_mode_left_behind_leaves_no_secret(tmp_path):
    _deploy(tmp_path, "ldap")
    assert (tmp_path / "app" / "auth" / "ldap-bind-password").exists()
    _deploy(tmp_path, "oidc")
    assert sorted(p.name for p in (tmp_path / "app" / "auth").iterdir()) == [
        "oidc-ca.crt",
        "oidc-client-secret",
        "session.key",
    ]
    _deploy(tmp_path, "basic")
    assert list((tmp_path / "app" / "auth").iterdir()) == []

"""The roles' Traefik configuration, rendered by ansible-playbook and moved onto local ports.

Only what differs between a container and a local process is rewritten: listening addresses,
file paths under /etc, and the upstream addresses (container names). Everything else (TLS
options, basic auth and its bcrypt cost, rate limits, headers, retries, health checks, timeouts,
access logs) is the role's own output.
"""

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from ollama_sim.testing import Pki, free_port, make_pki

REPO = Path(__file__).resolve().parent.parent
PLAYBOOK = Path(__file__).resolve().parent / "render.yml"
API_KEY = "bench-only-key-0123456789abcdef0123456789abcdef"
LOGIN = ("bench", "bench-password")
# The session mode's cookie key (app_server_session_key): at least 32 characters.
SESSION_KEY = "bench-only-session-key-0123456789abcdef0123456789abcdef"
MODEL = "llama3.1:8b"
_OLLAMA_CONTAINER = "tradia-ollama"
_OLLAMA_PORT = 11435  # ai_server_ollama_port's default
_APP_CONTAINER = "tradia-app"
_APP_AUTH_PATH = "/etc/tradia/auth"  # __app_server_auth_path: the sign-in files in the app


@dataclass(frozen=True)
class Ports:
    sim: int
    ai_traefik: int
    ai_ping: int
    app: int
    app_web: int
    app_websecure: int
    app_ai: int
    app_ping: int

    @classmethod
    def pick(cls) -> "Ports":
        return cls(*(free_port() for _ in range(8)))


@dataclass(frozen=True)
class Rendered:
    directory: Path
    ports: Ports
    pki: Pki
    login: bool
    app_env: dict[str, str]
    # The app signs users in (app_server_auth: local) and Traefik asks for no password.
    session: bool = False

    @property
    def ai_static(self) -> Path:
        return self.directory / "ai" / "traefik" / "traefik.yml"

    @property
    def app_static(self) -> Path:
        return self.directory / "app" / "traefik" / "traefik.yml"


def render(
    directory: Path,
    *,
    login: bool,
    session: bool = False,
    ai_urls: list[str] | None = None,
    pki: Pki | None = None,
) -> Rendered:
    """Render both roles' files under `directory` (the app server's login on or off, or
    `session`: the role's local sign-in), serving `pki`'s certificate (default: a throwaway one
    from ollama_sim.testing)."""
    if login and session:
        raise ValueError("login (Traefik's basic auth) and session (the app's) exclude each other")
    directory.mkdir(parents=True, exist_ok=True)
    ports = Ports.pick()
    pki = pki or make_pki(directory / "pki")
    extra = {
        "bench_dir": str(directory),
        "ai_server_api_key": API_KEY,
        "app_server_api_key": API_KEY,
        "app_server_ollama_model": MODEL,
        "app_server_ai_servers": ai_urls or [f"https://127.0.0.1:{ports.ai_traefik}"],
        # Always one user: the role cannot render app_server_users: [] (its users-file task
        # copies empty content, which ansible.builtin.copy refuses); see _drop_login.
        "app_server_users": [{"name": LOGIN[0], "password": LOGIN[1]}],
        "ansible_python_interpreter": sys.executable,
    }
    if session:
        # The role's defaults otherwise (app_server_local_bcrypt_cost, the session lifetimes).
        extra |= {"app_server_auth": "local", "app_server_session_key": SESSION_KEY}
    extra_file = directory / "extra-vars.json"
    extra_file.write_text(json.dumps(extra))
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    result = subprocess.run(  # noqa: S603 - ansible-playbook of this venv, fixed arguments
        [
            str(Path(sys.executable).parent / "ansible-playbook"),
            "-i",
            "localhost,",
            "-e",
            f"@{extra_file}",
            str(PLAYBOOK),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"rendering the roles' files failed:\n{result.stdout}\n{result.stderr}")
    app_env = json.loads((directory / "app" / "env.json").read_text())
    app_env = localise_auth_env(app_env, directory / "app")
    rendered = Rendered(directory, ports, pki, login, app_env, session)
    _localise(rendered)
    if not login and not session:
        _drop_login(directory / "app" / "traefik" / "dynamic" / "tradia.yml")
    return rendered


def localise_auth_env(env: dict[str, str], app_dir: Path) -> dict[str, str]:
    """The app's sign-in file paths (mounted at /etc/tradia/auth in the container) pointed at
    the role's output under `app_dir`/auth."""
    local = str(app_dir / "auth")
    return {
        name: local + value[len(_APP_AUTH_PATH) :]
        if value.startswith(_APP_AUTH_PATH + "/")
        else value
        for name, value in env.items()
    }


def bcrypt_cost(users_file: Path) -> int | None:
    """The bcrypt cost of a rendered users file's first hash ($2y$<cost>$...), None without one:
    the figures say which cost they were measured at, whatever the role's default is then."""
    if not users_file.is_file():
        return None
    for line in users_file.read_text().splitlines():
        _, sep, hashed = line.strip().partition(":")
        fields = hashed.split("$")
        if sep and len(fields) > 3 and fields[2].isdigit():
            return int(fields[2])
    return None


def _drop_login(path: Path) -> None:
    """What dynamic-tradia.yml.j2 renders with app_server_users: [] (no tradia-auth)."""
    config: dict[str, Any] = yaml.safe_load(path.read_text())
    http = config["http"]
    for router in http["routers"].values():
        router["middlewares"] = [m for m in router["middlewares"] if m != "tradia-auth"]
    del http["middlewares"]["tradia-auth"]
    path.write_text(yaml.safe_dump(config, sort_keys=False))


def _rewrite(path: Path, replacements: dict[str, str]) -> None:
    text = path.read_text()
    for old, new in replacements.items():
        text = text.replace(old, new)
    path.write_text(text)


def _static(path: Path, addresses: dict[str, int], dynamic: Path, access_log: Path) -> None:
    config: dict[str, Any] = yaml.safe_load(path.read_text())
    for name, port in addresses.items():
        config["entryPoints"][name]["address"] = f"127.0.0.1:{port}"
    config["providers"]["file"]["directory"] = str(dynamic)
    config["accessLog"]["filePath"] = str(access_log)
    path.write_text(yaml.safe_dump(config, sort_keys=False))


def _localise(r: Rendered) -> None:
    p, d = r.ports, r.directory
    tls = {
        "/etc/traefik-tls/server.crt": str(r.pki.server_cert),
        "/etc/traefik-tls/server.key": str(r.pki.server_key),
    }
    ai_dir, app_dir = d / "ai" / "traefik", d / "app" / "traefik"
    _static(
        r.ai_static,
        {"ollama": p.ai_traefik, "ping": p.ai_ping},
        ai_dir / "dynamic",
        d / "ai-access.log",
    )
    _rewrite(
        ai_dir / "dynamic" / "ollama.yml",
        {
            f"http://{_OLLAMA_CONTAINER}:{_OLLAMA_PORT}": f"http://127.0.0.1:{p.sim}",
        },
    )
    _static(
        r.app_static,
        {"web": p.app_web, "websecure": p.app_websecure, "ai": p.app_ai, "ping": p.app_ping},
        app_dir / "dynamic",
        d / "app-access.log",
    )
    _rewrite(
        app_dir / "dynamic" / "tradia.yml",
        {
            f"http://{_APP_CONTAINER}:8000": f"http://127.0.0.1:{p.app}",
        },
    )
    _rewrite(app_dir / "dynamic" / "ai.yml", {"/etc/traefik-ai-ca/ca.crt": str(r.pki.ca_cert)})
    # Both Traefiks' TLS profile and certificate (container_stack's traefik_tls).
    for traefik in (ai_dir, app_dir):
        _rewrite(traefik / "dynamic" / "tls.yml", tls)

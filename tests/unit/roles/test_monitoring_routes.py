"""The servers' side of monitoring, run for real against a temporary directory on localhost.

With a monitoring host in the inventory, each server's Traefik serves exactly the paths that
roles/monitoring's Prometheus scrapes (node exporter, Traefik's metrics, the GPU's on AI
servers), on the port it scrapes, to the monitoring hosts only and with the scrape user's
password (bcrypt); the AI firewall and the app's /metrics let the monitoring hosts in. Without
one, nothing of it is written: the servers stay as they were."""

import json
import os
from pathlib import Path

import bcrypt
import pytest
import yaml
from role_check_mode import run_play

ROOT = Path(__file__).resolve().parents[3]
KEY = "monitoring-routes-test-key-0123456789abcdef"
PASSWORD = "monitoring-routes-test-scrape-password"
MONITOR = "192.0.2.50"

pytestmark = [
    pytest.mark.slow,
    # The tasks give the files to root and the roles' groups, as on a server.
    pytest.mark.skipif(os.geteuid() != 0, reason="the roles' file tasks chown to root"),
]


def _run(tmp_path: Path, monitored: bool, password: str = PASSWORD, app_password: str = ""):
    """Runs ai_server's traefik_config.yml and app_server's config.yml on localhost (an AI and
    an app server) with or without a monitoring host."""
    groups: dict = {
        "ai_servers": {"hosts": {"localhost": None}},
        "app_servers": {"hosts": {"localhost": None}},
    }
    if monitored:
        groups["monitoring"] = {"hosts": {"mon1": {"ansible_host": MONITOR}}}
    inventory = tmp_path / "inventory.json"
    inventory.write_text(
        json.dumps(
            {"all": {"hosts": {"localhost": {"ansible_connection": "local"}}, "children": groups}}
        )
    )
    play = {
        "hosts": "localhost",
        "gather_facts": False,
        "tasks": [
            {
                "name": "AI gateway configuration",
                # Public: its firewall's sources are read below.
                "ansible.builtin.include_role": {
                    "name": "ai_server",
                    "tasks_from": "traefik_config",
                    "public": True,
                },
                "vars": {"ai_server_config_dir": str(tmp_path / "ai")},
            },
            {
                "name": "App server configuration",
                "ansible.builtin.include_role": {"name": "app_server", "tasks_from": "config"},
                "vars": {"app_server_config_dir": str(tmp_path / "app")},
            },
            {
                "name": "The monitoring role's variables",
                "ansible.builtin.include_vars": {
                    "dir": str(ROOT / "roles" / "monitoring" / "defaults")
                },
            },
            {
                "name": "Its vars",
                "ansible.builtin.include_vars": {
                    "dir": str(ROOT / "roles" / "monitoring" / "vars")
                },
            },
            {
                "name": "What the roles computed",
                "ansible.builtin.debug": {
                    "msg": {
                        "jobs": "{{ __monitoring_scrape_jobs }}",
                        "firewall": "{{ __ai_server_firewall_sources }}",
                    }
                },
            },
        ],
    }
    variables = {
        "ai_server_api_key": KEY,
        "app_server_api_key": KEY,
        "app_server_ai_servers": ["https://ai1.example.org:11434"],
        "app_server_ollama_model": "smollm2:135m",
        "monitoring_scrape_password": password,
        "app_server_users": [{"name": "alice", "password": app_password or "alice-password-1"}],
        "app_server_users_bcrypt_cost": 4,
    }
    return run_play(play, variables, tmp_path, check=False, timeout=300, inventory=str(inventory))


def _render(tmp_path: Path, monitored: bool) -> tuple[dict, str]:
    """_run's values the roles computed (the scrape jobs, the AI firewall's sources) and the
    play's whole output."""
    result = _run(tmp_path, monitored)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads(result.stdout)
    return report["plays"][0]["tasks"][-1]["hosts"]["localhost"][
        "msg"
    ], result.stdout + result.stderr


def _yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def _routes(dynamic: dict) -> dict[str, dict]:
    """{scraped path: router} of the monitoring routes."""
    return {
        router["rule"].removeprefix("Path(`").removesuffix("`)"): router
        for name, router in dynamic["http"]["routers"].items()
        if name.startswith("monitoring-")
    }


def test_servers_serve_what_prometheus_scrapes_to_the_monitoring_hosts_only(tmp_path):
    computed, output = _render(tmp_path, monitored=True)
    assert PASSWORD not in output
    entrypoints = {
        "ai": ("ollama", _yaml(tmp_path / "ai" / "traefik" / "traefik.yml")),
        "app": ("websecure", _yaml(tmp_path / "app" / "traefik" / "traefik.yml")),
    }
    for role, directory in (("ai", "ai"), ("app", "app")):
        dynamic = _yaml(tmp_path / directory / "traefik" / "dynamic" / "monitoring.yml")
        routes = _routes(dynamic)
        scraped = [
            job for job in computed["jobs"] if job["role"] == role and job["job"] != "tradia_app"
        ]
        assert sorted(routes) == sorted(job["path"] for job in scraped), (role, routes)
        entrypoint, static = entrypoints[role]
        for job in scraped:
            router = routes[job["path"]]
            # On the port Prometheus scrapes, over TLS, sources first, then the password.
            assert router["entryPoints"] == [entrypoint]
            if role == "ai":
                assert static["entryPoints"][entrypoint]["address"] == f":{job['port']}"
            else:
                # websecure is published on app_server_https_port (443).
                assert job["port"] == 443
            assert "tls" in router
            assert router["middlewares"][:2] == ["monitoring-sources", "monitoring-auth"]
        middlewares = dynamic["http"]["middlewares"]
        assert middlewares["monitoring-sources"]["ipAllowList"]["sourceRange"] == [MONITOR]
        # Inline, as in the users file (the hash store of the next run).
        users = middlewares["monitoring-auth"]["basicAuth"]["users"]
        assert "usersFile" not in middlewares["monitoring-auth"]["basicAuth"]
        stored = (tmp_path / directory / "traefik" / "monitoring-users").read_text().splitlines()
        assert users == stored
        assert len(users) == 1
        user, hashed = users[0].split(":", 1)
        assert user == "prometheus"
        assert bcrypt.checkpw(PASSWORD.encode(), hashed.encode())
        # Traefik's own metrics: prometheus@internal, which the static configuration enables.
        assert routes["/monitoring/traefik"]["service"] == "prometheus@internal"
        assert "prometheus" in static["metrics"]
    assert "/monitoring/gpu" in _routes(
        _yaml(tmp_path / "ai" / "traefik" / "dynamic" / "monitoring.yml")
    )
    # The app's /metrics and the AI firewall let the monitoring host in.
    app = _yaml(tmp_path / "app" / "traefik" / "dynamic" / "tradia.yml")
    assert (
        MONITOR in app["http"]["middlewares"]["tradia-metrics-allow"]["ipAllowList"]["sourceRange"]
    )
    assert MONITOR in computed["firewall"]
    # ... as the scrape user, not one of the app's users (the default basic mode asks for those).
    scrape = app["http"]["routers"]["tradia-metrics-monitoring"]
    assert scrape["rule"] == f"PathPrefix(`/metrics`) && (ClientIP(`{MONITOR}`))"
    assert scrape["priority"] > app["http"]["routers"]["tradia-metrics"]["priority"]
    assert scrape["middlewares"][:2] == ["monitoring-sources", "monitoring-auth"]
    assert "tradia-auth" not in scrape["middlewares"]


def test_without_a_monitoring_host_nothing_of_it_is_written(tmp_path):
    computed, _ = _render(tmp_path, monitored=False)
    for directory in ("ai", "app"):
        assert not (tmp_path / directory / "traefik" / "dynamic" / "monitoring.yml").exists()
        assert not (tmp_path / directory / "traefik" / "monitoring-users").exists()
    assert "metrics" not in _yaml(tmp_path / "app" / "traefik" / "traefik.yml")
    app = _yaml(tmp_path / "app" / "traefik" / "dynamic" / "tradia.yml")
    assert "tradia-metrics-monitoring" not in app["http"]["routers"]
    assert app["http"]["middlewares"]["tradia-metrics-allow"]["ipAllowList"]["sourceRange"] == [
        "127.0.0.1/32"
    ]
    assert MONITOR not in computed["firewall"]


def test_the_servers_join_the_exporters_network_by_its_one_name():
    monitoring = _yaml(ROOT / "roles" / "monitoring" / "vars" / "main.yml")
    for role in ("ai_server", "app_server"):
        server = _yaml(ROOT / "roles" / role / "vars" / "main.yml")
        assert server[f"__{role}_exporters_network"] == monitoring["__monitoring_exporters_network"]


def test_a_weak_scrape_password_is_refused_before_any_route_is_written(tmp_path):
    weak = "prometheus123"
    result = _run(tmp_path, monitored=True, password=weak)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "monitoring_scrape_password" in output, output[-2000:]
    assert weak not in output
    for directory in ("ai", "app"):
        assert not (tmp_path / directory / "traefik" / "dynamic" / "monitoring.yml").exists()
        assert not (tmp_path / directory / "traefik" / "monitoring-users").exists()


def _basic_auth_users(path: Path, middleware: str) -> list[str]:
    return _yaml(path)["http"]["middlewares"][middleware]["basicAuth"]["users"]


def test_a_changed_password_changes_the_files_traefik_watches(tmp_path):
    """Traefik's file provider watches its dynamic directory only: a new scrape password (or an
    app user's, in basic mode) must change a file there, or Traefik keeps the old one."""
    watched = {
        "scrape": (tmp_path / "ai" / "traefik" / "dynamic" / "monitoring.yml", "monitoring-auth"),
        "app": (tmp_path / "app" / "traefik" / "dynamic" / "tradia.yml", "tradia-auth"),
    }
    first = _run(tmp_path, monitored=True)
    assert first.returncode == 0, first.stdout[-3000:]
    before = {name: path.read_text() for name, (path, _) in watched.items()}
    unchanged = _run(tmp_path, monitored=True)
    assert unchanged.returncode == 0, unchanged.stdout[-3000:]
    assert {name: path.read_text() for name, (path, _) in watched.items()} == before
    new_password, new_app_password = PASSWORD + "-rotated", "alice-password-2"
    second = _run(tmp_path, monitored=True, password=new_password, app_password=new_app_password)
    assert second.returncode == 0, second.stdout[-3000:]
    for name, (path, middleware) in watched.items():
        assert path.read_text() != before[name], f"{path.name} unchanged: Traefik keeps the old"
        (entry,) = _basic_auth_users(path, middleware)
        secret = new_password if name == "scrape" else new_app_password
        assert bcrypt.checkpw(secret.encode(), entry.split(":", 1)[1].encode())

"""The monitoring role: bad inventory values stop it before any change, naming the variable (the
validation harness of the server roles), and what it renders is what Prometheus accepts:
prometheus.yml from an inventory's groups (`promtool check config`), the rules, and
Alertmanager's e-mail settings without the password leaking into the output."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from role_check_mode import (
    ARG_SPEC,
    ROOT,
    assert_baseline_passes,
    failed_task,
    is_check,
    run_role,
)

SPEC = ARG_SPEC
PASSWORD = "p" * 40
SMTP_SECRET = "smtp-" + "s" * 30


@pytest.fixture
def baseline(tmp_path: Path) -> dict:
    ca = tmp_path / "ca.crt"
    ca.write_text("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n")
    return {"monitoring_scrape_password": PASSWORD, "monitoring_scrape_ca_cert": str(ca)}


CASES = [
    # (variable, bad value, extra variables, the check that refuses it)
    ("monitoring_scrape_password", "short", {}, "Check the scrape credentials"),
    (
        "monitoring_scrape_password",
        "CHANGE-ME-openssl-rand-hex-32",
        {},
        "Check the scrape credentials",
    ),
    ("monitoring_scrape_user", "prom user", {}, "Check the scrape credentials"),
    ("monitoring_gpu_source", "nvml", {}, SPEC),
    ("monitoring_prometheus_image", "Prom/Prometheus latest", {}, "Check names, images and paths"),
    ("monitoring_docker_network", "-monitoring", {}, "Check names, images and paths"),
    ("monitoring_config_dir", "etc/tradia", {}, "Check names, images and paths"),
    ("monitoring_scrape_path_prefix", "monitoring/", {}, "Check names, images and paths"),
    ("monitoring_prometheus_port", 0, {}, "Check the ports"),
    ("monitoring_smtp_port", "smtp", {}, SPEC),
    ("monitoring_retention_time", "30 days", {}, "Check the durations and thresholds"),
    ("monitoring_retention_size", "10G", {}, "Check the durations and thresholds"),
    ("monitoring_alert_vram_ratio", 1.5, {}, "Check the durations and thresholds"),
    ("monitoring_alert_5xx_ratio", 0, {}, "Check the durations and thresholds"),
    ("monitoring_alert_cert_days", 0, {}, "Check the durations and thresholds"),
    ("monitoring_alert_ai_down_for", "5 minutes", {}, "Check the for durations"),
    ("monitoring_alert_memory_for", "forever", {}, "Check the for durations"),
    ("monitoring_smtp_to", ["ops@example.org"], {}, "Check the e-mail settings"),  # no host
    (
        "monitoring_smtp_to",
        ["not-an-address"],
        {"monitoring_smtp_host": "smtp.example.org", "monitoring_smtp_from": "a@example.org"},
        "Check the e-mail settings",
    ),
    ("monitoring_smtp_user", "alerts", {}, "Check the e-mail settings"),  # no password
    (
        "monitoring_model_disk_mountpoints",
        ["var/lib/docker"],
        {},
        "Check the model disk mount points",
    ),
    ("monitoring_smtp_to", {"ops": "ops@example.org"}, {}, SPEC),
    (
        "monitoring_scrape_ca_cert",
        "/nonexistent/pki/ca.crt",
        {},
        "Check that the CA certificate Prometheus verifies the servers with is on the controller",
    ),
    ("monitoring_alert_group_wait", "soon", {}, "Check the for durations"),
    ("monitoring_gpu_nvidia_smi", "nvidia-smi", {}, "Check names, images and paths"),
]


@pytest.mark.parametrize(
    ("variable", "value", "extra", "check"), CASES, ids=[f"{c[0]}={c[1]!r}"[:60] for c in CASES]
)
def test_bad_value_fails_validation_naming_it(variable, value, extra, check, baseline, tmp_path):
    result = run_role("monitoring", {**baseline, **extra, variable: value}, tmp_path)
    assert result.returncode != 0
    failure = failed_task(result)
    assert is_check("monitoring", failure.task, check), str(failure)
    assert failure.names(variable), str(failure)


def test_the_baseline_passes_validation(baseline, tmp_path):
    assert_baseline_passes("monitoring", run_role("monitoring", baseline, tmp_path))


def _render(tmp_path: Path, variables: dict) -> subprocess.CompletedProcess[str]:
    """The role's config task file, for real, into tmp_path, with an inventory of two AI servers
    and one app server (only localhost, the monitoring host, is reached)."""
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        yaml.safe_dump(
            {
                "all": {
                    "children": {
                        "monitoring": {"hosts": {"localhost": {"ansible_connection": "local"}}},
                        "ai_servers": {"hosts": {"ai1": {"ansible_host": "10.0.0.5"}, "ai2": None}},
                        "app_servers": {"hosts": {"app1": {"ansible_host": "10.0.0.9"}}},
                    }
                }
            }
        )
    )
    play = [
        {
            "hosts": "monitoring",
            "gather_facts": False,
            "tasks": [
                {
                    "name": "Render",
                    "ansible.builtin.include_role": {"name": "monitoring", "tasks_from": "config"},
                }
            ],
        }
    ]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play))
    (tmp_path / "vars.json").write_text(json.dumps(variables))
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_ROLES_PATH": str(ROOT / "roles"),
        "ANSIBLE_NOCOLOR": "1",
    }
    command = [
        str(Path(sys.executable).parent / "ansible-playbook"),
        "-i", str(inventory), "-e", f"ansible_python_interpreter={sys.executable}",
        "-e", f"@{tmp_path / 'vars.json'}", str(tmp_path / "play.yml"),
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=180)


@pytest.mark.skipif(os.geteuid() != 0, reason="the role sets owners (root, nobody)")
def test_rendered_configuration_is_what_prometheus_accepts(baseline, tmp_path):
    config = tmp_path / "etc"
    variables = {
        **baseline,
        "monitoring_config_dir": str(config),
        "monitoring_data_dir": str(tmp_path / "data"),
        "monitoring_smtp_host": "smtp.example.org",
        "monitoring_smtp_from": "tradia@example.org",
        "monitoring_smtp_to": ["ops@example.org", "oncall@example.org"],
        "monitoring_smtp_user": "tradia",
        "monitoring_smtp_password": SMTP_SECRET,
    }
    result = _render(tmp_path, variables)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert SMTP_SECRET not in result.stdout + result.stderr
    assert PASSWORD not in result.stdout + result.stderr

    prometheus = config / "prometheus" / "prometheus.yml"
    check = subprocess.run(
        ["promtool", "check", "config", "--syntax-only", str(prometheus)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr
    loaded = yaml.safe_load(prometheus.read_text())
    targets = {
        (job["job_name"], target, group["labels"]["instance"], group["labels"]["tradia_role"])
        for job in loaded["scrape_configs"]
        for group in job["static_configs"]
        for target in group["targets"]
    }
    # ansible_host when the inventory has one, the inventory name otherwise; TLS ports per role.
    assert ("node_ai", "10.0.0.5:11434", "ai1", "ai") in targets
    assert ("node_ai", "ai2:11434", "ai2", "ai") in targets
    assert ("tradia_app_app", "10.0.0.9:443", "app1", "app") in targets
    assert ("gpu_ai", "10.0.0.5:11434", "ai1", "ai") in targets  # dcgm-exporter by default
    for job in loaded["scrape_configs"]:
        assert job["scheme"] == "https"
        assert job["basic_auth"]["password_file"] == "/etc/prometheus/scrape_password"
    assert (config / "prometheus" / "scrape_password").read_text() == PASSWORD
    assert (config / "prometheus" / "scrape_password").stat().st_mode & 0o007 == 0

    rules = config / "prometheus" / "rules" / "tradia.rules.yml"
    check = subprocess.run(
        ["promtool", "check", "rules", str(rules)], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr

    alertmanager = config / "alertmanager" / "alertmanager.yml"
    loaded = yaml.safe_load(alertmanager.read_text())
    assert loaded["global"]["smtp_smarthost"] == "smtp.example.org:587"
    assert loaded["global"]["smtp_require_tls"] is True
    assert [c["to"] for c in loaded["receivers"][0]["email_configs"]] == [
        "ops@example.org",
        "oncall@example.org",
    ]
    assert alertmanager.stat().st_mode & 0o007 == 0
    # Prometheus's directory, the only one its container mounts, holds no SMTP password.
    for path in (config / "prometheus").rglob("*"):
        if path.is_file():
            assert SMTP_SECRET not in path.read_text(), path

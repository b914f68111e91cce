"""The Grafana dashboard imports in Grafana 10+ and asks only for series that exist: each panel's
PromQL parses (promtool) and names only the app's metrics, the recording rules' and the
exporters' listed below. The alert rules are held to the same list."""

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from monitoring_rules import ROLE, promtool, rules
from tradia.metrics import Metrics

DASHBOARD = ROLE / "files" / "dashboards" / "tradia.json"
GPU_SCRIPT = ROLE / "files" / "nvidia_smi_metrics.py"

# What the exporters the role deploys expose (names checked against their documentation and, for
# Traefik, its 3.x binary): Prometheus itself, Traefik, node exporter, NVIDIA's dcgm-exporter.
EXPORTER_METRICS = {
    "up",
    "traefik_entrypoint_requests_total",
    "traefik_service_requests_total",
    "traefik_service_server_up",
    "traefik_tls_certs_not_after",
    "node_filesystem_avail_bytes",
    "node_filesystem_size_bytes",
    "node_memory_MemAvailable_bytes",
    "DCGM_FI_DEV_FB_USED",
    "DCGM_FI_DEV_FB_FREE",
    "DCGM_FI_DEV_GPU_UTIL",
}
# Words of PromQL that look like names: keywords and aggregation modifiers.
KEYWORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless",
    "bool", "offset", "inf", "nan",
}  # fmt: skip
# Parts of an expression that hold no metric name: strings, label lists, durations.
NOT_NAMES = re.compile(
    r'"(?:[^"\\]|\\.)*"'  # strings (label values, regexes)
    r"|\{[^}]*\}"  # label matchers
    r"|\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)"  # label lists
    r"|\[[^\]]*\]"  # range and subquery durations
)
IDENTIFIER = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*(?![A-Za-z0-9_:])(?!\s*\()")


def metric_names(expr: str) -> set[str]:
    """The metric names an expression selects (function names and keywords left out)."""
    stripped = NOT_NAMES.sub(" ", expr)
    names = set()
    for match in IDENTIFIER.finditer(stripped):
        start = match.start()
        if start > 0 and (stripped[start - 1].isdigit() or stripped[start - 1] == "."):
            continue  # a number's exponent or unit (1e9, 5m is already gone)
        if match.group().lower() not in KEYWORDS:
            names.add(match.group())
    return names


def app_metrics() -> set[str]:
    """The series names the app's registry exposes, from its declared metric types."""
    suffixes = {"counter": ["_total"], "gauge": [""], "histogram": ["_bucket", "_sum", "_count"]}
    return {
        metric.name + suffix
        for metric in Metrics().registry.collect()
        for suffix in suffixes[metric.type]
    }


def gpu_textfile_metrics() -> set[str]:
    spec = importlib.util.spec_from_file_location("nvidia_smi_metrics_names", GPU_SCRIPT)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return {metric for metric, _help, _convert in module.VALUE_FIELDS.values()} | {module.UP_METRIC}


def known_metrics() -> set[str]:
    recorded = {rule["record"] for rule in rules() if "record" in rule}
    return app_metrics() | recorded | EXPORTER_METRICS | gpu_textfile_metrics()


def dashboard() -> dict:
    return json.loads(DASHBOARD.read_text(encoding="utf-8"))


def panel_exprs() -> list[tuple[str, str]]:
    return [
        (panel["title"], target["expr"])
        for panel in dashboard()["panels"]
        for target in panel.get("targets", [])
    ]


def test_metric_names_extraction() -> None:
    expr = (
        'histogram_quantile(0.95, sum by (le) (rate(tradia_ttft_bucket{task=~"a|b"}[5m])))'
        " / on(instance) group_left up offset 5m > 1e9 and tradia:ratio"
    )
    assert metric_names(expr) == {"tradia_ttft_bucket", "up", "tradia:ratio"}


def test_grafana_10_schema() -> None:
    board = dashboard()
    assert board["schemaVersion"] >= 38
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for panel in board["panels"]:
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${datasource}", panel["title"]


@pytest.mark.parametrize(
    "wanted",
    [
        "tradia_requests_total",  # users
        "tradia:tokens_per_second:rate5m",
        "tradia_queue_waiting",
        "tradia_time_to_first_token_seconds_bucket",
        "tradia_errors_total",
        "tradia:gpu_memory_used_ratio",
        "tradia:gpu_utilization_ratio",
    ],
)
def test_the_issue_asks_for_this_panel(wanted: str) -> None:
    assert any(wanted in metric_names(expr) for _title, expr in panel_exprs()), wanted


def test_panels_name_only_metrics_that_exist() -> None:
    known = known_metrics()
    unknown = {
        f"{title}: {name}" for title, expr in panel_exprs() for name in metric_names(expr) - known
    }
    assert not unknown, sorted(unknown)


def test_alert_rules_name_only_metrics_that_exist() -> None:
    known = known_metrics()
    unknown = {
        f"{rule.get('alert') or rule.get('record')}: {name}"
        for rule in rules()
        for name in metric_names(rule["expr"]) - known
    }
    assert not unknown, sorted(unknown)


def test_promtool_parses_every_panel_query(tmp_path: Path) -> None:
    # promtool has no offline query parser: each expression becomes a recording rule.
    group = {
        "name": "dashboard",
        "rules": [
            {"record": f"dashboard:panel_{i}", "expr": expr}
            for i, (_title, expr) in enumerate(panel_exprs())
        ],
    }
    path = tmp_path / "dashboard.rules.yml"
    path.write_text(yaml.safe_dump({"groups": [group]}), encoding="utf-8")
    result = subprocess.run(
        [promtool(), "check", "rules", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr

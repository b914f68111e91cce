"""The alert rules pass `promtool check rules`, and every promtool unit test of
tests/monitoring/rules passes: each alert fires in one case and stays quiet in another."""

import subprocess
from pathlib import Path

import pytest
import yaml
from monitoring_rules import RULE_TESTS, promtool, rules, write_rules

TEST_FILES = sorted(RULE_TESTS.glob("*.test.yml"))


def test_rules_pass_promtool_check(tmp_path: Path) -> None:
    path = write_rules(tmp_path)
    result = subprocess.run(
        [promtool(), "check", "rules", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_shortened_durations_still_load(tmp_path: Path) -> None:
    # The molecule inventory shortens every `for:`; the template must render valid rules then too.
    short = {name: "30s" for name in ("ai_down", "queue", "vram", "model_disk", "cert", "5xx")}
    overrides = {f"monitoring_alert_{name}_for": value for name, value in short.items()}
    path = write_rules(tmp_path, overrides)
    result = subprocess.run(
        [promtool(), "check", "rules", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    durations = {rule["alert"]: rule["for"] for rule in rules(overrides) if "alert" in rule}
    assert durations["TradiaAIServerDown"] == "30s", durations


def test_every_alert_has_a_firing_and_a_quiet_case() -> None:
    """Each alert is expected to fire somewhere and expected silent somewhere (exp_alerts: [])."""
    alerts = {rule["alert"] for rule in rules() if "alert" in rule}
    fires: set[str] = set()
    quiet: set[str] = set()
    for path in TEST_FILES:
        for case in yaml.safe_load(path.read_text(encoding="utf-8"))["tests"]:
            for check in case.get("alert_rule_test", []):
                (fires if check.get("exp_alerts") else quiet).add(check["alertname"])
    assert alerts - fires == set(), f"alerts never seen firing: {sorted(alerts - fires)}"
    assert alerts - quiet == set(), f"alerts never seen quiet: {sorted(alerts - quiet)}"


@pytest.mark.parametrize("test_file", TEST_FILES, ids=lambda p: p.name)
def test_promtool_unit_tests(test_file: Path, tmp_path: Path) -> None:
    write_rules(tmp_path)
    copy = tmp_path / test_file.name
    copy.write_text(test_file.read_text(encoding="utf-8"), encoding="utf-8")
    result = subprocess.run(
        [promtool(), "test", "rules", str(copy)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_there_are_rule_tests() -> None:
    assert len(TEST_FILES) >= 7, TEST_FILES

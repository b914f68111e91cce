"""Issue 13, item 8: the deployed 443 and 11434 against Mozilla's "intermediate" TLS profile.

sslyze (tests/integration/tls/mozilla_scan.py, in .venv/sslyze) scans 443 from the controller,
as a user's browser reaches it. 11434 accepts only the app servers (DOCKER-USER), so its scan
runs in the app server's network namespace: nsenter enters only that namespace, so the
controller's own sslyze runs there with the app server's source address, nothing is installed
on the app server (its image has no pip, the lab no internet) and no firewall rule is opened
for the test. The AI server is scanned by address with its inventory name as SNI: the
controller's resolver does not know the lab's names.

Both scans trust the deployment CA (--ca): then the profile must find nothing at all, and no
public trust store may accept the chain (the only finding without --ca: the CA is private).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import testinfra

from conftest import on_controller_docker

REPO = Path(__file__).resolve().parents[3]
SSLYZE_PYTHON = REPO / ".venv" / "sslyze" / "bin" / "python"
SCAN = REPO / "tests" / "integration" / "tls" / "mozilla_scan.py"
SUPPLIED_CA = "Supplied CA file"


def _eth0_address(host: testinfra.host.Host) -> str:
    return host.check_output("ip -4 -o addr show dev eth0").split()[3].split("/")[0]


def _scan(prefix: list[str], ca_file: str, ip: str, target: str) -> dict:
    assert SSLYZE_PYTHON.exists(), "sslyze's venv is missing: make venv (requirements-sslyze.txt)"
    result = subprocess.run(
        [*prefix, str(SSLYZE_PYTHON), str(SCAN), "--ca", ca_file, "--ip", ip, target],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    (report,) = json.loads(result.stdout)
    return dict(report)


def _assert_intermediate(report: dict) -> None:
    assert report["scan_errors"] == [], report
    assert report["issues"] == {}, report
    assert report["trusted_by"] == [SUPPLIED_CA], report


def test_443_passes_mozilla_intermediate(app_ip: str, ca_file: str) -> None:
    _assert_intermediate(_scan([], ca_file, app_ip, f"{app_ip}:443"))


def test_11434_passes_mozilla_intermediate_from_the_app_server(
    ai_server: testinfra.host.Host, ca_file: str
) -> None:
    app_pid = on_controller_docker("inspect", "-f", "{{.State.Pid}}", "app-server").stdout.strip()
    assert app_pid.isdigit(), app_pid
    netns = ["nsenter", f"--net=/proc/{app_pid}/ns/net", "--"]
    _assert_intermediate(_scan(netns, ca_file, _eth0_address(ai_server), "ai-server:11434"))

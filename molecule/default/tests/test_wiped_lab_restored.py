"""Backups that restore (issue 18): backup.yml archives the converged lab, monitoring data
included (backup_monitoring); the state that cannot be rebuilt is destroyed (the controller's CA
directory, /etc/tradia on both servers, the model, Prometheus and its data on the monitoring
host); restore.yml puts it back and deploys; then site.yml changes nothing, both servers present
the same certificates (same SHA-256 fingerprints), the AI server lists the same models and
Prometheus still holds what it had scraped before.
Runs last (file order, after test_upgrade.py): whatever it leaves, no other test depends on it.
Measured: 322 s beside other work (backup, restore with its site.yml, the site.yml rerun)."""

import hashlib
import json
import os
import re
import shutil
import ssl
import time
from pathlib import Path

import httpx
import pytest

from conftest import curl_ai_locally, inventory_vars, run_playbook, wait_until

CA_DIR = Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent")) / "pki"
# Throwaway, for the test bed only; handed to ansible-playbook in a 0600 file, not its arguments.
PASSPHRASE = "molecule-backup-passphrase-7e2c94d1b05f"
AUTOMATION = inventory_vars("ai_servers")["ai_server_api_clients"][0]


def _eth0(host) -> str:
    return host.check_output("ip -4 -o addr show dev eth0").split()[3].split("/")[0]


def _fingerprint(address: str, port: int) -> str:
    pem = ssl.get_server_certificate((address, port), timeout=30)
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()


def _models(ai_ip: str, ca_file: Path) -> list[str]:
    """The AI server's models, as a client of the gateway sees them."""
    response = httpx.get(
        f"https://{ai_ip}:11434/api/tags",
        auth=(AUTOMATION["name"], AUTOMATION["key"]),
        verify=ssl.create_default_context(cafile=str(ca_file)),
        timeout=60,
    )
    response.raise_for_status()
    return sorted(model["name"] for model in response.json()["models"])


def _changed(run) -> dict[str, int]:
    """changed= of each host in the PLAY RECAP."""
    return {
        match.group(1): int(match.group(2))
        for match in re.finditer(r"^(\S+)\s+:\s+ok=\d+\s+changed=(\d+)", run.stdout, re.MULTILINE)
    }


def _scraped_at(app_server, at: float) -> list[str]:
    """The instances whose node exporter Prometheus had scraped as up at the time `at`."""
    query = httpx.QueryParams({"query": 'up{job="node"} == 1', "time": f"{at:.3f}"})
    out = app_server.check_output(
        "curl -sf --max-time 10 %s", f"http://127.0.0.1:9090/api/v1/query?{query}"
    )
    return sorted(sample["metric"]["instance"] for sample in json.loads(out)["data"]["result"])


def _tail(run) -> str:
    return run.stdout[-4000:] + run.stderr[-2000:]


@pytest.fixture
def secrets(tmp_path: Path) -> Path:
    path = tmp_path / "backup-vars.json"
    path.touch(mode=0o600)
    path.write_text(json.dumps({"backup_passphrase": PASSPHRASE}))
    return path


def test_a_restored_lab_serves_the_same_certificates_and_models(
    ai_server, app_server, secrets, tmp_path
):
    ai_ip, app_ip = _eth0(ai_server), _eth0(app_server)
    ca_copy = tmp_path / "ca.crt"
    shutil.copy(CA_DIR / "ca.crt", ca_copy)
    before = {
        "app": _fingerprint(app_ip, 443),
        "ai": _fingerprint(ai_ip, 11434),
        "models": _models(ai_ip, ca_copy),
        "ca": (CA_DIR / "ca.crt").read_bytes(),
    }
    assert before["models"], "the converged lab has no model to restore"
    # A moment Prometheus has data for: the restored monitoring host must still have it (a new,
    # empty Prometheus has no sample at or before that moment).
    both = ["ai-server", "app-server"]
    wait_until(lambda: _scraped_at(app_server, time.time()) == both, "both servers scraped", 120)
    scraped_at = time.time()
    before["scraped"] = _scraped_at(app_server, scraped_at)
    assert before["scraped"] == ["ai-server", "app-server"], before["scraped"]
    archive = tmp_path / "lab.tar.gpg"
    # One archive, the same extra variables for its backup and its restore.
    archive_vars = (
        *("-e", f"@{secrets}"),
        *("-e", f"backup_archive={archive}"),
        *("-e", "backup_monitoring=true"),
    )
    backup = run_playbook("backup.yml", *archive_vars)
    assert backup.returncode == 0, _tail(backup)
    assert archive.stat().st_size > 0

    # What a lost controller and two reinstalled servers would not have.
    for model in before["models"]:
        body = json.dumps({"model": model})
        # testinfra quotes each argument for the shell itself.
        deleted = curl_ai_locally(ai_server, "/api/delete", "-X", "DELETE", "-d", body)
        assert deleted == (0, "200"), deleted
    assert _models(ai_ip, ca_copy) == []
    shutil.rmtree(CA_DIR)
    for host in (ai_server, app_server):
        host.run_expect([0], "rm -rf /etc/tradia")
    # A reinstalled monitoring host: neither Prometheus nor its data.
    app_server.run_expect(
        [0], "docker rm -f tradia-prometheus && rm -rf /var/lib/tradia/monitoring"
    )

    restore = run_playbook("restore.yml", *archive_vars, timeout=600)
    assert restore.returncode == 0, _tail(restore)

    rerun = run_playbook("site.yml")
    assert rerun.returncode == 0, _tail(rerun)
    changed = _changed(rerun)
    assert changed, _tail(rerun)
    assert set(changed.values()) == {0}, _tail(rerun)
    after = {
        "app": _fingerprint(app_ip, 443),
        "ai": _fingerprint(ai_ip, 11434),
        "models": _models(ai_ip, ca_copy),
        "ca": (CA_DIR / "ca.crt").read_bytes(),
        "scraped": _scraped_at(app_server, scraped_at),
    }
    assert after == before

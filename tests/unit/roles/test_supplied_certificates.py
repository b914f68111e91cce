"""Certificates the operator supplies (`*_tls_source: files`) cannot be renewed by the roles:
an expired one is refused before anything changes, one expiring within 30 days is deployed with a
warning at every run. And the deployment CA's passphrase is checked with the other inputs, not
after Docker is installed."""

import datetime
import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from role_check_mode import ROOT, failed_task, run_role, task_names

GOOD_KEY = "k" * 40
ROLES = {
    "ai_server": {"ai_server_api_key": GOOD_KEY, "ai_server_allowed_clients": ["10.0.0.5"]},
    "app_server": {
        "app_server_api_key": GOOD_KEY,
        "app_server_ai_servers": ["https://ai1.example.org:11434"],
        "app_server_image_build_src": str(ROOT / "app"),
    },
}
REFUSED = "internal_ca : Refuse a supplied certificate that is expired or not valid yet"
WARNED = "internal_ca : Warn that the supplied certificate expires soon (renew it at its issuer)"


def _self_signed(directory: Path, not_before: datetime.datetime, not_after: datetime.datetime):
    """A certificate with the given dates (the openssl CLI cannot backdate one)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tradia.example.org")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )
    (directory / "server.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "server.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def _files_variables(role: str, directory: Path) -> dict:
    files = {
        f"{role}_tls_source": "files",
        f"{role}_tls_cert_file": str(directory / "server.crt"),
        f"{role}_tls_key_file": str(directory / "server.key"),
    }
    if role == "ai_server":
        files["ai_server_tls_ca_file"] = str(directory / "server.crt")
    return {**ROLES[role], **files}


def _messages(result, task: str) -> list[str]:
    report = json.loads(result.stdout)
    return [
        str(outcome.get("msg", ""))
        for play in report["plays"]
        for entry in play["tasks"]
        if entry["task"]["name"] == task
        for outcome in entry["hosts"].values()
        if not outcome.get("skipped")
    ]


def _changed_nothing_before(result, task: str, role: str) -> None:
    names = task_names(result)
    before = names[: names.index(task)]
    assert not [name for name in before if name.startswith("docker_engine : ")], before


@pytest.mark.parametrize("role", sorted(ROLES))
def test_an_expired_supplied_certificate_is_refused_first(role, tmp_path):
    now = datetime.datetime.now(datetime.UTC)
    _self_signed(tmp_path, now - datetime.timedelta(days=400), now - datetime.timedelta(days=2))
    result = run_role(role, _files_variables(role, tmp_path), tmp_path)
    assert result.returncode != 0
    failure = failed_task(result)
    assert failure.task == REFUSED, str(failure)
    assert str(tmp_path / "server.crt") in failure.messages[0], str(failure)
    _changed_nothing_before(result, REFUSED, role)


@pytest.mark.parametrize("role", sorted(ROLES))
def test_a_supplied_certificate_expiring_soon_is_deployed_with_a_warning(role, tmp_path):
    now = datetime.datetime.now(datetime.UTC)
    _self_signed(tmp_path, now - datetime.timedelta(days=300), now + datetime.timedelta(days=10))
    result = run_role(role, _files_variables(role, tmp_path), tmp_path)
    warnings = _messages(result, WARNED)
    assert len(warnings) == 1, result.stdout[-3000:]
    assert "WARNING" in warnings[0], warnings
    assert str(tmp_path / "server.crt") in warnings[0], warnings
    if result.returncode != 0:  # check mode on this machine may stop later, never at the check
        assert failed_task(result).task != REFUSED


@pytest.mark.parametrize("role", sorted(ROLES))
def test_a_current_supplied_certificate_gets_no_warning(role, tmp_path):
    now = datetime.datetime.now(datetime.UTC)
    _self_signed(tmp_path, now - datetime.timedelta(days=1), now + datetime.timedelta(days=90))
    result = run_role(role, _files_variables(role, tmp_path), tmp_path)
    assert "Read the supplied certificate's dates" in " ".join(task_names(result))
    assert _messages(result, WARNED) == [], result.stdout[-3000:]


@pytest.mark.parametrize("role", sorted(ROLES))
def test_a_weak_ca_passphrase_is_refused_before_docker(role, tmp_path):
    variables = {**ROLES[role], "internal_ca_key_passphrase": "short"}
    result = run_role(role, variables, tmp_path)
    assert result.returncode != 0
    failure = failed_task(result)
    task = "internal_ca : Refuse a CA key without a real passphrase"
    assert failure.task == task, str(failure)
    assert failure.names("internal_ca_key_passphrase"), str(failure)
    _changed_nothing_before(result, task, role)

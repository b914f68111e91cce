"""The deployment CA's server certificates, issued for real on localhost into a temporary
directory: a rerun keeps the certificate without a new request or signature, and it is replaced
when its names change, when it nears its end (short-lived certificates), or when the CA is not
the one that signed it."""

import json
import os
from pathlib import Path

import pytest
from cryptography import x509
from role_check_mode import run_play

SKIPPED_SIGNING = (
    "internal_ca : Create the host's certificate signing request",
    "internal_ca : Sign the host's certificate with the CA (on the controller)",
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="the role gives the files to root"),
]


def _issue(tmp_path: Path, ca: str, **variables: object) -> tuple[x509.Certificate, set[str]]:
    """Runs internal_ca (the CA, then `issue`) for localhost; returns the certificate and the
    names of the tasks that ran (not skipped)."""
    play = {
        "hosts": "localhost",
        "gather_facts": False,
        "tasks": [
            {"ansible.builtin.include_role": {"name": "internal_ca"}},
            {"ansible.builtin.include_role": {"name": "internal_ca", "tasks_from": "issue"}},
        ],
    }
    settings = {
        "internal_ca_dir": str(tmp_path / ca),
        "internal_ca_key_passphrase": "test-ca-passphrase-0123456789",
        "internal_ca_permitted_hosts": [],
        "internal_ca_cert_dir": str(tmp_path / "tls"),
        "internal_ca_cert_sans": ["DNS:localhost"],
        "internal_ca_install_crypto_library": False,
        **variables,
    }
    result = run_play(play, settings, tmp_path, check=False, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    report = json.loads(result.stdout)
    ran = {
        task["task"]["name"]
        for play in report["plays"]
        for task in play["tasks"]
        if any(not outcome.get("skipped") for outcome in task["hosts"].values())
    }
    pem = (tmp_path / "tls" / "server.crt").read_bytes()
    return x509.load_pem_x509_certificate(pem), ran


def _names(cert: x509.Certificate) -> list[str]:
    return [
        str(name.value)
        for name in cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    ]


def test_a_certificate_is_kept_until_names_lifetime_or_ca_change(tmp_path):
    # One lab, one step after another: each playbook run costs ~25 s.
    first, ran = _issue(tmp_path, "ca")
    assert set(SKIPPED_SIGNING) <= ran  # the first run signs

    again, ran = _issue(tmp_path, "ca")
    assert again.serial_number == first.serial_number
    assert not set(SKIPPED_SIGNING) & ran, "a rerun signed again"

    wider, ran = _issue(tmp_path, "ca", internal_ca_cert_sans=["DNS:localhost", "IP:127.0.0.1"])
    assert set(SKIPPED_SIGNING) <= ran, "new names kept the old certificate"
    assert wider.serial_number != first.serial_number
    assert _names(wider) == ["localhost", "127.0.0.1"]

    # A 365-day certificate is longer than a 10-day policy allows: replaced. The 10-day one is
    # inside the 30-day renewal window from the start: renewed at the next run.
    short, ran = _issue(tmp_path, "ca", internal_ca_cert_valid_days=10)
    assert set(SKIPPED_SIGNING) <= ran, "a certificate longer than the policy was kept"
    renewed, ran = _issue(tmp_path, "ca", internal_ca_cert_valid_days=10)
    assert set(SKIPPED_SIGNING) <= ran, "a certificate near its end was kept"
    assert renewed.serial_number != short.serial_number

    other, ran = _issue(tmp_path, "other-ca")
    assert set(SKIPPED_SIGNING) <= ran, "a certificate of another CA was kept"
    aki = x509.AuthorityKeyIdentifier
    assert (
        other.extensions.get_extension_for_class(aki).value.key_identifier
        != renewed.extensions.get_extension_for_class(aki).value.key_identifier
    )


def test_the_renewal_window_is_internal_ca_renew_days(tmp_path):
    # A 10-day certificate outside a 5-day window is kept; a wider window renews it.
    window = {"internal_ca_cert_valid_days": 10, "internal_ca_renew_days": 5}
    short, _ = _issue(tmp_path, "ca", **window)
    kept, ran = _issue(tmp_path, "ca", **window)
    assert kept.serial_number == short.serial_number
    assert not set(SKIPPED_SIGNING) & ran, "a certificate outside the window was renewed"
    renewed, ran = _issue(tmp_path, "ca", **{**window, "internal_ca_renew_days": 12})
    assert set(SKIPPED_SIGNING) <= ran, "a certificate inside the window was kept"
    assert renewed.serial_number != short.serial_number

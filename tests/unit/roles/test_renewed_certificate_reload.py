"""A renewed certificate must reach Traefik without a restart: its file provider watches only the
dynamic directory, so container_stack's traefik_tls writes the served certificate's checksum into
tls.yml. A new certificate changes tls.yml (Traefik reloads and reads the new files); the same
certificate leaves it unchanged (idempotence)."""

import hashlib
import os

import pytest
from role_check_mode import run_play

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="the role gives the file to root"),
]


def _render(tmp_path, certificate: str):
    (tmp_path / "tls").mkdir(exist_ok=True)
    (tmp_path / "dynamic").mkdir(exist_ok=True)
    cert = tmp_path / "tls" / "server.crt"
    cert.write_text(certificate)
    play = {
        "hosts": "localhost",
        "gather_facts": False,
        "tasks": [
            {
                "ansible.builtin.include_role": {
                    "name": "container_stack",
                    "tasks_from": "traefik_tls",
                },
                "vars": {
                    "container_stack_traefik_dynamic_dir": str(tmp_path / "dynamic"),
                    "container_stack_traefik_group": 0,
                    "container_stack_tls_cert_path": str(cert),
                },
            }
        ],
    }
    result = run_play(play, {}, tmp_path, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    return (tmp_path / "dynamic" / "tls.yml").read_text()


def test_a_renewed_certificate_changes_traefiks_dynamic_file(tmp_path):
    first = _render(tmp_path, "certificate one\n")
    assert hashlib.sha256(b"certificate one\n").hexdigest() in first
    assert _render(tmp_path, "certificate one\n") == first
    renewed = _render(tmp_path, "certificate two\n")
    assert renewed != first
    assert hashlib.sha256(b"certificate two\n").hexdigest() in renewed

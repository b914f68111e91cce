"""Issue 13, item 8: both Traefik ports as Mozilla's "intermediate" profile asks, with the
certificate the internal_ca role issues.

The role runs for real (ansible-playbook -c local) into a temporary directory, with localhost
standing for the deployment's hosts; the roles' own Traefik files (bench.render) serve its
certificate from the real Traefik binary, the simulator and the app behind them (bench.stack:
the app's /readyz goes through the app Traefik's Go client to the AI Traefik, so a chain that
breaks the CA's name constraints fails there too). sslyze then checks both ports against the
profile. Also: the CA key's passphrase, the name constraints, an earlier deployment's CA
(unencrypted key, no constraints, 398-day certificate) upgraded in place, and the renewal of a
certificate about to expire.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from ollama_sim.testing import Pki, make_pki

from bench.render import render
from bench.stack import LocalStack, SimConfig

REPO = Path(__file__).resolve().parents[3]

SSLYZE_PYTHON = REPO / ".venv" / "sslyze" / "bin" / "python"
SCAN = Path(__file__).with_name("mozilla_scan.py")
PASSPHRASE = "integration-ca-passphrase-7c1e"
SANS = ["DNS:localhost", "IP:127.0.0.1"]
MOZILLA_MAX_DAYS = 366
# sslyze's name for the trust store made of --ca (its bundled ones are the public stores).
SUPPLIED_CA = "Supplied CA file"

pytestmark = [pytest.mark.slow]


@dataclass(frozen=True)
class RoleRun:
    result: subprocess.CompletedProcess[str]
    ca_dir: Path
    cert_dir: Path

    @property
    def output(self) -> str:
        return self.result.stdout + self.result.stderr

    @property
    def pki(self) -> Pki:
        tls = self.cert_dir
        ca = self.ca_dir
        return Pki(ca / "ca.crt", ca / "ca.key", tls / "server.crt", tls / "server.key")


def run_role(root: Path, passphrase: str = PASSPHRASE) -> RoleRun:
    """internal_ca as the roles call it: the CA on the controller, then a certificate for the
    host (localhost stands for an AI server), as ansible-playbook -c local."""
    ca_dir, cert_dir = root / "pki", root / "tls"
    inventory = root / "hosts.yml"
    inventory.write_text(
        yaml.safe_dump(
            {
                "all": {
                    "children": {"ai_servers": {"hosts": {"localhost": None}}},
                    "vars": {
                        "ansible_connection": "local",
                        "ansible_python_interpreter": sys.executable,
                    },
                }
            }
        )
    )
    playbook = root / "play.yml"
    playbook.write_text(
        yaml.safe_dump(
            [
                {
                    "hosts": "ai_servers",
                    "gather_facts": False,
                    "tasks": [
                        {
                            "name": "The CA",
                            "ansible.builtin.include_role": {"name": "internal_ca"},
                        },
                        # issue.yml minus its apt task (the controller has the library).
                        {
                            "name": "The server certificate",
                            "ansible.builtin.include_role": {
                                "name": "internal_ca",
                                "tasks_from": "issue_certificate",
                            },
                        },
                    ],
                }
            ]
        )
    )
    extra = root / "vars.json"
    extra.write_text(
        json.dumps(
            {
                "internal_ca_dir": str(ca_dir),
                "internal_ca_key_passphrase": passphrase,
                "internal_ca_cert_dir": str(cert_dir),
                "internal_ca_cert_sans": SANS,
            }
        )
    )
    env = {**os.environ, "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "ansible-playbook"),
            "-i",
            str(inventory),
            "-e",
            f"@{extra}",
            str(playbook),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return RoleRun(result, ca_dir, cert_dir)


def lifespan_days(cert: x509.Certificate) -> int:
    return (cert.not_valid_after_utc - cert.not_valid_before_utc).days


def load_cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory) -> RoleRun:
    run = run_role(tmp_path_factory.mktemp("role"))
    assert run.result.returncode == 0, run.output[-4000:]
    return run


def scan(targets: list[str], ca: Path) -> list[dict]:
    assert SSLYZE_PYTHON.exists(), "sslyze's venv is missing: make venv (requirements-sslyze.txt)"
    result = subprocess.run(
        [str(SSLYZE_PYTHON), str(SCAN), "--ca", str(ca), "--ip", "127.0.0.1", *targets],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    return list(json.loads(result.stdout))


def test_both_ports_pass_mozilla_intermediate(issued: RoleRun, tmp_path: Path) -> None:
    rendered = render(tmp_path / "stack", login=True, pki=issued.pki)
    # The stack starts only once the app's /readyz has crossed both Traefiks over TLS.
    with LocalStack(rendered, SimConfig(profile="instant"), concurrency=2):
        reports = scan(
            [
                f"localhost:{rendered.ports.ai_traefik}",
                # By address, as molecule's scan of 443 and a user typing the IP reach it.
                f"127.0.0.1:{rendered.ports.app_websecure}",
            ],
            issued.pki.ca_cert,
        )
    assert len(reports) == 2
    for report in reports:
        assert report["scan_errors"] == [], report
        # Nothing against the profile; and only our CA vouches for the certificate (no public
        # store does: the one finding without --ca would be the CA being private).
        assert report["issues"] == {}, report
        assert report["trusted_by"] == [SUPPLIED_CA], report


def test_ca_key_is_encrypted_with_the_passphrase(issued: RoleRun) -> None:
    data = (issued.ca_dir / "ca.key").read_bytes()
    with pytest.raises(TypeError, match="encrypted"):
        serialization.load_pem_private_key(data, password=None)
    key = serialization.load_pem_private_key(data, password=PASSPHRASE.encode())
    assert key.public_key() == load_cert(issued.ca_dir / "ca.crt").public_key()


def test_ca_is_constrained_to_the_deployments_names(issued: RoleRun) -> None:
    ca = load_cert(issued.ca_dir / "ca.crt")
    extension = ca.extensions.get_extension_for_class(x509.NameConstraints)
    assert extension.critical
    permitted = extension.value.permitted_subtrees or []
    dns = {n.value for n in permitted if isinstance(n, x509.DNSName)}
    ips = {n.value for n in permitted if isinstance(n, x509.IPAddress)}
    # localhost stands for every host here: its name, and its addresses as single hosts.
    assert "localhost" in dns
    assert ipaddress.ip_network("127.0.0.1/32") in ips
    assert all(net.num_addresses == 1 for net in ips), ips
    # No constraint lets the CA sign for a public name: every DNS entry is the host's own.
    assert dns <= {"localhost"}, dns


@pytest.mark.parametrize("passphrase", ["", "CHANGE-ME-openssl-rand-hex-32"])
def test_missing_or_example_passphrase_is_refused(passphrase: str, tmp_path: Path) -> None:
    run = run_role(tmp_path, passphrase=passphrase)
    assert run.result.returncode != 0
    assert "internal_ca_key_passphrase must be set" in run.output
    assert not (run.ca_dir / "ca.key").exists()


def _old_deployment(root: Path, leaf_days: int, leaf_expires_in: int) -> Pki:
    """What earlier versions left: an unencrypted CA key, a CA without name constraints, and a
    server certificate of `leaf_days` days ending `leaf_expires_in` days from now."""
    now = datetime.datetime.now(datetime.UTC)
    end = now + datetime.timedelta(days=leaf_expires_in)
    return make_pki(
        root / "pki",
        cert_dir=root / "tls",
        ca_name="Tradia internal CA",
        ca_validity=(now - datetime.timedelta(days=400), now + datetime.timedelta(days=3000)),
        server_validity=(end - datetime.timedelta(days=leaf_days), end),
    )


@pytest.mark.parametrize(
    ("leaf_days", "leaf_expires_in", "why"),
    [(398, 300, "longer than 366 days"), (365, 10, "expires within 30 days")],
)
def test_earlier_ca_is_upgraded_in_place_and_its_certificate_renewed(
    leaf_days: int, leaf_expires_in: int, why: str, tmp_path: Path
) -> None:
    old = _old_deployment(tmp_path, leaf_days, leaf_expires_in)
    old_key = serialization.load_pem_private_key(old.ca_key.read_bytes(), password=None)
    old_leaf = load_cert(old.server_cert)
    run = run_role(tmp_path)
    assert run.result.returncode == 0, run.output[-4000:]
    # The same key, now encrypted, so certificates it signed stay valid; ops are told.
    key = serialization.load_pem_private_key(
        (run.ca_dir / "ca.key").read_bytes(), password=PASSPHRASE.encode()
    )
    assert key.public_key() == old_key.public_key()
    ca = load_cert(run.ca_dir / "ca.crt")
    assert ca.extensions.get_extension_for_class(x509.NameConstraints).critical
    assert "was encrypted with internal_ca_key_passphrase and re-signed with name constraints" in (
        " ".join(run.output.split())
    )
    leaf = load_cert(run.cert_dir / "server.crt")
    assert leaf.serial_number != old_leaf.serial_number, f"not renewed: {why}"
    assert lifespan_days(leaf) <= MOZILLA_MAX_DAYS
    leaf.verify_directly_issued_by(ca)
    if leaf_expires_in <= 30:
        assert "WARNING" in run.output
        assert "it is renewed now" in run.output


def test_a_rerun_keeps_the_encrypted_ca_and_a_wrong_passphrase_is_named(tmp_path: Path) -> None:
    first = run_role(tmp_path)
    assert first.result.returncode == 0, first.output[-4000:]
    key, cert = (first.ca_dir / "ca.key").read_bytes(), (first.ca_dir / "ca.crt").read_bytes()
    again = run_role(tmp_path)
    assert again.result.returncode == 0, again.output[-4000:]
    assert "changed=0" in again.output, again.output[-4000:]
    assert (first.ca_dir / "ca.key").read_bytes() == key
    assert (first.ca_dir / "ca.crt").read_bytes() == cert
    wrong = run_role(tmp_path, passphrase="another-passphrase-of-the-right-length")
    assert wrong.result.returncode != 0
    assert "internal_ca_key_passphrase does not open" in " ".join(wrong.output.split())
    assert (first.ca_dir / "ca.key").read_bytes() == key

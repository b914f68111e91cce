"""playbooks/backup.yml and restore.yml's own plays (not the site.yml they import), for real, on
localhost: an app server's TLS key and certificate and glossary, an AI server's TLS files, the GGUF
of its imported model and its model list (a fake Ollama), the controller's CA and glossary CSV
go into the encrypted archive and come back byte for byte with their modes; a second restore
changes nothing; the listed model that is not imported is pulled again; a wrong passphrase,
another deployment's archive and a controller CA with another key are refused before anything
is written."""

from __future__ import annotations

import datetime
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from role_check_mode import ROOT, ansible_env

PASSPHRASE = "test-backup-passphrase-0123456789"


def _load_fake_ollama():
    """The modules' unit tests' fake Ollama (tests/unit/library), one definition for both."""
    spec = importlib.util.spec_from_file_location(
        "tradia_fake_ollama", ROOT / "tests" / "unit" / "library" / "fake_ollama.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their annotations through it
    spec.loader.exec_module(module)
    return module.FakeOllama


FakeOllama = _load_fake_ollama()

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="restores files owned by root"),
]


def _ca(directory: Path) -> None:
    """A CA certificate and key, as internal_ca leaves them (the key's bytes are opaque here)."""
    directory.mkdir(parents=True, mode=0o700)
    key = ec.generate_private_key(ec.SECP384R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test CA")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    (directory / "ca.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "ca.crt").chmod(0o644)
    (directory / "ca.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"ca-passphrase-0123456789"),
        )
    )
    (directory / "ca.key").chmod(0o600)


class Lab:
    """A controller and one app server, both this machine, in a temporary directory."""

    def __init__(self, root: Path, ollama: FakeOllama) -> None:
        self.root = root
        self.ollama = ollama
        self.ai = root / "etc-ai"
        self.gguf = root / "models" / "house.gguf"
        (self.ai / "tls").mkdir(parents=True)
        (self.ai / "tls" / "server.key").write_text("ai key\n")
        (self.ai / "tls" / "server.key").chmod(0o640)
        (self.ai / "tls" / "server.crt").write_text("ai certificate\n")
        # The AI host's own client key: not backed up (site.yml makes a new one).
        (self.ai / "local-client.key").write_text("local-client-key-0123456789abcdef0123\n")
        self.gguf.parent.mkdir()
        self.gguf.write_bytes(b"GGUF" + bytes(range(256)) * 64)
        ollama.add_model("house:1")
        ollama.add_model("extra:latest")
        self.pki = root / "pki"
        self.app = root / "etc-app"
        self.csv = root / "inventory-files" / "glossary.csv"
        self.archive = root / "backups" / "lab.tar.gpg"
        _ca(self.pki)
        (self.app / "tls").mkdir(parents=True)
        (self.app / "tls").chmod(0o750)
        (self.app / "tls" / "server.key").write_text("server key\n")
        (self.app / "tls" / "server.key").chmod(0o640)
        (self.app / "tls" / "server.crt").write_text("server certificate\n")
        (self.app / "terminology").mkdir()
        (self.app / "terminology" / "terminology.json").write_text('{"glossary": []}\n')
        self.csv.parent.mkdir()
        self.csv.write_text("source,target,term,translation\nfr,en,compte rendu,minutes\n")

    def inventory(self, **overrides: object) -> Path:
        variables = {
            "ansible_connection": "local",
            "ansible_python_interpreter": sys.executable,
            "ansible_become": False,
            "internal_ca_dir": str(self.pki),
            "app_server_config_dir": str(self.app),
            "app_server_glossary_csv": str(self.csv),
            "backup_passphrase": PASSPHRASE,
            "backup_deployment": "lab",
            "backup_archive": str(self.archive),
            **overrides,
        }
        ai = {
            "ai_server_config_dir": str(self.ai),
            "ai_server_tls": False,
            "ai_server_port": int(self.ollama.url.rsplit(":", 1)[1]),
            "ai_server_ollama_models": [
                {"name": "house:1", "source": "file", "path": str(self.gguf)}
            ],
        }
        path = self.root / "hosts.yml"
        inventory = {
            "all": {
                "vars": variables,
                "children": {
                    "app_servers": {"hosts": {"app-local": {}}},
                    "ai_servers": {"hosts": {"ai-local": ai}},
                },
            }
        }
        path.write_text(yaml.safe_dump(inventory))
        return path

    def files(self) -> dict[str, tuple[bytes, int]]:
        """Every file of the lab's state with its mode."""
        paths = [
            *self.pki.rglob("*"),
            *self.app.rglob("*"),
            self.csv,
            *(self.ai / "tls").rglob("*"),
            self.gguf,
        ]
        return {
            str(p): (p.read_bytes(), p.stat().st_mode & 0o777)
            for p in paths
            if p.is_file() and p.exists()
        }


def _run(playbook: Path, inventory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory)]
    return subprocess.run(
        [*command, *args, str(playbook)],
        capture_output=True,
        text=True,
        env=ansible_env(),
        timeout=300,
    )


def _restore(lab: Lab, tmp_path: Path, *args: str, models: bool = False, **overrides: object):
    """restore.yml without the site.yml it imports: its first play (verify, put the files back),
    then with `models` its last (pull the listed models)."""
    plays = yaml.safe_load((ROOT / "playbooks" / "restore.yml").read_text())
    assert "ansible.builtin.import_playbook" in plays[1]
    play = tmp_path / "restore-own-plays.yml"
    play.write_text(yaml.safe_dump([plays[0], plays[2]] if models else [plays[0]]))
    return _run(play, lab.inventory(**overrides), *args)


def _changed(result: subprocess.CompletedProcess[str]) -> int:
    return sum(stats["changed"] for stats in json.loads(result.stdout)["stats"].values())


def _failure(result: subprocess.CompletedProcess[str]) -> str:
    report = json.loads(result.stdout)
    for play in report["plays"]:
        for task in play["tasks"]:
            for outcome in task["hosts"].values():
                if outcome.get("failed"):
                    return f"{task['task']['name']}: {outcome.get('msg')}"
    raise AssertionError("nothing failed:\n" + result.stdout[-3000:])


def _destroy(lab: Lab) -> None:
    paths = [lab.pki, lab.app, lab.csv, lab.ai / "tls", lab.gguf]
    subprocess.run(["rm", "-rf", *map(str, paths)], check=True)
    lab.ollama.models.clear()


@pytest.fixture(scope="module")
def ollama():
    server = FakeOllama()  # plain HTTP: the inventory sets ai_server_tls false
    yield server
    server.close()


@pytest.fixture(scope="module")
def backed_up(tmp_path_factory: pytest.TempPathFactory, ollama: FakeOllama) -> tuple[Lab, dict]:
    lab = Lab(tmp_path_factory.mktemp("lab"), ollama)
    result = _run(ROOT / "playbooks" / "backup.yml", lab.inventory())
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    return lab, lab.files()


def test_the_archive_is_encrypted_and_private(backed_up):
    lab, _ = backed_up
    assert lab.archive.stat().st_mode & 0o777 == 0o600
    data = lab.archive.read_bytes()
    assert b"server key" not in data
    assert b"compte rendu" not in data


def test_restore_puts_everything_back_then_changes_nothing(backed_up, tmp_path):
    lab, before = backed_up
    _destroy(lab)
    dry = _restore(lab, tmp_path, "--check")
    assert dry.returncode == 0, dry.stdout[-4000:]
    assert _changed(dry) > 0
    assert lab.files() == {}, "check mode wrote files"

    first = _restore(lab, tmp_path, models=True)
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-2000:]
    assert lab.files() == before
    assert (lab.app / "tls").stat().st_mode & 0o777 == 0o750
    # The listed model is pulled; the imported one comes back from its GGUF through site.yml.
    pulled = [call.body_json["model"] for call in lab.ollama.calls("POST", "/api/pull")]
    assert pulled == ["extra:latest"]
    again = _restore(lab, tmp_path, models=True)
    assert again.returncode == 0, again.stdout[-4000:]
    assert _changed(again) == 0, again.stdout[-4000:]
    assert len(lab.ollama.calls("POST", "/api/pull")) == 1


def test_a_wrong_passphrase_changes_nothing(backed_up, tmp_path):
    lab, _ = backed_up
    _destroy(lab)
    result = _restore(lab, tmp_path, backup_passphrase="another-passphrase-0123456789")
    assert result.returncode != 0
    assert "wrong passphrase" in _failure(result)
    assert lab.files() == {}
    assert "another-passphrase-0123456789" not in result.stdout + result.stderr
    assert PASSPHRASE not in result.stdout + result.stderr


def test_an_archive_of_another_deployment_changes_nothing(backed_up, tmp_path):
    lab, _ = backed_up
    _destroy(lab)
    result = _restore(lab, tmp_path, backup_deployment="elsewhere")
    assert result.returncode != 0
    assert "not of 'elsewhere'" in _failure(result)
    assert lab.files() == {}


def test_a_controller_ca_with_another_key_is_not_replaced(backed_up, tmp_path):
    lab, _ = backed_up
    _destroy(lab)
    _ca(lab.pki)
    other = lab.files()
    result = _restore(lab, tmp_path)
    assert result.returncode != 0
    assert "another key" in _failure(result)
    assert lab.files() == other
    subprocess.run(["rm", "-rf", str(lab.pki)], check=True)

"""library/backup_archive: the encrypted archive round-trips; a wrong passphrase, a damaged
archive, another deployment's archive and a manifest that lies are refused with a clear message
and leave nothing behind; the passphrase never reaches a command line or the environment."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path
from types import ModuleType

import pytest
from module_harness import load_module

PASSPHRASE = "test-backup-passphrase-0123456789"

pytestmark = pytest.mark.skipif(shutil.which("gpg") is None, reason="needs gpg (gnupg)")


@pytest.fixture(scope="module")
def archive_module() -> ModuleType:
    return load_module("backup_archive")


def run(command: list[str], fds: tuple[int, ...]) -> tuple[int, str, str]:
    """What AnsibleModule.run_command does for the module (umask 077 included)."""
    done = subprocess.run(
        command, pass_fds=fds, capture_output=True, text=True, check=False,
        preexec_fn=lambda: os.umask(0o077),
    )  # fmt: skip
    return done.returncode, done.stdout, done.stderr


def _stage(root: Path) -> dict:
    (root / "controller" / "pki").mkdir(parents=True)
    (root / "controller" / "pki" / "ca.key").write_bytes(b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n")
    (root / "hosts" / "ai1").mkdir(parents=True)
    (root / "hosts" / "ai1" / "house.gguf").write_bytes(b"GGUF" + bytes(range(256)) * 4096)
    return {
        "deployment": "site-a",
        "entries": [
            {"file": "controller/pki/ca.key", "host": "localhost", "path": "/pki/ca.key"},
            {"file": "hosts/ai1/house.gguf", "host": "ai1", "path": "/srv/models/house.gguf"},
        ],
    }


@pytest.fixture
def packed(archive_module: ModuleType, tmp_path: Path) -> Path:
    stage = tmp_path / "stage"
    manifest = _stage(stage)
    path = tmp_path / "out" / "backup.tar.gpg"
    archive_module.pack(run, "gpg", stage, path, PASSPHRASE, manifest)
    return path


def _extract(module: ModuleType, path: Path, tmp_path: Path, **kwargs: object):
    scratch = tmp_path / "scratch"
    scratch.mkdir(exist_ok=True)
    options = {"passphrase": PASSPHRASE, "deployment": "site-a", **kwargs}
    return module.extract(
        run, "gpg", path, options["passphrase"], options["deployment"], str(scratch)
    )


def test_round_trip_keeps_bytes_and_records_checksums(archive_module, packed, tmp_path):
    assert packed.stat().st_mode & 0o777 == 0o600
    assert b"GGUF" not in packed.read_bytes()  # encrypted, not a plain tar
    work, manifest = _extract(archive_module, packed, tmp_path)
    original = (tmp_path / "stage" / "hosts" / "ai1" / "house.gguf").read_bytes()
    assert (work / "files" / "hosts" / "ai1" / "house.gguf").read_bytes() == original
    assert manifest["deployment"] == "site-a"
    assert manifest["format"] == archive_module.FORMAT
    sizes = {entry["file"]: entry["size"] for entry in manifest["entries"]}
    assert sizes["hosts/ai1/house.gguf"] == len(original)
    assert all(len(entry["sha256"]) == 64 for entry in manifest["entries"])
    assert not (work / "archive.tar").exists()  # the plain tar does not stay on disk


def test_a_wrong_passphrase_is_named_and_leaves_nothing(archive_module, packed, tmp_path):
    with pytest.raises(archive_module.ArchiveError, match="wrong passphrase"):
        _extract(archive_module, packed, tmp_path, passphrase="another-passphrase-0123456789")
    assert list((tmp_path / "scratch").iterdir()) == []


def test_a_damaged_archive_is_refused(archive_module, packed, tmp_path):
    data = bytearray(packed.read_bytes())
    data[len(data) // 2] ^= 0x01
    packed.write_bytes(bytes(data))
    with pytest.raises(archive_module.ArchiveError, match="damaged"):
        _extract(archive_module, packed, tmp_path)
    assert list((tmp_path / "scratch").iterdir()) == []


def test_an_archive_of_another_deployment_is_refused(archive_module, packed, tmp_path):
    with pytest.raises(archive_module.ArchiveError, match="'site-a', not of 'site-b'"):
        _extract(archive_module, packed, tmp_path, deployment="site-b")


def test_a_manifest_whose_checksum_lies_is_refused(archive_module, tmp_path):
    # A well-encrypted archive whose manifest does not match its files (a bug or a forgery with
    # the passphrase): the checksums are verified after decryption.
    manifest = {
        "format": archive_module.FORMAT,
        "deployment": "site-a",
        "entries": [{"file": "a.txt", "sha256": "0" * 64, "size": 2}],
    }
    plain = tmp_path / "forged.tar"
    with tarfile.open(plain, mode="w") as tar:
        for name, body in (
            ("manifest.json", json.dumps(manifest).encode()),
            ("files/a.txt", b"hi"),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    path = tmp_path / "forged.tar.gpg"
    args = [*archive_module.GPG_ENCRYPT, "--output", str(path), str(plain)]
    assert archive_module._gpg(run, "gpg", PASSPHRASE, args)[0] == 0
    with pytest.raises(archive_module.ArchiveError, match=r"a\.txt: checksum differs"):
        _extract(archive_module, path, tmp_path)


def test_staged_files_must_match_the_entries(archive_module, tmp_path):
    stage = tmp_path / "stage"
    manifest = _stage(stage)
    manifest["entries"].pop()
    with pytest.raises(archive_module.ArchiveError, match="staged only"):
        archive_module.pack(run, "gpg", stage, tmp_path / "b.tar.gpg", PASSPHRASE, manifest)
    assert not (tmp_path / "b.tar.gpg").exists()


@pytest.mark.parametrize(
    "passphrase", ["short", "CHANGE-ME-openssl-rand-hex-32", "two\nlines-0123456789"]
)
def test_a_weak_passphrase_is_refused(archive_module, tmp_path, passphrase):
    stage = tmp_path / "stage"
    manifest = _stage(stage)
    with pytest.raises(archive_module.ArchiveError, match="backup passphrase"):
        archive_module.pack(run, "gpg", stage, tmp_path / "c.tar.gpg", passphrase, manifest)


def test_the_passphrase_is_in_no_command_line(archive_module, tmp_path):
    seen: list[list[str]] = []

    def spy(command: list[str], fds: tuple[int, ...]) -> tuple[int, str, str]:
        seen.append(list(command))
        return run(command, fds)

    stage = tmp_path / "stage"
    manifest = _stage(stage)
    archive_module.pack(spy, "gpg", stage, tmp_path / "d.tar.gpg", PASSPHRASE, manifest)
    archive_module.extract(spy, "gpg", tmp_path / "d.tar.gpg", PASSPHRASE, "site-a", str(tmp_path))
    assert len(seen) == 2
    for command in seen:
        assert not any(PASSPHRASE in part for part in command), command


def test_check_mode_packs_nothing(archive_module, run_module, tmp_path):
    stage = tmp_path / "stage"
    manifest = _stage(stage)
    path = tmp_path / "e.tar.gpg"
    args = {"state": "packed", "src": str(stage), "path": str(path), "passphrase": PASSPHRASE,
            "manifest": manifest}  # fmt: skip
    result = run_module(archive_module, args, check_mode=True)
    assert result["changed"] is True
    assert not path.exists()
    assert PASSPHRASE not in result.raw

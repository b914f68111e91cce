#!/usr/bin/python
# Copyright (c) 2026, Tradia
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: backup_archive

short_description: Pack a staged backup into an encrypted archive, or verify and extract one

version_added: "1.0.0"

description:
  - With O(state=packed), writes C(manifest.json) (the given O(manifest) plus each staged file's
    SHA-256 and size) and every file of O(src) into a tar that C(gpg --symmetric) encrypts
    (AES-256, the passphrase stretched with the iterated and salted S2K, SHA-512, 65011712
    rounds) into O(path). The plain tar lives only in a private temporary directory, as the
    staged files do, and is removed.
  - With O(state=extracted), decrypts O(path) into a new private temporary directory, refuses it
    unless gpg reports the passphrase right and the integrity check (MDC) intact, then checks
    the manifest (format, O(deployment), every file listed with the right SHA-256, nothing
    unlisted) before returning it. Nothing outside the temporary directory is touched, so the
    caller can stop before changing anything.
  - "Why gpg: a well-kept tool from the distribution, streaming (imported GGUF models are
    gigabytes), integrity-protected symmetric encryption whose passphrase is handed over on a
    pipe (C(--passphrase-fd)), never on a command line, in the environment or in the process
    list. age has no non-interactive passphrase input; Python C(cryptography)'s one-shot AEADs
    would hold a whole model in memory."

extends_documentation_fragment:
  - ansible.builtin.action_common_attributes

attributes:
  check_mode:
    support: full
    details:
      - V(packed) writes nothing in check mode and reports V(changed).
      - V(extracted) runs in check mode too (it changes nothing outside the new temporary
        directory it returns, which the caller removes), so a dry run verifies the archive.
  diff_mode:
    support: none
  platform:
    platforms: posix

options:
  state:
    description:
      - V(packed) creates O(path) from O(src); V(extracted) verifies and extracts O(path).
    type: str
    choices: [packed, extracted]
    required: true
  path:
    description: The encrypted archive.
    type: path
    required: true
  src:
    description: With O(state=packed), the staging directory whose files go into the archive.
    type: path
  passphrase:
    description: The archive's passphrase (16 characters or more, one line). Put it in the vault.
    type: str
    required: true
  manifest:
    description:
      - With O(state=packed), what the manifest says besides the checksums. Its C(entries) list
        names each staged file (C(file), relative to O(src)) with where it belongs; every staged
        file must have exactly one entry.
    type: dict
    default: {}
  deployment:
    description: With O(state=extracted), the deployment the archive must come from (C(deployment)).
    type: str
  tmpdir:
    description: With O(state=extracted), where the private temporary directory is created.
    type: path

notes:
  - Needs C(gpg) (GnuPG 2.2 or later) on the host the module runs on (the controller).
  - A gpg home of its own, in a temporary directory, is used and removed each time, so the
    user's keyrings and agent are never touched; the passphrase is not cached
    (C(--no-symkey-cache)).

author:
  # No GitHub handle to name: (!UNKNOWN) is the form ansible-test accepts for that.
  - Tradia maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Pack the staged files
  backup_archive:
    state: packed
    src: /tmp/tradia-backup-stage
    path: /srv/backups/tradia-20261130T220000.tar.gpg
    passphrase: "{{ backup_passphrase }}"
    manifest:
      deployment: example
      entries:
        - file: controller/pki/ca.key
          host: localhost
          path: /home/ops/.tradia/pki/ca.key
  delegate_to: localhost
  no_log: true

- name: Verify and extract an archive
  backup_archive:
    state: extracted
    path: /srv/backups/tradia-20261130T220000.tar.gpg
    passphrase: "{{ backup_passphrase }}"
    deployment: example
  register: extracted
  delegate_to: localhost
  check_mode: false
"""

RETURN = r"""
path:
  description: The temporary directory holding C(manifest.json) and C(files/).
  returned: state=extracted
  type: str
manifest:
  description: The verified manifest (file names, hosts, versions, checksums; no secret).
  returned: success
  type: dict
"""

import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ansible.module_utils.basic import AnsibleModule

FORMAT = 1
MANIFEST = "manifest.json"
FILES = "files"
MIN_PASSPHRASE = 16
# gpg: AES-256 and the strongest iterated-and-salted S2K it offers (the count is the maximum).
GPG_ENCRYPT = [
    "--symmetric",
    "--cipher-algo", "AES256",
    "--s2k-mode", "3",
    "--s2k-digest-algo", "SHA512",
    "--s2k-count", "65011712",
    "--compress-algo", "none",
]  # fmt: skip


class ArchiveError(Exception):
    """A refusal, with the message the operator reads."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# Runs a command with extra inherited file descriptors: (rc, stdout, stderr). In the module,
# AnsibleModule.run_command; the unit tests pass a subprocess-based one.
Runner = Callable[[list[str], tuple[int, ...]], tuple[int, str, str]]


def _gpg(run: Runner, gpg: str, passphrase: str, args: list[str]) -> tuple[int, str]:
    """gpg with its own throwaway home, the passphrase on a pipe of its own (not argv, not env):
    (return code, stderr)."""
    home = tempfile.mkdtemp(prefix="tradia-gpg-")
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, passphrase.encode() + b"\n")
        os.close(write_end)
        command = [
            gpg, "--batch", "--no-tty", "--quiet", "--homedir", home,
            "--pinentry-mode", "loopback", "--no-symkey-cache",
            "--passphrase-fd", str(read_end), *args,
        ]  # fmt: skip
        returncode, _stdout, stderr = run(command, (read_end,))
    finally:
        os.close(read_end)
        shutil.rmtree(home, ignore_errors=True)
    return returncode, stderr.strip()


def _check_passphrase(passphrase: str) -> None:
    if len(passphrase) < MIN_PASSPHRASE or "\n" in passphrase or "CHANGE-ME" in passphrase:
        raise ArchiveError(
            f"the backup passphrase must be one line of {MIN_PASSPHRASE} characters or more, not"
            " the example's CHANGE-ME (openssl rand -hex 32, in the vault)"
        )


def pack(
    run: Runner, gpg: str, src: Path, path: Path, passphrase: str, manifest: dict[str, Any]
) -> dict:
    """Writes the encrypted archive (through a temporary name: a failed run leaves no half
    archive under `path`) and returns the manifest it holds."""
    _check_passphrase(passphrase)
    staged = sorted(p.relative_to(src).as_posix() for p in src.rglob("*") if p.is_file())
    entries = [dict(entry) for entry in manifest.get("entries", [])]
    listed = [entry.get("file") for entry in entries]
    if sorted(listed) != staged:
        raise ArchiveError(
            "the staged files and the manifest's entries differ: staged only "
            f"{sorted(set(staged) - set(listed))}, listed only {sorted(set(listed) - set(staged))}"
        )
    for entry in entries:
        file = src / entry["file"]
        entry["sha256"] = sha256_file(file)
        entry["size"] = file.stat().st_size
    full = {**manifest, "format": FORMAT, "entries": entries}
    body = json.dumps(full, indent=2, sort_keys=True).encode()
    partial = path.with_name(f".{path.name}.partial")
    path.parent.mkdir(parents=True, exist_ok=True)
    # The plain tar sits beside nothing but the staged files' own kind: a private directory.
    scratch = Path(tempfile.mkdtemp(prefix="tradia-pack-"))
    try:
        plain = scratch / "archive.tar"
        with tarfile.open(plain, mode="w") as tar:
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(body)
            info.mode = 0o600
            tar.addfile(info, io.BytesIO(body))
            for name in staged:
                tar.add(src / name, arcname=f"{FILES}/{name}", recursive=False)
        args = [*GPG_ENCRYPT, "--yes", "--output", str(partial), str(plain)]
        returncode, stderr = _gpg(run, gpg, passphrase, args)
        if returncode != 0:
            partial.unlink(missing_ok=True)
            raise ArchiveError(f"gpg could not encrypt the archive: {stderr}")
        partial.chmod(0o600)
        partial.replace(path)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return full


def extract(
    run: Runner, gpg: str, path: Path, passphrase: str, deployment: str | None, tmpdir: str | None
) -> tuple[Path, dict]:
    """Decrypts and checks the archive into a new private directory; on any refusal the
    directory is removed and ArchiveError says why."""
    _check_passphrase(passphrase)
    if not path.is_file():
        raise ArchiveError(f"{path}: no such archive")
    work = Path(tempfile.mkdtemp(prefix="tradia-restore-", dir=tmpdir))
    try:
        plain = work / "archive.tar"
        args = ["--decrypt", "--output", str(plain), str(path)]
        returncode, stderr = _gpg(run, gpg, passphrase, args)
        if returncode != 0:
            if "Bad session key" in stderr or "bad passphrase" in stderr.lower():
                raise ArchiveError(f"{path}: wrong passphrase (gpg: {stderr})")
            raise ArchiveError(f"{path}: damaged or not a backup archive (gpg: {stderr})")
        manifest = _unpack(plain, work)
        plain.unlink()
        _verify(work, manifest, deployment, path)
        return work, manifest
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def _unpack(plain: Path, work: Path) -> dict:
    try:
        with tarfile.open(plain, mode="r:") as tar:
            members = tar.getmembers()
            for member in members:
                if not member.isfile() or not (
                    member.name == MANIFEST or member.name.startswith(f"{FILES}/")
                ):
                    raise ArchiveError(f"unexpected member {member.name!r} in the archive")
            # The "data" filter refuses absolute paths, "..", links and device files.
            tar.extractall(work, members=members, filter="data")
    except tarfile.TarError as error:
        raise ArchiveError(f"the decrypted archive is not a readable tar: {error}") from error
    try:
        manifest = json.loads((work / MANIFEST).read_text())
    except (OSError, ValueError) as error:
        raise ArchiveError(f"the archive has no readable {MANIFEST}: {error}") from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArchiveError(f"{MANIFEST}: unknown format (this version reads format {FORMAT})")
    return manifest


def _verify(work: Path, manifest: dict, deployment: str | None, path: Path) -> None:
    if deployment is not None and manifest.get("deployment") != deployment:
        raise ArchiveError(
            f"{path} is a backup of deployment {manifest.get('deployment')!r}, not of"
            f" {deployment!r} (backup_deployment): refusing to restore another deployment"
        )
    files = work / FILES
    present = sorted(p.relative_to(files).as_posix() for p in files.rglob("*") if p.is_file())
    listed = sorted(str(entry.get("file")) for entry in manifest.get("entries", []))
    if present != listed:
        raise ArchiveError(f"{MANIFEST} does not list exactly the archive's files")
    for entry in manifest["entries"]:
        if sha256_file(files / entry["file"]) != entry.get("sha256"):
            raise ArchiveError(f"{entry['file']}: checksum differs from the manifest's")


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "state": {"type": "str", "choices": ["packed", "extracted"], "required": True},
            "path": {"type": "path", "required": True},
            "src": {"type": "path"},
            "passphrase": {"type": "str", "required": True, "no_log": True},
            "manifest": {"type": "dict", "default": {}},
            "deployment": {"type": "str"},
            "tmpdir": {"type": "path"},
        },
        required_if=[("state", "packed", ["src"])],
        supports_check_mode=True,
    )
    params = module.params
    gpg = module.get_bin_path("gpg", required=True)

    def run(command: list[str], fds: tuple[int, ...]) -> tuple[int, str, str]:
        # umask 077: gpg creates the archive readable by its owner only.
        return module.run_command(command, pass_fds=fds, umask=0o077)

    try:
        if params["state"] == "packed":
            if module.check_mode:
                module.exit_json(changed=True, manifest=params["manifest"])
            manifest = pack(
                run,
                gpg,
                Path(params["src"]),
                Path(params["path"]),
                params["passphrase"],
                params["manifest"],
            )
            module.exit_json(changed=True, manifest=manifest)
        work, manifest = extract(
            run,
            gpg,
            Path(params["path"]),
            params["passphrase"],
            params["deployment"],
            params["tmpdir"],
        )
        module.exit_json(changed=False, path=str(work), manifest=manifest)
    except ArchiveError as error:
        module.fail_json(msg=str(error))


if __name__ == "__main__":
    main()

# Copyright (c) 2026, Tradia
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sha256 digests Ollama names blobs by: of a local file, and of a model's blob."""

from __future__ import annotations

import hashlib
import re
from typing import Any

_CHUNK = 1024 * 1024
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_BLOB_REF = re.compile(r"sha256[-:]([0-9a-f]{64})")


def is_sha256_hex(digest: str) -> bool:
    """A bare lowercase hex sha256, as blob URLs take it."""
    return bool(_HEX64.match(digest))


def file_sha256(path: str) -> str:
    """Hex sha256 of a file, read in chunks (models are gigabytes)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def blob_digest_from_show(show: dict[str, Any]) -> str | None:
    """The model blob's hex digest from an /api/show answer (its modelfile's FROM line)."""
    modelfile = show.get("modelfile")
    if not isinstance(modelfile, str):
        return None
    for line in modelfile.splitlines():
        if line.strip().upper().startswith("FROM "):
            match = _BLOB_REF.search(line)
            if match:
                return match.group(1)
    return None

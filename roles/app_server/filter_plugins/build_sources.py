"""The digest of the app's build sources, from their content: two clones of one commit give the
same digest (their files' mtimes differ), so a rerun from another laptop changes nothing."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from ansible.errors import AnsibleFilterError


def sources_digest(files: list[dict[str, Any]]) -> str:
    """sha256 over each file's relative path and content, in path order. `files` is what
    community.general.filetree gives (dicts with path, src and state)."""
    digest = hashlib.sha256()
    for entry in sorted(files, key=lambda item: str(item.get("path", ""))):
        if entry.get("state") != "file":
            continue
        try:
            content = Path(entry["src"]).read_bytes()
        except (KeyError, OSError) as error:
            raise AnsibleFilterError(f"sources_digest: cannot read {entry!r}: {error}") from error
        digest.update(str(entry["path"]).encode() + b"\0")
        digest.update(hashlib.sha256(content).digest())
    return digest.hexdigest()


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"sources_digest": sources_digest}

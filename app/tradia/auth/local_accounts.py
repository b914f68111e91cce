"""Local accounts: `name:bcrypt-hash` lines (htpasswd -B), checked once per sign-in."""

from __future__ import annotations

import hmac
from pathlib import Path

import bcrypt

# bcrypt's cost below 10 is too cheap to slow down an offline guess of a stolen file.
MIN_COST = 10
# Checked when the name is unknown, so an unknown name costs as long as a wrong password.
_DUMMY_HASH = bcrypt.hashpw(b"not a password", bcrypt.gensalt(MIN_COST))


class UsersFileError(ValueError):
    pass


def _cost(hashed: bytes) -> int:
    # $2y$12$...: the cost is the third field.
    parts = hashed.split(b"$")
    if len(parts) < 4 or parts[1] not in (b"2a", b"2b", b"2y") or not parts[2].isdigit():
        raise UsersFileError("not a bcrypt hash (htpasswd -B)")
    return int(parts[2])


def read_users(path: Path) -> dict[str, bytes]:
    users: dict[str, bytes] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, hashed = line.partition(":")
        if not sep or not name:
            raise UsersFileError(f"{path}:{number}: expected name:bcrypt-hash")
        try:
            cost = _cost(hashed.encode())
        except UsersFileError as exc:
            raise UsersFileError(f"{path}:{number} ({name}): {exc}") from None
        if cost < MIN_COST:
            raise UsersFileError(f"{path}:{number} ({name}): bcrypt cost {cost} < {MIN_COST}")
        users[name] = hashed.encode()
    return users


class LocalAccounts:
    """The file is read again when it changes: an account removed there is refused at once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._users: dict[str, bytes] = {}
        self._load()

    def _load(self) -> None:
        stat = self.path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp != self._stamp:
            self._users = read_users(self.path)
            self._stamp = stamp

    def check(self, name: str, password: str) -> bool:
        """Constant-time in the name: an unknown one is checked against a dummy hash."""
        self._load()
        known = None
        for candidate, hashed in self._users.items():
            if hmac.compare_digest(candidate.encode(), name.encode()):
                known = hashed
        ok = bcrypt.checkpw(password.encode(), known or _DUMMY_HASH)
        return ok and known is not None

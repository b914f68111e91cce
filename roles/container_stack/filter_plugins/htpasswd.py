"""Filters for the bcrypt users of Traefik's basicAuth (and the app's local accounts).

A hash is kept while it still verifies its password at the configured cost, so reruns change
nothing; otherwise it gets a fresh random salt. The salt is never derived from the password
or the user name: it is stored in clear in the hash, so a derived salt would let anyone who
reads the file test guesses at the derivation's speed instead of bcrypt's.
"""

from __future__ import annotations

import re
from typing import Any

import bcrypt
from ansible.errors import AnsibleFilterError

# What Traefik accepts ($2a$/$2b$/$2y$), as passlib, htpasswd -B and this filter write it.
BCRYPT_HASH = re.compile(r"^\$2[aby]\$(?P<cost>[0-9]{2})\$[./A-Za-z0-9]{53}$")
MIN_COST, MAX_COST = 4, 31
# bcrypt reads at most 72 bytes of a password (OpenBSD's and Go's, thus Traefik's, included);
# the bcrypt package refuses longer input instead of ignoring the rest, so it gets what bcrypt
# reads.
BCRYPT_MAX_BYTES = 72


def _secret_bytes(password: Any) -> bytes:
    if not isinstance(password, str) or not password:
        # Never the value itself in the message: it is a secret.
        raise AnsibleFilterError("bcrypt_hash: the password must be a non-empty string")
    return password.encode()[:BCRYPT_MAX_BYTES]


def _cost(rounds: Any) -> int:
    try:
        cost = int(rounds)
    except (TypeError, ValueError) as error:
        raise AnsibleFilterError(
            f"bcrypt_hash: rounds must be an integer, got {rounds!r}"
        ) from error
    if not MIN_COST <= cost <= MAX_COST:
        raise AnsibleFilterError(f"bcrypt_hash: rounds must be {MIN_COST}-{MAX_COST}, got {cost}")
    return cost


def is_bcrypt_hash(value: str) -> bool:
    """Whether `value` has the shape of a bcrypt hash at a cost bcrypt accepts."""
    match = BCRYPT_HASH.match(value)
    return match is not None and MIN_COST <= int(match["cost"]) <= MAX_COST


def still_valid(password: Any, current: Any, rounds: Any) -> bool:
    """Whether `current` is a bcrypt hash of `password` at cost `rounds`."""
    secret, cost = _secret_bytes(password), _cost(rounds)
    match = BCRYPT_HASH.match(current) if isinstance(current, str) else None
    if match is None or int(match["cost"]) != cost:
        return False
    return bcrypt.checkpw(secret, current.encode())


def bcrypt_hash(password: Any, rounds: Any, current: Any = "") -> str:
    """`current` while it verifies `password` at cost `rounds`, else a new $2b$ hash with a
    random salt (a changed password or cost gives a new hash)."""
    if still_valid(password, current, rounds):
        return str(current)
    salt = bcrypt.gensalt(rounds=_cost(rounds), prefix=b"2b")
    return bcrypt.hashpw(_secret_bytes(password), salt).decode()


def htpasswd_hashes(content: Any) -> dict[str, str]:
    """{user: hash} from the text of an htpasswd-style users file (`name:hash` lines); lines
    that are empty or have no colon are ignored."""
    if content is None:
        return {}
    if not isinstance(content, str):
        raise AnsibleFilterError("htpasswd_hashes: expects the users file's text")
    hashes: dict[str, str] = {}
    for line in content.splitlines():
        name, colon, hashed = line.strip().partition(":")
        if colon and name:
            hashes[name] = hashed
    return hashes


def htpasswd_entries(users: Any, current: Any, rounds: Any) -> list[str]:
    """The `name:hash` lines for `users` ({name, password} or {name, password_hash}), each hash
    of the users file's text `current` kept while it verifies its user's password."""
    if not isinstance(users, list):
        raise AnsibleFilterError("htpasswd_entries: expects a list of users")
    hashes = htpasswd_hashes(current)
    entries = []
    for user in users:
        if not isinstance(user, dict) or not user.get("name"):
            raise AnsibleFilterError("htpasswd_entries: each user needs a name")
        name = str(user["name"])
        hashed = user.get("password_hash") or bcrypt_hash(
            user.get("password"), rounds, hashes.get(name, "")
        )
        entries.append(f"{name}:{hashed}")
    return entries


class FilterModule:
    """bcrypt_hash, htpasswd_hashes and htpasswd_entries for the roles' users."""

    def filters(self) -> dict[str, Any]:
        return {
            "bcrypt_hash": bcrypt_hash,
            "htpasswd_hashes": htpasswd_hashes,
            "htpasswd_entries": htpasswd_entries,
        }

"""The AI gateway's clients as Traefik's configuration needs them (templates/dynamic-ollama.yml.j2
and the keyauth plugin in files/traefik-plugins).

Each key is stored as its SHA-256 hex digest: keys are 32 characters or more of random (the
`api_key` input rule), so there is nothing to guess from a digest, and a salted slow hash would
cost every request time (Traefik's bcrypt basic auth: milliseconds each). No file Traefik reads
holds a key.
"""

from __future__ import annotations

import hashlib
from typing import Any

from ansible.errors import AnsibleFilterError

DEFAULT_SCOPES = ["inference"]
DEFAULT_RATE_LIMIT = {"average": 50, "burst": 100}


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def gateway_clients(clients: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each client with its defaults filled in and `digests` (of `key` and `previous_key`)
    instead of keys. An empty key is left out (check mode before the host's own key exists)."""
    result = []
    for client in clients:
        if not isinstance(client, dict) or "name" not in client:
            raise AnsibleFilterError(f"gateway_clients: a client needs a name, got {type(client)}")
        keys = [client.get("key", ""), client.get("previous_key", "")]
        # None: no limit of its own (the built-in clients: the app servers' per-address bucket).
        limit = client.get("rate_limit", {})
        rate_limit = None if limit is None else {**DEFAULT_RATE_LIMIT, **limit}
        result.append(
            {
                "name": str(client["name"]),
                "digests": [_digest(str(key)) for key in keys if key],
                # Basic-auth user names beside `api` and the client's own name.
                "users": [str(user) for user in client.get("users", []) if user != "api"],
                "scopes": list(client.get("scopes") or DEFAULT_SCOPES),
                "allowed_from": list(client.get("allowed_from") or []),
                "rate_limit": None
                if rate_limit is None
                else {name: int(value) for name, value in rate_limit.items()},
            }
        )
    return result


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"gateway_clients": gateway_clients}

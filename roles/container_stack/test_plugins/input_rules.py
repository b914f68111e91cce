"""The input rules ai_server and app_server share, as Jinja tests (`x is ipv4_cidr`): one
definition of each, instead of a regex copied into both roles' validate.yml. (Name patterns that
validate.yml applies in loops are regexes in this role's vars/main.yml.)"""

from __future__ import annotations

import importlib.util
import ipaddress
from pathlib import Path
from types import ModuleType
from typing import Any

# The shared secret between the app servers and the AI servers (openssl rand -hex 32 gives 64).
API_KEY_MIN_LENGTH = 32
# Traefik checks the bcrypt hash on every request: above 12 each one costs a CPU-second or more.
BCRYPT_COST_RANGE = range(4, 13)


def _load(relative: str, name: str) -> ModuleType:
    """A module of this role, loaded by path: a role's plugins are not on Python's path."""
    path = Path(__file__).resolve().parents[1] / relative
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The model-name rule of the app and the modules (files/model_names.py links to the app's file).
_MODEL_NAMES = _load("files/model_names.py", "tradia_model_names")
# The bcrypt format the users-file filters write and keep.
_HTPASSWD = _load("filter_plugins/htpasswd.py", "tradia_htpasswd")


def _network(value: Any, version: int | None) -> bool:
    """An address or CIDR of that IP version (any with None); host bits may be set."""
    if not isinstance(value, str) or not value or value != value.strip():
        return False
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return version is None or network.version == version


def ip_cidr(value: Any) -> bool:
    return _network(value, None)


def ipv4_cidr(value: Any) -> bool:
    return _network(value, 4)


def ipv6_cidr(value: Any) -> bool:
    return _network(value, 6)


def ip_address(value: Any) -> bool:
    """One address (IPv4 or IPv6), not a network."""
    return _network(value, None) and "/" not in value


def api_key(value: Any) -> bool:
    """A real secret: one line, long enough, not the example vault's placeholder."""
    return (
        isinstance(value, str)
        and len(value) >= API_KEY_MIN_LENGTH
        and "\n" not in value
        and value == value.strip()
        and "change-me" not in value.lower()
    )


def ollama_model_name(value: Any) -> bool:
    """The rule the app and the Ansible modules apply (app/tradia/core/model_names.py)."""
    return isinstance(value, str) and _MODEL_NAMES.is_valid_model_name(value)


def bcrypt_cost(value: Any) -> bool:
    try:
        return not isinstance(value, bool) and int(value) in BCRYPT_COST_RANGE
    except (TypeError, ValueError):
        return False


def htpasswd_bcrypt(value: Any) -> bool:
    """A bcrypt hash Traefik accepts, as `htpasswd -nbB` prints it."""
    return isinstance(value, str) and _HTPASSWD.is_bcrypt_hash(value)


class TestModule:
    def tests(self) -> dict[str, Any]:
        return {
            "ip_cidr": ip_cidr,
            "ipv4_cidr": ipv4_cidr,
            "ipv6_cidr": ipv6_cidr,
            "ip_address": ip_address,
            "api_key": api_key,
            "bcrypt_cost": bcrypt_cost,
            "ollama_model_name": ollama_model_name,
            "htpasswd_bcrypt": htpasswd_bcrypt,
        }

"""The AI gateway's clients as Traefik's key plugin gets them
(roles/ai_server/filter_plugins/gateway_clients.py): digests instead of keys, defaults filled in."""

import hashlib

import pytest
from ansible.errors import AnsibleFilterError
from role_plugin_loader import load_plugin

gateway_clients = load_plugin("ai_server", "filter", "gateway_clients").gateway_clients
KEY, OLD_KEY = "k" * 40, "o" * 40


def _sha256(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def test_keys_become_digests_and_defaults_are_filled_in():
    [client] = gateway_clients(
        [{"name": "bot", "key": KEY, "previous_key": OLD_KEY, "allowed_from": ["10.0.0.9"]}]
    )
    assert client == {
        "name": "bot",
        "digests": [_sha256(KEY), _sha256(OLD_KEY)],
        "users": [],
        "scopes": ["inference"],
        "allowed_from": ["10.0.0.9"],
        "rate_limit": {"average": 50, "burst": 100},
    }
    assert KEY not in repr(client)


def test_a_built_in_client_without_its_own_limit_and_with_a_user_name():
    [client] = gateway_clients(
        [{"name": "app-servers", "key": KEY, "users": ["api", "tradia"], "rate_limit": None}]
    )
    assert client["rate_limit"] is None
    assert client["users"] == ["tradia"]  # `api` is always accepted


def test_an_empty_key_is_left_out():
    # Check mode on a fresh host: the role's own key is not written yet.
    assert gateway_clients([{"name": "local", "key": ""}])[0]["digests"] == []


def test_a_partial_rate_limit_keeps_the_other_default():
    [client] = gateway_clients([{"name": "bot", "key": KEY, "rate_limit": {"average": 5}}])
    assert client["rate_limit"] == {"average": 5, "burst": 100}


def test_a_client_without_a_name_is_refused():
    with pytest.raises(AnsibleFilterError, match="needs a name"):
        gateway_clients([{"key": KEY}])

"""The input rules both roles share (roles/container_stack/test_plugins/input_rules.py): one
definition each, so the AI server and the app server cannot disagree on an address or a key."""

import pytest
from role_plugin_loader import load_plugin

TESTS = load_plugin("container_stack", "test", "input_rules").TestModule().tests()


@pytest.mark.parametrize(
    ("rule", "value", "expected"),
    [
        ("ip_address", "10.0.0.5", True),
        ("ip_address", "fd00::5", True),
        ("ip_address", "10.0.0.0/24", False),  # a network, not a host's address
        ("ip_address", "10.0.0.300", False),
        ("ip_address", "sso.example.org", False),
        ("ipv4_cidr", "10.0.0.5", True),
        ("ipv4_cidr", "10.0.0.0/8", True),
        ("ipv4_cidr", "10.0.0.300", False),  # the loose regex of one role let this through
        ("ipv4_cidr", "10.0.0.0/33", False),
        ("ipv4_cidr", "fd00::1", False),
        ("ipv4_cidr", " 10.0.0.5", False),
        ("ipv6_cidr", "fd00:7ad1:443::/64", True),
        ("ipv6_cidr", "2001:db8::1", True),
        ("ipv6_cidr", "fd00::1::2", False),  # two "::": the old regex accepted it
        ("ipv6_cidr", "10.0.0.0/8", False),
        ("ip_cidr", "10.0.0.5/32", True),
        ("ip_cidr", "2001:db8::/32", True),
        ("ip_cidr", "monitoring.example.org", False),
        ("ip_cidr", 10, False),
        ("api_key", "a" * 32, True),
        ("api_key", "a" * 31, False),
        ("api_key", "a" * 40 + "\n", False),
        ("api_key", "CHANGE-ME-openssl-rand-hex-32-xxxxxxxx", False),
        ("api_key", "change-me-openssl-rand-hex-32-xxxxxxxx", False),
        ("api_key", ["a" * 40], False),
        ("bcrypt_cost", 4, True),
        ("bcrypt_cost", "12", True),
        ("bcrypt_cost", 13, False),
        ("bcrypt_cost", 3, False),
        ("bcrypt_cost", "many", False),
        ("bcrypt_cost", True, False),
        # The users-file filter's own format: what it keeps is what validation lets in.
        ("htpasswd_bcrypt", "$2y$05$" + "a" * 53, True),
        ("htpasswd_bcrypt", "$2b$31$" + "a" * 53, True),
        ("htpasswd_bcrypt", "$2b$03$" + "a" * 53, False),
        ("htpasswd_bcrypt", "$2b$32$" + "a" * 53, False),
        ("htpasswd_bcrypt", "$2x$05$" + "a" * 53, False),
        ("htpasswd_bcrypt", "$2y$05$" + "a" * 52, False),
        ("htpasswd_bcrypt", "$apr1$abc$def", False),
        ("htpasswd_bcrypt", None, False),
        ("ollama_model_name", "llama3.1:8b", True),
        ("ollama_model_name", "registry.example.org:5000/team/model:q4", True),
        ("ollama_model_name", "llama 3.1", False),
        ("ollama_model_name", "smollm2\n", False),
        ("ollama_model_name", "", False),
    ],
)
def test_rule(rule, value, expected):
    assert TESTS[rule](value) is expected

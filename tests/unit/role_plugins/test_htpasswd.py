"""The users files' hashes (roles/container_stack/filter_plugins/htpasswd.py): kept while they
verify, otherwise new with a random salt, never derived from the password."""

import hashlib

import bcrypt
import pytest
from ansible.errors import AnsibleFilterError
from role_plugin_loader import load_plugin

htpasswd = load_plugin("container_stack", "filter", "htpasswd")
PASSWORD = "correct-horse-battery"


def _salt(hashed: str) -> str:
    return hashed[7:29]


def test_a_hash_that_verifies_is_kept():
    first = htpasswd.bcrypt_hash(PASSWORD, 5)
    assert htpasswd.bcrypt_hash(PASSWORD, 5, first) == first
    assert htpasswd.bcrypt_hash(PASSWORD, "5", first) == first  # inventory values may be strings


def test_a_new_hash_verifies_and_has_a_random_salt():
    first, second = htpasswd.bcrypt_hash(PASSWORD, 5), htpasswd.bcrypt_hash(PASSWORD, 5)
    for hashed in (first, second):
        assert hashed.startswith("$2b$05$")
        assert bcrypt.checkpw(PASSWORD.encode(), hashed.encode())
    # Nothing in the salt comes from the password: two hashes of it share no salt.
    assert _salt(first) != _salt(second)


def test_the_old_derivation_is_gone():
    # The roles derived the salt from sha256(password:name:tradia-app): a fast-hash oracle.
    derived = hashlib.sha256(f"{PASSWORD}:alice:tradia-app".encode()).hexdigest()[:21] + "e"
    assert _salt(htpasswd.bcrypt_hash(PASSWORD, 5)) != derived


def test_another_password_gets_a_new_hash():
    first = htpasswd.bcrypt_hash(PASSWORD, 5)
    changed = htpasswd.bcrypt_hash("another-password", 5, first)
    assert changed != first
    assert _salt(changed) != _salt(first)
    assert bcrypt.checkpw(b"another-password", changed.encode())
    assert not bcrypt.checkpw(PASSWORD.encode(), changed.encode())


def test_a_cost_change_gets_a_new_hash():
    first = htpasswd.bcrypt_hash(PASSWORD, 5)
    costlier = htpasswd.bcrypt_hash(PASSWORD, 6, first)
    assert costlier.startswith("$2b$06$")
    assert bcrypt.checkpw(PASSWORD.encode(), costlier.encode())
    assert htpasswd.bcrypt_hash(PASSWORD, 6, costlier) == costlier


@pytest.mark.parametrize("current", ["", "not-a-hash", "$2b$05$short", None, 42])
def test_anything_else_in_the_file_is_replaced(current):
    hashed = htpasswd.bcrypt_hash(PASSWORD, 5, current)
    assert bcrypt.checkpw(PASSWORD.encode(), hashed.encode())


def test_htpasswd_2y_hashes_are_kept():
    # htpasswd -nbB writes $2y$ (what users may paste in): it verifies, so it stays.
    hashed = "$2y$" + bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(5)).decode()[4:]
    assert htpasswd.bcrypt_hash(PASSWORD, 5, hashed) == hashed


def test_passwords_longer_than_bcrypt_reads_are_hashed_as_bcrypt_reads_them():
    long_key = "k" * 100
    hashed = htpasswd.bcrypt_hash(long_key, 5)
    assert bcrypt.checkpw(long_key.encode()[:72], hashed.encode())
    assert htpasswd.bcrypt_hash(long_key, 5, hashed) == hashed


@pytest.mark.parametrize(
    ("password", "rounds"), [("", 5), (None, 5), (PASSWORD, 3), (PASSWORD, "x")]
)
def test_bad_input_fails_without_showing_the_password(password, rounds):
    with pytest.raises(AnsibleFilterError) as error:
        htpasswd.bcrypt_hash(password, rounds)
    assert PASSWORD not in str(error.value)


def test_htpasswd_hashes_reads_name_hash_lines():
    content = "alice:$2b$05$abc\n\nbob:$2y$10$d:e\nno colon here\n"
    assert htpasswd.htpasswd_hashes(content) == {"alice": "$2b$05$abc", "bob": "$2y$10$d:e"}
    assert htpasswd.htpasswd_hashes("") == {}


def test_htpasswd_entries_keep_verifying_hashes_and_renew_the_others():
    alice = htpasswd.bcrypt_hash(PASSWORD, 4)
    current = f"alice:{alice}\nbob:{htpasswd.bcrypt_hash('old-password', 4)}\n"
    users = [
        {"name": "alice", "password": PASSWORD},
        {"name": "bob", "password": "new-password"},
        {"name": "carol", "password_hash": "$2y$10$" + "c" * 53},
    ]
    entries = htpasswd.htpasswd_entries(users, current, 4)
    assert [entry.split(":", 1)[0] for entry in entries] == ["alice", "bob", "carol"]
    assert entries[0] == f"alice:{alice}"
    assert bcrypt.checkpw(b"new-password", entries[1].split(":", 1)[1].encode())
    assert entries[2] == "carol:$2y$10$" + "c" * 53
    with pytest.raises(AnsibleFilterError, match="name"):
        htpasswd.htpasswd_entries([{"password": PASSWORD}], "", 4)

"""Bad inventory values for the app_server role fail before anything changes, naming the variable.

The same harness as the ai_server table: the real role, in check mode, against localhost. Each
case names the check that must refuse it (SPEC: argument_specs; else a task of validate.yml)."""

from pathlib import Path

import pytest
from role_check_mode import (
    ARG_SPEC,
    ROOT,
    Failure,
    assert_baseline_passes,
    documented_variables,
    is_check,
    run_cases,
    run_role,
)

GOOD_KEY = "k" * 40
SPEC = ARG_SPEC  # refused by argument_specs
BASELINE = {
    "app_server_api_key": GOOD_KEY,
    "app_server_ai_servers": ["https://ai1.example.org:11434"],
    "app_server_image_build_src": str(ROOT / "app"),
}
GOOD_HASH = "$2y$10$" + "a" * 53
TERMS = "Check the terminology (glossary entries, the CSV, the do-not-translate terms)"
# A good inventory for each sign-in mode: the cases below break one value of it.
SESSION = {"app_server_session_key": "s" * 40}
LOCAL = {
    **SESSION,
    "app_server_auth": "local",
    "app_server_users": [{"name": "alice", "password": "alice-password-1"}],
}
LDAP = {
    **SESSION,
    "app_server_auth": "ldap",
    "app_server_ldap_url": "ldaps://ldap.example.org:636",
    "app_server_ldap_bind_dn": "uid=svc-tradia,ou=services,dc=tradia,dc=test",
    "app_server_ldap_bind_password": "bind-password-0123",
    "app_server_ldap_user_base": "ou=users,dc=tradia,dc=test",
}
OIDC = {
    **SESSION,
    "app_server_auth": "oidc",
    "app_server_oidc_issuer": "https://sso.example.org/realms/staff",
    "app_server_oidc_client_id": "tradia",
    "app_server_oidc_client_secret": "client-secret-0123456789",
}
MODES = {
    "basic": {},
    "local": LOCAL,
    "ldap": LDAP,
    "oidc": OIDC,
    "none": {"app_server_auth": "none"},
}
USERS_FOR_MODE = "Check the users for the sign-in mode"
LOCAL_COST = "Check the local accounts' bcrypt cost"
SESSION_KEY = "Check the session key"
LIFETIMES = "Check the session lifetimes"
LDAP_CHECK = "Check the LDAP settings"
OIDC_CHECK = "Check the OIDC settings"
TERMINOLOGY = Path(__file__).parent / "terminology"


def _term(**changes: str) -> dict[str, str]:
    return {
        "source": "fr",
        "target": "en",
        "term": "compte rendu",
        "translation": "minutes",
        **changes,
    }


APP_HOSTS = "Check the app's extra host entries"
CASES = [
    # (variable, bad value, extra variables, the check that refuses it)
    ("app_server_api_key", "short", {}, "Check the API key"),
    ("app_server_api_key", ["not", "a", "string"], {}, "Check the API key"),
    ("app_server_api_user", "api user", {}, "Check the user names"),
    ("app_server_config_dir", "etc/tradia/app", {}, "Check names, images, paths and URLs"),
    ("app_server_docker_network", "tradia app", {}, "Check names, images, paths and URLs"),
    ("app_server_docker_subnet", "172.31.250.0/40", {}, "Check the network"),
    ("app_server_docker_subnet", "tradia", {}, "Check the network"),
    ("app_server_edge_network", "-edge", {}, "Check names, images, paths and URLs"),
    ("app_server_egress_network", "egress net", {}, "Check names, images, paths and URLs"),
    ("app_server_app_hosts", {"sso.example.org": "10.0.0.300"}, {}, APP_HOSTS),
    ("app_server_app_hosts", {"sso example": "10.0.0.5"}, {}, APP_HOSTS),
    ("app_server_app_hosts", {"sso.example.org": "10.0.0.0/24"}, {}, APP_HOSTS),
    ("app_server_ipv6", "yes", {}, SPEC),
    ("app_server_edge_ipv6_subnet", "172.31.251.0/24", {}, "Check the IPv6 subnet"),
    ("app_server_edge_ipv6_subnet", "fd00:7ad1:443::1", {}, "Check the IPv6 subnet"),
    ("app_server_image", "Tradia/App:latest", {}, "Check names, images, paths and URLs"),
    ("app_server_image_source", "git", {}, SPEC),
    ("app_server_image_archive", "", {"app_server_image_source": "load"}, "Check the image source"),
    ("app_server_image_build_src", "/nonexistent/app", {}, "Check the image source"),
    ("app_server_image_build_base", "python 3.11", {}, "Check names, images, paths and URLs"),
    (
        "app_server_image_build_base_archive",
        "/nonexistent/python.tar",
        {},
        "Check the image source",
    ),
    ("app_server_container_name", "tradia/app", {}, "Check names, images, paths and URLs"),
    ("app_server_ollama_model", "llama 3.1", {}, "Check the offered models"),
    ("app_server_concurrency", -1, {}, "Check the rate limit and HSTS"),
    ("app_server_concurrency", "many", {}, SPEC),
    ("app_server_document_retention_hours", 0, {}, "Check the document jobs"),
    ("app_server_document_retention_hours", "a day", {}, SPEC),
    ("app_server_max_jobs_per_user", 0, {}, "Check the document jobs"),
    ("app_server_max_jobs_per_user", "five", {}, SPEC),
    # The terminology: each entry's shape (argument_specs), then its values and the CSV.
    ("app_server_glossary", ["fr,en,compte rendu,minutes"], {}, SPEC),
    ("app_server_glossary", [{"source": "fr", "target": "en", "term": "compte rendu"}], {}, SPEC),
    ("app_server_glossary", [_term(target="xx")], {}, TERMS),
    # Known to the app but not offered by this deployment (TRADIA_LANGUAGES' default).
    ("app_server_glossary", [_term(target="nl")], {}, TERMS),
    ("app_server_glossary", [_term(term=" ")], {}, TERMS),
    (
        "app_server_glossary",
        [_term(), _term(term="Compte  rendu", translation="report")],
        {},
        TERMS,
    ),
    ("app_server_glossary_csv", "/nonexistent/glossary.csv", {}, TERMS),
    ("app_server_glossary_csv", str(TERMINOLOGY / "glossary-without-translation.csv"), {}, TERMS),
    ("app_server_do_not_translate", ["Tradia", ""], {}, TERMS),
    ("app_server_do_not_translate", [{"name": "Tradia"}], {}, TERMS),
    ("app_server_do_not_translate", {"Tradia": "keep"}, {}, SPEC),
    ("app_server_models", ["llama 3.1"], {}, "Check the offered models"),
    # The default model must be one of them (the app would refuse to start).
    ("app_server_models", ["qwen3:8b"], {}, "Check the offered models"),
    ("app_server_models", {"name": "llama3.1:8b"}, {}, SPEC),
    ("app_server_app_memory", "lots", {}, "Check the app container's memory and /tmp"),
    ("app_server_app_tmp_size", "512 MB", {}, "Check the app container's memory and /tmp"),
    ("app_server_env_extra", ["TRADIA_MAX_CHARS=100"], {}, SPEC),
    (
        "app_server_env_extra",
        {"OLLAMA_BASE_URL": "http://elsewhere:11434"},
        {},
        "Check the app's extra environment",
    ),
    ("app_server_env_extra", {"tradia max": "1"}, {}, "Check the app's extra environment"),
    (
        "app_server_ai_servers_group",
        "ai-servers!",
        {"app_server_ai_servers": []},
        "Check names, images, paths and URLs",
    ),
    ("app_server_ai_servers", ["ai1.example.org"], {}, "Check the AI servers"),
    ("app_server_monitoring_group", "monitoring hosts!", {}, "Check names, images, paths and URLs"),
    ("app_server_ai_servers", "https://ai1.example.org:11434", {}, "Check the AI servers"),
    ("app_server_ai_port", 0, {}, "Check the ports"),
    ("app_server_ai_port", "eleven", {}, SPEC),
    ("app_server_ai_tls", "perhaps", {}, SPEC),
    ("app_server_ai_ca_source", "letsencrypt", {}, SPEC),
    (
        "app_server_ai_ca_file",
        "/nonexistent/ca.crt",
        {"app_server_ai_ca_source": "file"},
        "Check the CA of the AI servers",
    ),
    ("app_server_ai_health_interval", "often", {}, "Check the durations"),
    ("app_server_ai_health_timeout", "5 seconds", {}, "Check the durations"),
    ("app_server_traefik_image", "traefik v3", {}, "Check names, images, paths and URLs"),
    ("app_server_traefik_image_archive", "/nonexistent/traefik.tar", {}, "Check the image source"),
    ("app_server_traefik_container_name", "traefik!", {}, "Check names, images, paths and URLs"),
    ("app_server_http_port", 70000, {}, "Check the ports"),
    ("app_server_https_port", "https", {}, SPEC),
    # overlapping ports
    (
        "app_server_https_port",
        8443,
        {"app_server_http_port": 8443},
        "Check that the ports do not overlap",
    ),
    ("app_server_traefik_read_timeout", "forever", {}, "Check the durations"),
    ("app_server_traefik_idle_timeout", "3 minutes", {}, "Check the durations"),
    ("app_server_traefik_log_level", "VERBOSE", {}, SPEC),
    ("app_server_hostname", "app server", {}, "Check names, images, paths and URLs"),
    ("app_server_tls_source", "selfsigned", {}, SPEC),
    (
        "app_server_tls_cert_file",
        "/nonexistent/server.crt",
        {"app_server_tls_source": "files"},
        "Check the HTTPS certificate settings",
    ),
    (
        "app_server_tls_key_file",
        "/nonexistent/server.key",
        {"app_server_tls_source": "files"},
        "Check the HTTPS certificate settings",
    ),
    ("app_server_tls_extra_sans", ["tradia.example.org"], {}, "Check the list values"),
    (
        "app_server_acme_email",
        "not-an-email",
        {"app_server_tls_source": "acme"},
        "Check the HTTPS certificate settings",
    ),
    (
        "app_server_acme_ca_server",
        "http://acme.example.org/directory",
        {},
        "Check names, images, paths and URLs",
    ),
    ("app_server_hsts_seconds", -5, {}, "Check the rate limit and HSTS"),
    ("app_server_users", [{"name": "alice"}], {}, "Check the web users"),  # missing password
    ("app_server_users", [{"name": "alice", "password": "short"}], {}, "Check the web users"),
    # bad hash
    (
        "app_server_users",
        [{"name": "alice", "password_hash": "$1$md5$notbcrypt"}],
        {},
        "Check the web users",
    ),
    ("app_server_users", [{"name": "a l", "password_hash": GOOD_HASH}], {}, "Check the web users"),
    (
        "app_server_users",
        [{"name": "a", "password": "longer-pw", "password_hash": GOOD_HASH}],
        {},
        "Check the web users",
    ),
    ("app_server_users", ["alice:secret"], {}, SPEC),
    ("app_server_users", [{"name": "alice", "pasword": "long-enough-pw"}], {}, SPEC),
    ("app_server_users_bcrypt_cost", 20, {}, "Check the bcrypt cost"),
    ("app_server_user_header", "X Forwarded User", {}, "Check the user names"),
    ("app_server_rate_limit_average", 0, {}, "Check the rate limit and HSTS"),
    (
        "app_server_rate_limit_burst",
        5,
        {"app_server_rate_limit_average": 20},
        "Check the rate limit and HSTS",
    ),
    ("app_server_metrics_allowed", ["monitoring.example.org"], {}, "Check the address lists"),
    ("app_server_metrics_allowed", ["10.0.0.300/32"], {}, "Check the address lists"),
    # The key both roles share: 32 characters or more (the AI server's rule; 16 passed here).
    ("app_server_api_key", "k" * 20, {}, "Check the API key"),
    ("app_server_users_bcrypt_cost", 13, {}, "Check the bcrypt cost"),
    ("app_server_verify", "sometimes", {}, SPEC),
    # Sign-in (app_server_auth): each mode's inputs, refused before anything changes.
    ("app_server_auth", "kerberos", {}, SPEC),
    ("app_server_users", [], LOCAL, USERS_FOR_MODE),  # local with nobody to sign in
    # The app refuses a hash below cost 10 at start.
    (
        "app_server_users",
        [{"name": "alice", "password_hash": "$2y$05$" + "a" * 53}],
        LOCAL,
        USERS_FOR_MODE,
    ),
    ("app_server_users", [{"name": "alice"}], LOCAL, "Check the web users"),  # no password
    # The directory or the provider says who signs in: a list of users would be ignored.
    ("app_server_users", [{"name": "alice", "password": "alice-password-1"}], OIDC, USERS_FOR_MODE),
    ("app_server_local_bcrypt_cost", 5, LOCAL, LOCAL_COST),
    ("app_server_local_bcrypt_cost", 15, {}, LOCAL_COST),
    ("app_server_local_bcrypt_cost", "high", {}, SPEC),
    ("app_server_session_key", "", LOCAL, SESSION_KEY),
    ("app_server_session_key", "s" * 20, OIDC, SESSION_KEY),
    ("app_server_session_key", "CHANGE-ME-openssl-rand-hex-32-0123456789", LDAP, SESSION_KEY),
    ("app_server_session_idle_minutes", 0, {}, LIFETIMES),
    ("app_server_session_idle_minutes", 600, {"app_server_session_max_hours": 2}, LIFETIMES),
    ("app_server_session_max_hours", 1000, {}, LIFETIMES),
    ("app_server_session_max_hours", "long", {}, SPEC),
    ("app_server_ldap_url", "ldap.example.org", LDAP, LDAP_CHECK),
    ("app_server_ldap_url", "https://ldap.example.org", LDAP, LDAP_CHECK),
    # Plain LDAP without StartTLS: passwords in clear on the network.
    ("app_server_ldap_url", "ldap://ldap.example.org:389", LDAP, LDAP_CHECK),
    ("app_server_ldap_starttls", True, LDAP, LDAP_CHECK),  # on an ldaps:// URL
    ("app_server_ldap_starttls", "perhaps", {}, SPEC),
    ("app_server_ldap_bind_dn", "", LDAP, LDAP_CHECK),
    ("app_server_ldap_bind_password", "", LDAP, LDAP_CHECK),
    ("app_server_ldap_bind_password", "CHANGE-ME-bind-password", LDAP, LDAP_CHECK),
    ("app_server_ldap_user_base", "", LDAP, LDAP_CHECK),
    ("app_server_ldap_user_filter", "(uid=alice)", LDAP, LDAP_CHECK),
    ("app_server_ldap_user_filter", "uid={username}", LDAP, LDAP_CHECK),
    ("app_server_ldap_group_dn", "translators", LDAP, LDAP_CHECK),
    ("app_server_ldap_group_filter", "(member=uid=alice)", LDAP, LDAP_CHECK),
    ("app_server_ldap_ca_file", "/nonexistent/ldap-ca.crt", LDAP, LDAP_CHECK),
    # Empty means the deployment CA: refused when there is none and this run makes none.
    (
        "app_server_ldap_ca_file",
        "",
        {
            **LDAP,
            "app_server_tls_source": "acme",
            "app_server_ai_tls": False,
            "internal_ca_dir": "/nonexistent/pki",
        },
        LDAP_CHECK,
    ),
    ("app_server_oidc_issuer", "http://sso.example.org", OIDC, OIDC_CHECK),
    ("app_server_oidc_issuer", "sso.example.org", OIDC, OIDC_CHECK),
    ("app_server_oidc_client_id", "", OIDC, OIDC_CHECK),
    ("app_server_oidc_client_secret", "", OIDC, OIDC_CHECK),
    ("app_server_oidc_client_secret", "CHANGE-ME-client-secret", OIDC, OIDC_CHECK),
    ("app_server_oidc_scopes", ["profile", "email"], OIDC, OIDC_CHECK),
    ("app_server_oidc_scopes", ["openid", "two words"], OIDC, OIDC_CHECK),
    ("app_server_oidc_username_claim", "", OIDC, OIDC_CHECK),
    ("app_server_oidc_groups_claim", "my groups", OIDC, OIDC_CHECK),
    ("app_server_oidc_allowed_groups", ["translators,reviewers"], OIDC, OIDC_CHECK),
    ("app_server_oidc_allowed_groups", [" translators"], OIDC, OIDC_CHECK),
    ("app_server_oidc_provider_name", "", OIDC, OIDC_CHECK),
    ("app_server_oidc_ca_file", "/nonexistent/oidc-ca.crt", OIDC, OIDC_CHECK),
    # The example vault's placeholders (inventory/example/group_vars/all/vault.yml.example).
    ("app_server_api_key", "CHANGE-ME-openssl-rand-hex-32", {}, "Check the API key"),
    (
        "app_server_users",
        [{"name": "marie", "password": "CHANGE-ME-a-long-password"}],
        {},
        "Check the web users",
    ),
]


@pytest.fixture(scope="module")
def refusals(tmp_path_factory: pytest.TempPathFactory) -> list[Failure | None]:
    """Every case's first failure, from one run of the role (a host per case)."""
    cases = [{**BASELINE, **extra, variable: value} for variable, value, extra, _ in CASES]
    return run_cases("app_server", cases, tmp_path_factory.mktemp("cases"))


@pytest.mark.parametrize(
    ("index", "variable", "check"),
    [(index, case[0], case[3]) for index, case in enumerate(CASES)],
    ids=[f"{c[0]}={c[1]!r}"[:60] for c in CASES],
)
def test_bad_value_fails_validation_naming_it(index, variable, check, refusals):
    failure = refusals[index]
    assert failure is not None, f"{variable}={CASES[index][1]!r} was accepted"
    # Refused by the check meant for it (argument_specs or validate.yml), before any change...
    assert is_check("app_server", failure.task, check), str(failure)
    # ...with a message that names the variable (not the result's list of every option).
    assert failure.names(variable), str(failure)


@pytest.mark.parametrize("mode", MODES)
def test_the_baseline_passes_validation(mode, tmp_path):
    # Without this, a table could pass because the baseline itself is refused: each sign-in
    # mode's good inventory too.
    assert_baseline_passes(
        "app_server", run_role("app_server", {**BASELINE, **MODES[mode]}, tmp_path)
    )


def test_the_users_passwords_never_show_on_failure(tmp_path):
    secret = "hunter2-" + "x" * 20
    users = [{"name": "alice", "password": secret}, {"name": "bob", "password": "tiny7"}]
    result = run_role("app_server", {**BASELINE, "app_server_users": users}, tmp_path)
    assert result.returncode != 0
    assert secret not in result.stdout + result.stderr
    assert "tiny7" not in result.stdout + result.stderr


def test_every_documented_variable_has_a_bad_value_case():
    assert documented_variables("app_server") - {case[0] for case in CASES} == set()

"""Bad inventory values for the app_server role fail before anything changes, naming the variable.

The same harness as the ai_server table: the real role, in check mode, against localhost."""

import pytest
from role_check_mode import ROOT, documented_variables, failed_task, is_validation, run_role

GOOD_KEY = "k" * 40
BASELINE = {
    "app_server_api_key": GOOD_KEY,
    "app_server_ai_servers": ["https://ai1.example.org:11434"],
    "app_server_image_build_src": str(ROOT / "app"),
}
GOOD_HASH = "$2y$10$" + "a" * 53

CASES = [
    # (variable, bad value, extra variables)
    ("app_server_api_key", "short", {}),
    ("app_server_api_key", ["not", "a", "string"], {}),
    ("app_server_api_user", "api user", {}),
    ("app_server_config_dir", "etc/tradia/app", {}),
    ("app_server_docker_network", "tradia app", {}),
    ("app_server_docker_subnet", "172.31.250.0/40", {}),
    ("app_server_docker_subnet", "tradia", {}),
    ("app_server_edge_network", "-edge", {}),
    ("app_server_image", "Tradia/App:latest", {}),
    ("app_server_image_source", "git", {}),
    ("app_server_image_archive", "", {"app_server_image_source": "load"}),
    ("app_server_image_build_src", "/nonexistent/app", {}),
    ("app_server_image_build_base", "python 3.11", {}),
    ("app_server_image_build_base_archive", "/nonexistent/python.tar", {}),
    ("app_server_container_name", "tradia/app", {}),
    ("app_server_ollama_model", "llama 3.1", {}),
    ("app_server_concurrency", -1, {}),
    ("app_server_concurrency", "many", {}),
    ("app_server_env_extra", ["TRADIA_MAX_CHARS=100"], {}),
    ("app_server_env_extra", {"OLLAMA_BASE_URL": "http://elsewhere:11434"}, {}),
    ("app_server_env_extra", {"tradia max": "1"}, {}),
    ("app_server_ai_servers_group", "ai-servers!", {"app_server_ai_servers": []}),
    ("app_server_ai_servers", ["ai1.example.org"], {}),
    ("app_server_ai_servers", "https://ai1.example.org:11434", {}),
    ("app_server_ai_port", 0, {}),
    ("app_server_ai_port", "eleven", {}),
    ("app_server_ai_tls", "perhaps", {}),
    ("app_server_ai_ca_source", "letsencrypt", {}),
    ("app_server_ai_ca_file", "/nonexistent/ca.crt", {"app_server_ai_ca_source": "file"}),
    ("app_server_ai_health_interval", "often", {}),
    ("app_server_ai_health_timeout", "5 seconds", {}),
    ("app_server_traefik_image", "traefik v3", {}),
    ("app_server_traefik_image_archive", "/nonexistent/traefik.tar", {}),
    ("app_server_traefik_container_name", "traefik!", {}),
    ("app_server_http_port", 70000, {}),
    ("app_server_https_port", "https", {}),
    ("app_server_https_port", 8443, {"app_server_http_port": 8443}),  # overlapping ports
    ("app_server_traefik_read_timeout", "forever", {}),
    ("app_server_traefik_idle_timeout", "3 minutes", {}),
    ("app_server_traefik_log_level", "VERBOSE", {}),
    ("app_server_hostname", "app server", {}),
    ("app_server_tls_source", "selfsigned", {}),
    ("app_server_tls_cert_file", "/nonexistent/server.crt", {"app_server_tls_source": "files"}),
    ("app_server_tls_key_file", "/nonexistent/server.key", {"app_server_tls_source": "files"}),
    ("app_server_tls_extra_sans", ["tradia.example.org"], {}),
    ("app_server_acme_email", "not-an-email", {"app_server_tls_source": "acme"}),
    ("app_server_acme_ca_server", "http://acme.example.org/directory", {}),
    ("app_server_hsts_seconds", -5, {}),
    ("app_server_users", [{"name": "alice"}], {}),  # missing password
    ("app_server_users", [{"name": "alice", "password": "short"}], {}),
    ("app_server_users", [{"name": "alice", "password_hash": "$1$md5$notbcrypt"}], {}),  # bad hash
    ("app_server_users", [{"name": "a l", "password_hash": GOOD_HASH}], {}),
    ("app_server_users", [{"name": "a", "password": "longer-pw", "password_hash": GOOD_HASH}], {}),
    ("app_server_users", ["alice:secret"], {}),
    ("app_server_users_bcrypt_cost", 20, {}),
    ("app_server_user_header", "X Forwarded User", {}),
    ("app_server_rate_limit_average", 0, {}),
    ("app_server_rate_limit_burst", 5, {"app_server_rate_limit_average": 20}),
    ("app_server_metrics_allowed", ["monitoring.example.org"], {}),
    ("app_server_verify", "sometimes", {}),
    # The example vault's placeholders (inventory/example/group_vars/all/vault.yml.example).
    ("app_server_api_key", "CHANGE-ME-openssl-rand-hex-32", {}),
    ("app_server_users", [{"name": "marie", "password": "CHANGE-ME-a-long-password"}], {}),
]


@pytest.mark.parametrize(
    ("variable", "value", "extra"), CASES, ids=[f"{c[0]}={c[1]!r}"[:60] for c in CASES]
)
def test_bad_value_fails_validation_naming_it(variable, value, extra, tmp_path):
    variables = {**BASELINE, **extra, variable: value}
    result = run_role("app_server", variables, tmp_path)
    assert result.returncode != 0
    task, message = failed_task(result)
    assert variable in message, f"{task}: {message[:600]}"
    assert is_validation("app_server", task), task


def test_the_baseline_passes_validation(tmp_path):
    # Without this, a table could pass because the baseline itself is refused.
    result = run_role("app_server", BASELINE, tmp_path)
    if result.returncode != 0:
        task, message = failed_task(result)
        assert not is_validation("app_server", task), f"{task}: {message[:600]}"


def test_the_users_passwords_never_show_on_failure(tmp_path):
    secret = "hunter2-" + "x" * 20
    users = [{"name": "alice", "password": secret}, {"name": "bob", "password": "tiny7"}]
    result = run_role("app_server", {**BASELINE, "app_server_users": users}, tmp_path)
    assert result.returncode != 0
    assert secret not in result.stdout + result.stderr
    assert "tiny7" not in result.stdout + result.stderr


def test_every_documented_variable_has_a_bad_value_case():
    assert documented_variables("app_server") - {case[0] for case in CASES} == set()

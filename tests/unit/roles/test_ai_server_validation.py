"""Bad inventory values for the ai_server role fail before anything changes, naming the variable.

Each case runs the real role in check mode against localhost: argument_specs and the validate
step must stop it at once. Check mode also guarantees a value that slipped through changes
nothing here; the test then fails on the missing error."""

import pytest
from role_check_mode import documented_variables, failed_task, is_validation, run_role

GOOD_KEY = "k" * 40

CASES = [
    # (variable, bad value, extra variables)
    ("ai_server_api_key", "too-short", {}),
    ("ai_server_api_key", 12345, {}),
    ("ai_server_api_user", "api user", {}),
    ("ai_server_api_bcrypt_cost", 14, {}),
    ("ai_server_api_bcrypt_cost", "cheap", {}),
    ("ai_server_gpu", "amd", {}),
    ("ai_server_port", "eleven", {}),
    ("ai_server_port", 70000, {}),
    ("ai_server_port", 8082, {}),
    ("ai_server_ollama_port", 11434, {}),  # Traefik's port: the firewall could not tell them apart
    ("ai_server_ollama_port", 0, {}),
    ("ai_server_tls", "maybe", {}),
    ("ai_server_tls_source", "letsencrypt", {}),
    ("ai_server_tls_cert_file", "", {"ai_server_tls_source": "files"}),
    ("ai_server_traefik_read_timeout", "forever", {}),
    ("ai_server_traefik_idle_timeout", "10 minutes", {}),
    ("ai_server_traefik_log_level", "LOUD", {}),
    ("ai_server_rate_limit_average", 0, {}),
    ("ai_server_rate_limit_average", "fast", {}),
    ("ai_server_rate_limit_burst", 10, {"ai_server_rate_limit_average": 50}),
    ("ai_server_ollama_env", "OLLAMA_NUM_PARALLEL=4", {}),
    ("ai_server_ollama_env", {"OLLAMA_NUM_PARALLEL": "0"}, {}),
    ("ai_server_ollama_env_extra", {"OLLAMA_DEBUG_LOG_REQUESTS": "1"}, {}),
    ("ai_server_ollama_env_extra", {"OLLAMA_HOST": "0.0.0.0:1"}, {}),
    ("ai_server_ollama_models", "llama3.1:8b", {}),
    ("ai_server_ollama_models", [{"name": "bad name!"}], {}),
    ("ai_server_ollama_models", [{"name": "house:1", "source": "file"}], {}),
    ("ai_server_ollama_models", [{"name": "x", "source": "ftp"}], {}),
    ("ai_server_ollama_image_archive", "/nonexistent/ollama.tar", {}),
    ("ai_server_allowed_clients", ["app.example.org"], {}),
    ("ai_server_allowed_clients", ["10.0.0.300"], {}),
    ("ai_server_firewall", "yes please", {}),
    ("ai_server_ollama_pull_timeout", "long", {}),
    ("ai_server_api_key_min_length", 8, {}),
    ("ai_server_nvidia_repo_url", "nvidia.github.io/libnvidia-container", {}),
    ("ai_server_nvidia_gpg_key_url", "ftp://example.org/key", {}),
    ("ai_server_nvidia_packages", ["nvidia container toolkit"], {}),
    ("ai_server_config_dir", "etc/tradia", {}),
    ("ai_server_docker_network", "tradia ai", {}),
    ("ai_server_ollama_image", "Ollama/Ollama:latest", {}),
    ("ai_server_ollama_container_name", "-ollama", {}),
    ("ai_server_ollama_volume", "models/ollama", {}),
    ("ai_server_ollama_data_path", "root/.ollama", {}),
    ("ai_server_traefik_image", "traefik:v3 latest", {}),
    ("ai_server_traefik_image_archive", "/nonexistent/traefik.tar", {}),
    ("ai_server_traefik_container_name", "traefik!", {}),
    ("ai_server_tls_key_file", "/nonexistent/server.key", {"ai_server_tls_source": "files"}),
    ("ai_server_tls_ca_file", "", {"ai_server_tls_source": "files"}),
    ("ai_server_tls_extra_sans", ["ai.example.org"], {}),
    ("ai_server_app_servers_group", "no_such_group", {"ai_server_allowed_clients": []}),
    ("ai_server_verify", "sometimes", {}),
    # The example vault's placeholder, long enough to pass every other check.
    ("ai_server_api_key", "CHANGE-ME-openssl-rand-hex-32-" + "0" * 32, {}),
]


@pytest.mark.parametrize(
    ("variable", "value", "extra"), CASES, ids=[f"{c[0]}={c[1]!r}"[:60] for c in CASES]
)
def test_bad_value_fails_validation_naming_it(variable, value, extra, tmp_path):
    variables = {"ai_server_api_key": GOOD_KEY, "ai_server_allowed_clients": ["10.0.0.5"]}
    variables.update(extra)
    variables[variable] = value
    result = run_role("ai_server", variables, tmp_path)
    assert result.returncode != 0
    task, message = failed_task(result)
    assert variable in message, f"{task}: {message[:600]}"
    # The failure comes from validation (argument_specs or validate.yml), before any change.
    assert is_validation("ai_server", task), task


def test_missing_key_fails_naming_it(tmp_path):
    result = run_role("ai_server", {"ai_server_allowed_clients": ["10.0.0.5"]}, tmp_path)
    assert result.returncode != 0
    task, message = failed_task(result)
    assert "ai_server_api_key" in message
    assert is_validation("ai_server", task), task


def test_unknown_app_server_addresses_fail(tmp_path):
    result = run_role("ai_server", {"ai_server_api_key": GOOD_KEY}, tmp_path)
    assert result.returncode != 0
    task, message = failed_task(result)
    assert "ai_server_allowed_clients" in message
    assert is_validation("ai_server", task), task


def test_key_never_printed_on_failure(tmp_path):
    secret = "s3cret-" + "x" * 40
    result = run_role("ai_server", {"ai_server_api_key": secret, "ai_server_gpu": "amd"}, tmp_path)
    assert result.returncode != 0
    assert secret not in result.stdout + result.stderr


def test_every_documented_variable_has_a_bad_value_case():
    documented = documented_variables("ai_server")
    covered = {case[0] for case in CASES}
    assert documented - covered == set()

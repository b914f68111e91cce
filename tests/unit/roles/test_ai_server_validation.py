"""Bad inventory values for the ai_server role fail before anything changes, naming the variable.

Each case runs the real role in check mode against localhost: argument_specs and the validate
step must stop it at once. Check mode also guarantees a value that slipped through changes
nothing here; the test then fails on the missing error. Each case names the check that must
refuse it (SPEC: argument_specs; else a task of validate.yml), and the message the user reads
must name the variable."""

import pytest
from role_check_mode import (
    ARG_SPEC,
    Failure,
    assert_baseline_passes,
    documented_variables,
    failed_task,
    is_check,
    is_validation,
    run_cases,
    run_role,
)

GOOD_KEY = "k" * 40
SPEC = ARG_SPEC  # refused by argument_specs
BASELINE = {"ai_server_api_key": GOOD_KEY, "ai_server_allowed_clients": ["10.0.0.5"]}
CLIENTS = "Check the API clients"


def _client(**changes: object) -> dict[str, object]:
    """A valid API client, but for `changes`."""
    return {"name": "robot", "key": "r" * 40, "allowed_from": ["10.0.0.9"], **changes}


CASES = [
    # (variable, bad value, extra variables, the check that refuses it)
    ("ai_server_api_key", "too-short", {}, "Check the API key"),
    ("ai_server_api_key", 12345, {}, "Check the API key"),
    ("ai_server_api_user", "api user", {}, "Check the API user name"),
    ("ai_server_api_clients", [{"name": "robot", "key": GOOD_KEY}], {}, SPEC),  # no allowed_from
    ("ai_server_api_clients", [{"name": "robot", "allowed_from": ["10.0.0.9"]}], {}, SPEC),
    ("ai_server_api_clients", [_client(scopes=["admin"])], {}, SPEC),
    ("ai_server_api_clients", [_client(kee="typo")], {}, SPEC),
    ("ai_server_api_clients", [_client(rate_limit={"average": "fast"})], {}, SPEC),
    ("ai_server_api_clients", [_client(name="robot one")], {}, CLIENTS),
    ("ai_server_api_clients", [_client(name="local")], {}, CLIENTS),  # a built-in client
    ("ai_server_api_clients", [_client(), _client(key="r" * 40)], {}, CLIENTS),  # same name
    ("ai_server_api_clients", [_client(key="short")], {}, CLIENTS),
    ("ai_server_api_clients", [_client(key=GOOD_KEY)], {}, CLIENTS),  # the app servers' key
    ("ai_server_api_clients", [_client(), _client(name="other")], {}, CLIENTS),  # one key, two
    ("ai_server_api_clients", [_client(previous_key="CHANGE-ME-" + "0" * 40)], {}, CLIENTS),
    ("ai_server_api_clients", [_client(allowed_from=[])], {}, CLIENTS),
    ("ai_server_api_clients", [_client(allowed_from=["office.example.org"])], {}, CLIENTS),
    ("ai_server_api_clients", [_client(rate_limit={"average": 0})], {}, CLIENTS),
    ("ai_server_api_clients", [_client(rate_limit={"average": 10, "burst": 5})], {}, CLIENTS),
    ("ai_server_metrics_port", 11434, {}, "Check the port"),  # the AI port
    ("ai_server_metrics_port", "metrics", {}, SPEC),
    ("ai_server_gpu", "amd", {}, SPEC),
    ("ai_server_port", "eleven", {}, SPEC),
    ("ai_server_port", 70000, {}, "Check the port"),
    ("ai_server_port", 8082, {}, "Check the port"),
    # Traefik's port: the firewall could not tell them apart.
    ("ai_server_ollama_port", 11434, {}, "Check the port"),
    ("ai_server_ollama_port", 0, {}, "Check the port"),
    ("ai_server_tls", "maybe", {}, SPEC),
    ("ai_server_tls_source", "letsencrypt", {}, SPEC),
    (
        "ai_server_tls_cert_file",
        "",
        {"ai_server_tls_source": "files"},
        "Check the provided TLS files",
    ),
    ("ai_server_traefik_read_timeout", "forever", {}, "Check the Traefik timeouts"),
    ("ai_server_traefik_idle_timeout", "10 minutes", {}, "Check the Traefik timeouts"),
    ("ai_server_traefik_log_level", "LOUD", {}, SPEC),
    ("ai_server_rate_limit_average", 0, {}, "Check the rate limit"),
    ("ai_server_rate_limit_average", "fast", {}, SPEC),
    (
        "ai_server_rate_limit_burst",
        10,
        {"ai_server_rate_limit_average": 50},
        "Check the rate limit",
    ),
    ("ai_server_rate_limit_app_servers_average", 0, {}, "Check the rate limit"),
    ("ai_server_rate_limit_app_servers_average", "fast", {}, SPEC),
    (
        "ai_server_rate_limit_app_servers_burst",
        100,
        {"ai_server_rate_limit_app_servers_average": 200},
        "Check the rate limit",
    ),
    (
        "ai_server_ollama_env",
        "OLLAMA_NUM_PARALLEL=4",
        {},
        "Check the Ollama environment is a mapping",
    ),
    ("ai_server_ollama_env", {"OLLAMA_NUM_PARALLEL": "0"}, {}, "Check the Ollama environment"),
    (
        "ai_server_ollama_env_extra",
        {"OLLAMA_DEBUG_LOG_REQUESTS": "1"},
        {},
        "Check the Ollama environment",
    ),
    (
        "ai_server_ollama_env_extra",
        {"OLLAMA_HOST": "0.0.0.0:1"},
        {},
        "Check the Ollama environment",
    ),
    ("ai_server_ollama_models", "llama3.1:8b", {}, SPEC),
    ("ai_server_ollama_models", [{"name": "bad name!"}], {}, "Check the models list"),
    (
        "ai_server_ollama_models",
        [{"name": "house:1", "source": "file"}],
        {},
        "Check the models list",
    ),
    # argument_specs' options: now the spec refuses what validate.yml did.
    ("ai_server_ollama_models", [{"name": "x", "source": "ftp"}], {}, SPEC),
    ("ai_server_ollama_models", [{"source": "pull"}], {}, SPEC),
    ("ai_server_ollama_models", [{"name": "x", "sorce": "file"}], {}, SPEC),
    (
        "ai_server_ollama_image_archive",
        "/nonexistent/ollama.tar",
        {},
        "Check the image archives exist on the controller",
    ),
    ("ai_server_allowed_clients", ["app.example.org"], {}, "Check the firewall sources"),
    ("ai_server_allowed_clients", ["10.0.0.300"], {}, "Check the firewall sources"),
    ("ai_server_firewall", "yes please", {}, SPEC),
    ("ai_server_ollama_pull_timeout", "long", {}, SPEC),
    (
        "ai_server_nvidia_repo_url",
        "nvidia.github.io/libnvidia-container",
        {},
        "Check names, images, paths and URLs",
    ),
    (
        "ai_server_nvidia_gpg_key_url",
        "ftp://example.org/key",
        {},
        "Check names, images, paths and URLs",
    ),
    ("ai_server_nvidia_packages", ["nvidia container toolkit"], {}, "Check the list values"),
    ("ai_server_config_dir", "etc/tradia", {}, "Check names, images, paths and URLs"),
    ("ai_server_docker_network", "tradia ai", {}, "Check names, images, paths and URLs"),
    ("ai_server_ollama_image", "Ollama/Ollama:latest", {}, "Check names, images, paths and URLs"),
    ("ai_server_ollama_container_name", "-ollama", {}, "Check names, images, paths and URLs"),
    ("ai_server_ollama_volume", "models/ollama", {}, "Check names, images, paths and URLs"),
    ("ai_server_ollama_data_path", "root/.ollama", {}, "Check names, images, paths and URLs"),
    ("ai_server_traefik_image", "traefik:v3 latest", {}, "Check names, images, paths and URLs"),
    (
        "ai_server_traefik_image_archive",
        "/nonexistent/traefik.tar",
        {},
        "Check the image archives exist on the controller",
    ),
    ("ai_server_traefik_container_name", "traefik!", {}, "Check names, images, paths and URLs"),
    (
        "ai_server_tls_key_file",
        "/nonexistent/server.key",
        {"ai_server_tls_source": "files"},
        "Check the provided TLS files",
    ),
    (
        "ai_server_tls_ca_file",
        "",
        {"ai_server_tls_source": "files"},
        "Check the provided TLS files",
    ),
    ("ai_server_tls_extra_sans", ["ai.example.org"], {}, "Check the list values"),
    (
        "ai_server_app_servers_group",
        "no_such_group",
        {"ai_server_allowed_clients": []},
        "Check the firewall sources",
    ),
    ("ai_server_verify", "sometimes", {}, SPEC),
    ("ai_server_monitoring_group", "monitoring hosts!", {}, "Check names, images, paths and URLs"),
    # The example vault's placeholder, long enough to pass every other check.
    ("ai_server_api_key", "CHANGE-ME-openssl-rand-hex-32-" + "0" * 32, {}, "Check the API key"),
]


@pytest.fixture(scope="module")
def refusals(tmp_path_factory: pytest.TempPathFactory) -> list[Failure | None]:
    """Every case's first failure, from one run of the role (a host per case)."""
    cases = [{**BASELINE, **extra, variable: value} for variable, value, extra, _ in CASES]
    return run_cases("ai_server", cases, tmp_path_factory.mktemp("cases"))


@pytest.mark.parametrize(
    ("index", "variable", "check"),
    [(index, case[0], case[3]) for index, case in enumerate(CASES)],
    ids=[f"{c[0]}={c[1]!r}"[:60] for c in CASES],
)
def test_bad_value_fails_validation_naming_it(index, variable, check, refusals):
    failure = refusals[index]
    assert failure is not None, f"{variable}={CASES[index][1]!r} was accepted"
    # Refused by the check meant for it (argument_specs or validate.yml), before any change...
    assert is_check("ai_server", failure.task, check), str(failure)
    # ...with a message that names the variable (not the result's list of every option).
    assert failure.names(variable), str(failure)


def test_the_baseline_passes_validation(tmp_path):
    # Without this, a table could pass because the baseline itself is refused.
    assert_baseline_passes("ai_server", run_role("ai_server", BASELINE, tmp_path))


def test_missing_key_fails_naming_it(tmp_path):
    result = run_role("ai_server", {"ai_server_allowed_clients": ["10.0.0.5"]}, tmp_path)
    assert result.returncode != 0
    failure = failed_task(result)
    assert is_check("ai_server", failure.task, SPEC), str(failure)
    assert failure.names("ai_server_api_key"), str(failure)


def test_unknown_app_server_addresses_fail(tmp_path):
    result = run_role("ai_server", {"ai_server_api_key": GOOD_KEY}, tmp_path)
    assert result.returncode != 0
    failure = failed_task(result)
    assert is_check("ai_server", failure.task, "Check the firewall sources"), str(failure)
    assert failure.names("ai_server_allowed_clients"), str(failure)
    assert is_validation("ai_server", failure.task), failure.task


def test_key_never_printed_on_failure(tmp_path):
    secret = "s3cret-" + "x" * 40
    result = run_role("ai_server", {"ai_server_api_key": secret, "ai_server_gpu": "amd"}, tmp_path)
    assert result.returncode != 0
    assert secret not in result.stdout + result.stderr


def test_every_documented_variable_has_a_bad_value_case():
    documented = documented_variables("ai_server")
    covered = {case[0] for case in CASES}
    assert documented - covered == set()

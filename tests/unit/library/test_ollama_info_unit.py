"""ollama_info: every failure path has its own message; success returns models/version."""

from __future__ import annotations

import base64
import ssl

import pytest
from fake_ollama import FakeOllama, Reply
from module_harness import API_KEY
from ollama_sim.testing import make_pki


def args(url: str, **extra):
    return {"url": url, "url_password": API_KEY, **extra}


def assert_no_key(run) -> None:
    token = base64.b64encode(f"api:{API_KEY}".encode()).decode()
    assert API_KEY not in run.raw
    assert token not in run.raw


def test_lists_models_and_version(fake: FakeOllama, ollama_info, run_module):
    fake.add_model("smollm2:135m")
    fake.add_model("llama3.1:8b")
    run = run_module(ollama_info, args(fake.url))
    assert not run.failed, run.result
    assert run["changed"] is False
    assert run["version"] == "0.12.6"
    assert run["models"] == ["smollm2:135m", "llama3.1:8b"]
    assert run["models_raw"][0]["digest"]
    assert run["missing"] == []
    assert "loaded" not in run.result
    assert_no_key(run)
    assert run["invocation"]["module_args"]["url_password"] != API_KEY


def test_basic_auth_is_sent_preemptively(fake: FakeOllama, ollama_info, run_module):
    run = run_module(ollama_info, args(fake.url))
    assert not run.failed
    first = fake.requests[0]
    expected = "Basic " + base64.b64encode(f"api:{API_KEY}".encode()).decode()
    assert first.headers.get("Authorization") == expected
    assert all(r.headers.get("Authorization") == expected for r in fake.requests)


def test_gather_loaded(fake: FakeOllama, ollama_info, run_module):
    fake.routes[("GET", "/api/ps")] = lambda s, r: Reply(
        body={"models": [{"name": "smollm2:135m", "size_vram": 0}]}
    )
    run = run_module(ollama_info, args(fake.url, gather_loaded=True))
    assert run["loaded"] == ["smollm2:135m"]
    assert run["loaded_raw"][0]["size_vram"] == 0
    assert fake.calls("GET", "/api/ps")


def test_required_models_missing_are_named(fake: FakeOllama, ollama_info, run_module):
    fake.add_model("smollm2:latest")
    fake.add_model("llama3.1:8b")
    run = run_module(
        ollama_info,
        args(fake.url, required_models=["smollm2", "llama3.1:8b", "qwen3:8b", "qwen2.5vl:7b"]),
    )
    assert run.failed
    assert run["error_kind"] == "missing_models"
    assert run["missing"] == ["qwen3:8b", "qwen2.5vl:7b"]
    assert "qwen3:8b, qwen2.5vl:7b" in run["msg"]
    assert "smollm2" not in run["msg"].split("(present")[0]
    assert_no_key(run)


@pytest.mark.parametrize(
    ("present", "required"),
    [
        ("x:latest", "x"),
        ("x", "x:latest"),
        ("ns/x:latest", "ns/x"),
    ],
)
def test_name_without_tag_is_latest(fake, ollama_info, run_module, present, required):
    fake.add_model(present)
    run = run_module(ollama_info, args(fake.url, required_models=[required]))
    assert not run.failed, run.result
    assert run["missing"] == []


def test_check_mode_reads_and_never_changes(fake: FakeOllama, ollama_info, run_module):
    fake.add_model("smollm2:135m")
    run = run_module(ollama_info, args(fake.url), check_mode=True)
    assert not run.failed
    assert run["changed"] is False
    assert run["models"] == ["smollm2:135m"]


def test_connection_refused(closed_port: int, ollama_info, run_module):
    run = run_module(ollama_info, args(f"http://127.0.0.1:{closed_port}"))
    assert run.failed
    assert run["error_kind"] == "connection_refused"
    assert "connection refused" in run["msg"]
    assert_no_key(run)


def test_dns_failure(ollama_info, run_module):
    run = run_module(ollama_info, args("http://ollama.tradia.invalid:11434", timeout=5))
    assert run.failed
    assert run["error_kind"] == "dns"
    assert "cannot resolve host 'ollama.tradia.invalid'" in run["msg"]


def test_tls_verification_error_without_ca(tls_fake: FakeOllama, ollama_info, run_module):
    run = run_module(ollama_info, args(tls_fake.url))
    assert run.failed
    assert run["error_kind"] == "tls"
    assert "TLS certificate verification failed" in run["msg"]
    assert "ca_path" in run["msg"]
    assert not tls_fake.requests
    assert_no_key(run)


def test_tls_with_ca_path(tls_fake: FakeOllama, pki, ollama_info, run_module):
    run = run_module(ollama_info, args(tls_fake.url, ca_path=str(pki.ca_cert)))
    assert not run.failed, run.result
    assert tls_fake.requests[0].headers["Authorization"].startswith("Basic ")


def test_tls_wrong_host_name_fails(tmp_path, ollama_info, run_module):
    other = make_pki(tmp_path, dns_names=("ai.example.com",), ips=())
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(other.server_cert, other.server_key)
    server = FakeOllama(tls=context)
    try:
        run = run_module(ollama_info, args(server.url, ca_path=str(other.ca_cert)))
    finally:
        server.close()
    assert run["error_kind"] == "tls"
    assert "Hostname mismatch" in run["msg"] or "hostname" in run["msg"].lower()


def test_tls_validate_certs_false(tls_fake: FakeOllama, ollama_info, run_module):
    run = run_module(ollama_info, args(tls_fake.url, validate_certs=False))
    assert not run.failed, run.result


def test_https_to_plain_http_port(fake: FakeOllama, ollama_info, run_module):
    run = run_module(ollama_info, args(fake.url.replace("http://", "https://")))
    assert run["error_kind"] == "tls_handshake"
    assert "HTTPS" in run["msg"]


def test_401_says_check_the_key(fake: FakeOllama, ollama_info, run_module):
    fake.routes[("GET", "/api/tags")] = lambda s, r: Reply(
        401, "401 Unauthorized\n", "text/plain", {"WWW-Authenticate": 'Basic realm="traefik"'}
    )
    run = run_module(ollama_info, args(fake.url))
    assert run.failed
    assert run["error_kind"] == "auth"
    assert run["msg"].startswith("authentication failed: check the API key")
    assert run["status"] == 401
    assert_no_key(run)


def test_html_page_is_not_ollama(fake: FakeOllama, ollama_info, run_module):
    fake.routes[("GET", "/api/tags")] = lambda s, r: Reply(
        200, "<!doctype html><html><body>Welcome to nginx!</body></html>", "text/html"
    )
    run = run_module(ollama_info, args(fake.url))
    assert run["error_kind"] == "not_ollama"
    assert "HTML page, not the Ollama API" in run["msg"]


def test_json_without_models_is_not_ollama(fake: FakeOllama, ollama_info, run_module):
    fake.routes[("GET", "/api/tags")] = lambda s, r: Reply(body={"status": "ok"})
    run = run_module(ollama_info, args(fake.url))
    assert run["error_kind"] == "not_ollama"
    assert "without a 'models' list" in run["msg"]


def test_404_on_tags_is_not_ollama(fake: FakeOllama, ollama_info, run_module):
    fake.routes[("GET", "/api/tags")] = lambda s, r: Reply(404, "404 page not found", "text/plain")
    run = run_module(ollama_info, args(fake.url))
    assert run["error_kind"] == "not_ollama"
    assert "HTTP 404" in run["msg"]


def test_malformed_json(fake: FakeOllama, ollama_info, run_module):
    fake.routes[("GET", "/api/tags")] = lambda s, r: Reply(body=b'{"models": [{"name": ')
    run = run_module(ollama_info, args(fake.url))
    assert run["error_kind"] == "malformed_json"
    assert "malformed JSON" in run["msg"]


def test_timeout(silent_port: int, ollama_info, run_module):
    run = run_module(ollama_info, args(f"http://127.0.0.1:{silent_port}", timeout=0.5))
    assert run["error_kind"] == "timeout"
    assert "timed out after 0.5 s" in run["msg"]
    assert_no_key(run)


def test_redirect_is_refused_and_key_not_resent(fake: FakeOllama, ollama_info, run_module):
    other = FakeOllama()
    try:
        fake.routes[("GET", "/api/tags")] = lambda s, r: Reply(
            302, b"", "text/plain", {"Location": f"{other.url}/api/tags"}
        )
        run = run_module(ollama_info, args(fake.url))
        assert run["error_kind"] == "redirect"
        assert other.url in run["msg"]
        assert other.requests == []  # the key never reached the other origin
    finally:
        other.close()


def test_server_echoing_the_key_is_scrubbed(fake: FakeOllama, ollama_info, run_module):
    def echo(s, rec):
        return Reply(500, {"error": f"bad auth header {rec.headers['Authorization']} {API_KEY}"})

    fake.routes[("GET", "/api/tags")] = echo
    run = run_module(ollama_info, args(fake.url))
    assert run["error_kind"] == "server_error"
    assert "bad auth header Basic ********" in run["msg"]
    assert_no_key(run)


def test_credentials_in_url_are_refused(fake: FakeOllama, ollama_info, run_module):
    run = run_module(ollama_info, {"url": fake.url.replace("//", f"//api:{API_KEY}@")})
    assert run["error_kind"] == "config"
    assert not fake.requests
    assert_no_key(run)


def test_no_password_sends_no_auth(fake: FakeOllama, ollama_info, run_module):
    run = run_module(ollama_info, {"url": fake.url})
    assert not run.failed
    assert "Authorization" not in fake.requests[0].headers


def test_missing_ca_file_is_named(tls_fake: FakeOllama, tmp_path, ollama_info, run_module):
    run = run_module(ollama_info, args(tls_fake.url, ca_path=str(tmp_path / "nope.pem")))
    assert run["error_kind"] == "config"
    assert "nope.pem" in run["msg"]


def test_invalid_required_model_name_fails_before_any_request(
    fake: FakeOllama, ollama_info, run_module
):
    run = run_module(ollama_info, args(fake.url, required_models=["smollm2", "x y", "ok:1"]))
    assert run.failed
    assert run["error_kind"] == "config"
    assert "required_models: 'x y'" in run["msg"]
    assert fake.requests == []

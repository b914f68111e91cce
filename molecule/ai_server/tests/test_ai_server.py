"""What the ai_server role promises, checked the way a person would: on the host, from the app
server, from an outsider, and with the official Ollama client."""

import hashlib
import json

import pytest

from conftest import (
    API_KEY,
    CURL_CERT_REFUSED,
    CURL_TIMED_OUT,
    clear_ai_fault,
    curl,
    curl_exit,
    run_client,
    set_ai_fault,
)


def test_containers_run_with_restart_policies(ai_server):
    for name in ("tradia-ollama", "tradia-ai-traefik"):
        state = json.loads(ai_server.check_output(f"docker inspect {name}"))[0]
        assert state["State"]["Running"], name
        assert state["State"]["Health"]["Status"] == "healthy", name
        assert state["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped", name


def test_ollama_is_never_published(ai_server):
    state = json.loads(ai_server.check_output("docker inspect tradia-ollama"))[0]
    assert not state["HostConfig"]["PortBindings"]
    assert not any(
        state["NetworkSettings"]["Ports"].get(p) for p in state["NetworkSettings"]["Ports"]
    )
    assert list(state["NetworkSettings"]["Networks"]) == ["tradia_ai"]


def test_only_traefik_listens_on_11434(ai_server):
    state = json.loads(ai_server.check_output("docker inspect tradia-ai-traefik"))[0]
    assert state["HostConfig"]["PortBindings"]["11434/tcp"][0]["HostPort"] == "11434"
    assert state["HostConfig"]["ReadonlyRootfs"] is True
    # nobody, in the role's own group: the one that may read Traefik's secrets, not nogroup.
    traefik_group = ai_server.group("tradia-ai-traefik")
    assert traefik_group.exists
    assert state["Config"]["User"] == f"65534:{traefik_group.gid}"


def test_secrets_are_not_world_readable(ai_server):
    for path in (
        "/etc/tradia/ai/traefik/dynamic/ollama.yml",
        "/etc/tradia/ai/tls/server.key",
        "/etc/tradia/ai/local-client.key",
    ):
        f = ai_server.file(path)
        assert f.exists, path
        assert f.mode & 0o007 == 0, f"{path} is world-accessible: {oct(f.mode)}"
    # The gateway's routes hold the key's SHA-256, never the key (nor the old bcrypt file).
    routes = ai_server.file("/etc/tradia/ai/traefik/dynamic/ollama.yml").content_string
    assert hashlib.sha256(API_KEY.encode()).hexdigest() in routes
    assert API_KEY not in routes
    assert not ai_server.file("/etc/tradia/ai/traefik/users").exists


def test_app_server_needs_the_key(app_client, ca_pem):
    assert curl(app_client, "/api/tags", ca_pem=ca_pem) == "401"
    assert curl(app_client, "/api/tags", "-u", "api:wrong-key", ca_pem=ca_pem) == "401"
    assert curl(app_client, "/api/tags", "-u", f"api:{API_KEY}", ca_pem=ca_pem) == "200"


def test_certificate_is_verified_against_the_ca(app_client):
    # Without our CA, curl must refuse the certificate (exit 60, no HTTP status).
    assert curl_exit(app_client, "/api/tags", "-u", f"api:{API_KEY}") == (CURL_CERT_REFUSED, "000")


def test_outsider_cannot_reach_11434(outsider, ca_pem):
    # Dropped by the firewall: the connection times out (not refused, not answered)...
    denied = curl_exit(outsider, "/api/tags", "-u", f"api:{API_KEY}", ca_pem=ca_pem)
    assert denied == (CURL_TIMED_OUT, "000")
    # ...while the host itself is up: the drop is the firewall's, not a dead server.
    assert outsider.run("getent hosts ai-server").rc == 0


def test_firewall_rules_are_in_docker_user(ai_server):
    rules = ai_server.check_output("iptables -S DOCKER-USER")
    assert "--ctorigdstport 11434" in rules
    chain = ai_server.check_output("iptables -S TRADIA-AI")
    assert chain.strip().endswith("-j DROP")


def test_official_ollama_client_lists_and_streams(app_client, ca_pem):
    out = run_client(app_client, "official_client_chat.py", ca_pem)
    assert "smollm2:135m" in out["models"]
    assert out["chunks"] > 1, out
    assert out["done"], out
    assert out["done_reason"] == "stop", out
    assert out["eval_count"] > 0, out
    assert out["total_duration"] > 0, out


@pytest.mark.slow
def test_restart_docker_brings_everything_back(ai_server, app_client, ca_pem):
    ai_server.run_expect([0], "systemctl restart docker")
    ai_server.run_expect(
        [0],
        "for i in $(seq 60); do s=$(docker inspect -f '{{.State.Health.Status}}' tradia-ai-traefik"
        ' tradia-ollama | sort -u); [ "$s" = healthy ] && exit 0; sleep 2; done; exit 1',
    )
    assert "--ctorigdstport 11434" in ai_server.check_output("iptables -S DOCKER-USER")
    assert curl(app_client, "/api/tags", "-u", f"api:{API_KEY}", ca_pem=ca_pem) == "200"


@pytest.mark.slow
def test_a_stream_longer_than_90_seconds_is_not_cut(ai_server, app_client, ca_pem):
    # Traefik v3's default readTimeout (60 s) has been seen cutting long streams: one chunk every
    # 5 s for about 95 s must arrive whole, ending with the final chunk.
    set_ai_fault(ai_server, json.dumps({"kind": "slow_tokens", "after": 1, "delay": 5, "count": 1}))
    try:
        out = run_client(app_client, "long_stream.py", ca_pem)
    finally:
        clear_ai_fault(ai_server)
    assert out["seconds"] > 90, out
    assert out["last"]["done"] is True, out
    assert "error" not in out["last"], out
    assert out["chunks"] >= 19, out

"""The whole deployment as its users and its attackers see it: HTTPS on the app server, the app
never published, the AI port closed to everyone but the app server, a real LLM streaming a
translation through both Traefik hops, and a real Chromium on the deployed page."""

import json
import socket
import ssl
import time

import httpx
import pytest
from tradia.api.events import TranslationResult
from tradia.stream_client import iter_events

from conftest import (
    API_KEY,
    ARTIFACTS,
    CURL_TIMED_OUT,
    MODEL,
    USER,
    curl_ai,
    curl_ai_exit,
    set_ai_fault,
)

CURL_COULD_NOT_CONNECT = 7  # curl's exit code for a refused connection (nothing listens)


def _handshake(ip: str, context: ssl.SSLContext, name: str | None = None) -> ssl.SSLSocket:
    raw = socket.create_connection((ip, 443), timeout=10)
    return context.wrap_socket(raw, server_hostname=name or ip)


def test_certificate_chains_to_our_ca(app_ip, ca_file):
    context = ssl.create_default_context(cafile=ca_file)
    for name in ("app-server", app_ip):
        with _handshake(app_ip, context, name) as tls:
            assert tls.version() in ("TLSv1.2", "TLSv1.3")
    # ...and a client without our CA refuses it.
    with pytest.raises(ssl.SSLCertVerificationError):
        _handshake(app_ip, ssl.create_default_context(), "app-server")


def test_tls_below_1_2_is_refused(app_ip):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_ciphers("DEFAULT:@SECLEVEL=0")  # so that the refusal is the server's
    context.minimum_version = ssl.TLSVersion.TLSv1
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    with _handshake(app_ip, context) as tls:
        assert tls.version() == "TLSv1.2"
    context.maximum_version = ssl.TLSVersion.TLSv1_1
    with pytest.raises(ssl.SSLError) as refused:
        _handshake(app_ip, context)
    assert refused.value.reason == "TLSV1_ALERT_PROTOCOL_VERSION"  # the server's alert
    # TLS 1.2 with an old CBC cipher is refused as well: only AEAD suites are offered.
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers("ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:@SECLEVEL=0")
    with pytest.raises(ssl.SSLError):
        _handshake(app_ip, context)


def test_http_redirects_to_https(app_ip):
    response = httpx.get(f"http://{app_ip}/translate?x=1", follow_redirects=False, timeout=10)
    assert response.status_code in (301, 308)
    assert response.headers["location"] == f"https://{app_ip}/translate?x=1"


def test_security_headers(client):
    response = client.get("/")
    assert response.status_code == 200
    headers = response.headers
    assert headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    assert "default-src 'self'" in headers["content-security-policy"]


def test_login_is_required(app_url, client, tls_context):
    assert httpx.get(f"{app_url}/", verify=tls_context, timeout=10).status_code == 401
    wrong = httpx.get(f"{app_url}/", verify=tls_context, auth=("alice", "wrong"), timeout=10)
    assert wrong.status_code == 401
    assert client.get("/api/settings").status_code == 200


def test_metrics_are_not_public(client):
    assert client.get("/metrics").status_code == 403


def test_app_is_ready_through_https(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json()["default_model"] == MODEL


def test_app_container_is_never_published(app_server):
    state = json.loads(app_server.check_output("docker inspect tradia-app"))[0]
    assert not state["HostConfig"]["PortBindings"]
    assert not any(state["NetworkSettings"]["Ports"].values())
    assert list(state["NetworkSettings"]["Networks"]) == ["tradia_app"]
    network = json.loads(app_server.check_output("docker network inspect tradia_app"))[0]
    assert network["Internal"] is True
    assert sorted(c["Name"] for c in network["Containers"].values()) == [
        "tradia-app",
        "tradia-app-traefik",
    ]
    # Nothing on the host listens on the app's port (refused; any other failure proves nothing).
    probe = app_server.run("curl -s --max-time 3 http://localhost:8000/healthz")
    assert probe.rc == CURL_COULD_NOT_CONNECT, (probe.rc, probe.stdout, probe.stderr)


def test_the_key_is_a_private_file_never_in_docker_metadata(app_server):
    key = app_server.file("/etc/tradia/app/secrets/ollama_api_key")
    assert key.mode == 0o600
    assert key.uid == 10001
    for name in ("tradia-app", "tradia-app-traefik"):
        assert API_KEY not in app_server.check_output(f"docker inspect {name}")
    assert API_KEY not in app_server.check_output("ps -eo args")


def test_ai_port_is_open_to_the_app_server_only(ai_server, app_server, outsider):
    ca_pem = ai_server.file("/etc/tradia/ai/tls/ca.crt").content_string
    assert curl_ai(app_server, ca_pem, "-u", f"api:{API_KEY}") == "200"
    assert curl_ai(app_server, ca_pem) == "401"
    # Dropped by the firewall: the connection times out (not refused, not answered)...
    assert curl_ai_exit(outsider, ca_pem, "-u", f"api:{API_KEY}") == (CURL_TIMED_OUT, "000")
    # ...while the name resolves: the drop is the firewall's, not a missing host.
    assert outsider.run("getent hosts ai-server").rc == 0


def test_translation_streams_through_the_whole_chain(client):
    text = "Bonjour à tous. La réunion commence demain à neuf heures."
    with client.stream("POST", "/api/translate", json={"text": text, "target": "en"}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/x-ndjson")
        assert "content-encoding" not in response.headers
        events = list(iter_events(response))
    kinds = [e.type for e in events]
    assert kinds.count("token") > 3, kinds
    assert kinds[-1] == "done", events[-1]
    result = next(e for e in events if isinstance(e, TranslationResult))
    assert result.text.strip()


def test_a_browser_translates_on_the_deployed_page(app_url):
    sync_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"],
        )
        # The certificate chain is checked above; Chromium has no store for our test CA.
        context = browser.new_context(
            ignore_https_errors=True,
            http_credentials={"username": USER[0], "password": USER[1]},
            viewport={"width": 1280, "height": 900},
        )
        page = context.new_page()
        page.set_default_timeout(90000)
        page.goto(app_url)
        page.wait_for_function("() => document.querySelectorAll('#model-select option').length > 0")
        page.fill("#tr-input", "Bonjour, merci pour votre message. Je vous réponds demain.")
        page.select_option("#tr-target", "en")
        page.evaluate(
            """() => { window.__lengths = [];
            new MutationObserver(() => window.__lengths.push(
                document.querySelector('#tr-output').textContent.length))
              .observe(document.querySelector('#tr-output'),
                       {childList: true, subtree: true, characterData: true}); }"""
        )
        page.click("#tr-run")
        page.wait_for_function(
            "() => document.querySelector('#tr-status').textContent.startsWith('Terminé')"
        )
        output = page.text_content("#tr-output")
        lengths = page.evaluate("window.__lengths")
        page.screenshot(path=str(ARTIFACTS / "deployed-translation.png"), full_page=True)
        browser.close()
    assert output.strip()
    assert len({n for n in lengths if 0 < n < len(output)}) >= 2, lengths


@pytest.mark.slow
def test_a_translation_longer_than_60_seconds_is_not_cut(ai_server, client):
    # Traefik v3's default readTimeout (60 s) has been seen cutting long streams: with a 5 s
    # pause before every token on the AI server, the answer must still arrive whole through
    # both hops (app server 443 -> its AI entrypoint -> AI server 11434).
    set_ai_fault(ai_server, '{"kind": "slow_tokens", "after": 1, "delay": 5, "count": 1}')
    start = time.monotonic()
    text = "Merci pour votre message. Nous vous répondrons dans les meilleurs délais possibles."
    with client.stream("POST", "/api/translate", json={"text": text, "target": "en"}) as response:
        events = list(iter_events(response))
    seconds = time.monotonic() - start
    assert seconds > 60, (seconds, events[-1])
    assert events[-1].type == "done", events[-1]

"""The AI server's firewall with real packets: Ollama (no auth) is reached through Traefik only,
not from a shell on the AI host nor from a host that routes to the container subnet; and a
broken source entry closes port 11434 instead of opening it.

These tests leave the firewall as the role set it (each restores what it changes)."""

import json

import pytest

from conftest import API_KEY, curl_ai, curl_ai_locally

NETWORK = "tradia_ai"
REFUSED = 7  # curl: connection refused (the firewall's TCP reset)
DIRECT = "curl -s -o /dev/null -w '%%{http_code}' --max-time 5 http://%s:%s/api/tags"


@pytest.fixture(scope="module")
def ca_pem(ai_server) -> str:
    return ai_server.file("/etc/tradia/ai/tls/ca.crt").content_string


def _address(ai_server, container: str) -> str:
    info = json.loads(ai_server.check_output("docker inspect %s", container))[0]
    return info["NetworkSettings"]["Networks"][NETWORK]["IPAddress"]


@pytest.fixture
def ollama(ai_server) -> tuple[str, str]:
    """Ollama's address and port in its network, as the role set them (OLLAMA_HOST), checked to
    answer there: a refusal below is the firewall's, not a server that is not listening."""
    info = json.loads(ai_server.check_output("docker inspect tradia-ollama"))[0]
    env = dict(item.split("=", 1) for item in info["Config"]["Env"])
    port = env["OLLAMA_HOST"].rsplit(":", 1)[1]
    address = _address(ai_server, "tradia-ollama")
    ai_server.run_expect(
        [0], "docker exec -e OLLAMA_HOST=%s:%s tradia-ollama ollama list", address, port
    )
    return address, port


def test_a_shell_on_the_ai_host_cannot_reach_ollama(ai_server, app_server, ollama, ca_pem):
    address, port = ollama
    for user in ("root", "nobody"):
        direct = ai_server.run("runuser -u %s -- " + DIRECT, user, address, port)
        assert direct.rc == REFUSED, (
            f"{user} on the AI host reached Ollama at {address}:{port} without a key: curl exit"
            f" {direct.rc}, HTTP {direct.stdout}"
        )
    # Traefik is still the way in: from the app server, and from the host with its own client
    # (the role's models; the app servers' key is not valid from there).
    assert curl_ai(app_server, ca_pem, "-u", f"api:{API_KEY}") == "200"
    assert curl_ai_locally(ai_server, "/api/tags") == (0, "200")


def test_a_restarted_ollama_is_still_out_of_reach(ai_server, app_server, ca_pem):
    # The rules name the bridge and the port, not Ollama's address, which may change.
    ai_server.run_expect([0], "docker restart tradia-ollama")
    ai_server.run_expect(
        [0],
        "for i in $(seq 60); do [ \"$(docker inspect -f '{{.State.Health.Status}}'"
        ' tradia-ollama)" = healthy ] && exit 0; sleep 2; done; exit 1',
    )
    info = json.loads(ai_server.check_output("docker inspect tradia-ollama"))[0]
    port = dict(e.split("=", 1) for e in info["Config"]["Env"])["OLLAMA_HOST"].rsplit(":", 1)[1]
    direct = ai_server.run(DIRECT, _address(ai_server, "tradia-ollama"), port)
    assert direct.rc == REFUSED, direct
    assert curl_ai(app_server, ca_pem, "--retry", "5", "-u", f"api:{API_KEY}") == "200"


@pytest.fixture
def route_to_containers(ai_server, outsider):
    """The outsider routes the AI host's container subnet via the AI host, as a LAN host or a
    router could; removed afterwards."""
    subnet = ai_server.check_output(
        "docker network inspect -f '{{(index .IPAM.Config 0).Subnet}}' %s", NETWORK
    )
    gateway = ai_server.check_output("ip -4 -o addr show dev eth0").split()[3].split("/")[0]
    # The AI host forwards (Docker turned it on): what stops the outsider is the firewall.
    assert ai_server.check_output("cat /proc/sys/net/ipv4/ip_forward") == "1"
    outsider.run_expect([0], "ip route replace %s via %s", subnet, gateway)
    yield
    outsider.run_expect([0], "ip route del %s", subnet)


@pytest.mark.usefixtures("route_to_containers")
def test_the_outsider_cannot_reach_ollama_or_traefik_by_their_container_addresses(
    ai_server, outsider, ollama
):
    address, port = ollama
    direct = outsider.run(DIRECT, address, port)
    assert direct.rc == REFUSED, f"the outsider reached Ollama: exit {direct.rc}, {direct.stdout}"
    # Traefik's own address skips the published port's allow-list: refused as well.
    traefik = _address(ai_server, "tradia-ai-traefik")
    direct = outsider.run(
        "curl -sk -o /dev/null -w '%%{http_code}' --max-time 5 https://%s:11434/api/tags", traefik
    )
    assert direct.rc == REFUSED, f"the outsider reached Traefik: exit {direct.rc}, {direct.stdout}"


def test_a_broken_source_closes_the_port_instead_of_opening_it(
    ai_server, app_server, outsider, ca_pem
):
    # The installed script with one bad entry added to its sources, run over working rules.
    ai_server.run_expect(
        [0],
        "sed 's/^\\( *for source in \\)/\\110.0.0.300 /' /usr/local/sbin/tradia-ai-firewall"
        " > /tmp/tradia-ai-firewall-broken && grep -q '10.0.0.300' /tmp/tradia-ai-firewall-broken",
    )
    try:
        broken = ai_server.run("sh /tmp/tradia-ai-firewall-broken")
        assert broken.rc != 0, "a broken source must fail the unit"
        assert curl_ai(outsider, ca_pem, "-u", f"api:{API_KEY}") == "000"
        # Closed to everyone, the app servers included, until the sources are fixed.
        assert curl_ai(app_server, ca_pem, "-u", f"api:{API_KEY}") == "000"
    finally:
        ai_server.run_expect([0], "systemctl restart tradia-ai-firewall.service")
        ai_server.run("rm -f /tmp/tradia-ai-firewall-broken")
    assert curl_ai(app_server, ca_pem, "--retry", "5", "-u", f"api:{API_KEY}") == "200"
    assert curl_ai(outsider, ca_pem, "-u", f"api:{API_KEY}") == "000"

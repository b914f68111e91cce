"""Ports over IPv6, with real packets on the dual-stack lab network (molecule.yml gives it an
IPv6 subnet and the hosts IPv6). Published the default way, a port goes through Docker's userland
proxy over IPv6, which hides the client's address from Traefik (allow-list and rate limits blind)
and crosses none of the IPv4 DOCKER-USER rules: `docker run -p` on these hosts does listen on
[::]. So 11434 is published on IPv4 only and guarded in ip6tables too (the app servers' global
IPv6 addresses, from their facts, then DROP). The app server serves users over IPv6 through
Docker's ip6tables NAT (app_server_ipv6: auto, the host has an IPv6 default route): Traefik sees
each user's own address."""

import json

import pytest

from conftest import API_KEY, CURL_REFUSED, CURL_TIMED_OUT, USER, curl_ai_exit, curl_burst

PORT = 11434


def _ipv6(host) -> str:
    """The host's global IPv6 address on the lab network (eth0)."""
    line = host.check_output("ip -6 -o addr show dev eth0 scope global")
    assert line, "the lab network has no IPv6: molecule.yml's docker_networks"
    return line.split()[3].split("/")[0]


@pytest.fixture(scope="module")
def ca_pem(ai_server) -> str:
    return ai_server.file("/etc/tradia/ai/tls/ca.crt").content_string


@pytest.fixture(scope="module")
def ai_ipv6(ai_server) -> str:
    return _ipv6(ai_server)


def curl_ai_over_ipv6(host, ca_pem: str, ai_ipv6: str) -> tuple[int, str]:
    """(curl exit, HTTP status) of GET /api/tags with the key, sent to the AI server's IPv6
    address (the certificate still checked against its name)."""
    return curl_ai_exit(
        host, ca_pem, "--connect-to", f"ai-server:{PORT}:[{ai_ipv6}]:{PORT}", "-u", f"api:{API_KEY}"
    )


def _listeners(host, port: int) -> set[str]:
    lines = host.check_output("ss -Hltn 'sport = :%s'", str(port)).splitlines()
    return {line.split()[3] for line in lines if line.strip()}


def test_docker_would_listen_on_ipv6_here(ai_server):
    # The premise: on these hosts a port published without an address listens on [::] too, so
    # the absence below is the roles' choice, not a host without IPv6.
    probe = "tradia-ipv6-probe"
    ai_server.run_expect(
        [0],
        "docker run -d --rm --name %s -p 11999:11999 tradia/traefik:3.7.15"
        " --entrypoints.probe.address=:11999",
        probe,
    )
    try:
        listeners = _listeners(ai_server, 11999)
    finally:
        ai_server.run("docker rm -f %s", probe)
    assert listeners & {"[::]:11999", "*:11999"}, listeners


def test_the_ai_port_is_published_on_ipv4_only(ai_server):
    assert _listeners(ai_server, PORT) == {f"0.0.0.0:{PORT}"}


@pytest.mark.parametrize("port", [443, 80])
def test_the_app_ports_are_published_on_both_families(app_server, port):
    assert _listeners(app_server, port) == {f"0.0.0.0:{port}", f"[::]:{port}"}


def test_ipv6_users_are_nated_by_docker_not_proxied(app_server):
    # Docker's ip6tables NAT sends IPv6 users straight to Traefik's container; without it they
    # would reach the userland proxy listening on [::]:443 and arrive from the bridge.
    daemon = json.loads(app_server.file("/etc/docker/daemon.json").content_string)
    assert daemon.get("ip6tables") is True, daemon
    assert app_server.sysctl("net.ipv6.conf.all.forwarding") == 1
    nat = app_server.check_output("ip6tables -t nat -S DOCKER")
    assert "--dport 443 -j DNAT" in nat, nat


def _curl_app_over_ipv6(host, ca_pem: str, app_ipv6: str, count: int) -> list[str]:
    """The HTTP statuses of `count` logged-in GET /api/settings sent at once from `host` to the
    app server's IPv6 address (the certificate checked against that address)."""
    host.run_expect([0], "mkdir -p /tmp/tradia && printf '%%s' %s > /tmp/tradia/app-ca.crt", ca_pem)
    return curl_burst(
        host,
        f"https://[{app_ipv6}]/api/settings",
        count,
        "--cacert",
        "/tmp/tradia/app-ca.crt",
        "-u",
        f"{USER[0]}:{USER[1]}",
    )


@pytest.fixture(scope="module")
def app_ca_pem(app_server) -> str:
    return app_server.file("/etc/tradia/app/tls/ca.crt").content_string


def test_a_user_over_ipv6_is_served_and_seen_with_their_own_address(
    outsider, app_server, app_ca_pem
):
    app_ipv6, outsider_ipv6 = _ipv6(app_server), _ipv6(outsider)
    since = app_server.check_output("date -u +%s", "%Y-%m-%dT%H:%M:%S")
    assert _curl_app_over_ipv6(outsider, app_ca_pem, app_ipv6, 1) == ["200"]
    log = app_server.check_output("docker logs --since %s tradia-app-traefik 2>&1", since)
    clients = {
        entry["ClientHost"]
        for entry in (json.loads(line) for line in log.splitlines() if line.startswith("{"))
        if entry.get("RequestPath") == "/api/settings"
    }
    assert clients == {outsider_ipv6}, clients


def test_ipv6_users_have_their_own_rate_limit_bucket(outsider, ai_server, app_server, app_ca_pem):
    # The outsider empties its bucket (burst 100 at 20/s); another IPv6 host is still served at
    # once. Through the userland proxy both would share the bridge's bucket.
    app_ipv6 = _ipv6(app_server)
    statuses = _curl_app_over_ipv6(outsider, app_ca_pem, app_ipv6, 300)
    assert statuses.count("429") > 0, sorted(set(statuses))
    assert _curl_app_over_ipv6(ai_server, app_ca_pem, app_ipv6, 1) == ["200"]


def test_the_outsider_gets_no_connection_over_ipv6(outsider, ca_pem, ai_ipv6):
    # Dropped by ip6tables before anything could answer: a timeout, not a refusal.
    code, status = curl_ai_over_ipv6(outsider, ca_pem, ai_ipv6)
    assert (code, status) == (CURL_TIMED_OUT, "000"), (
        f"the outsider reached 11434 at [{ai_ipv6}]: curl exit {code}, HTTP {status}"
    )


def test_the_app_server_gets_in_over_ipv4_and_is_let_through_ipv6(app_server, ca_pem, ai_ipv6):
    assert curl_ai_exit(app_server, ca_pem, "-4", "-u", f"api:{API_KEY}") == (0, "200")
    # Over IPv6 its packets pass the allow-list and find nothing listening: refused at once.
    assert curl_ai_over_ipv6(app_server, ca_pem, ai_ipv6) == (CURL_REFUSED, "000")


def test_the_ipv6_allow_list_holds_the_app_servers_address(ai_server, app_server):
    # What an administrator reads (README: troubleshooting): the app server's own address, then
    # the DROP; both of Docker's IPv6 paths jump to it first.
    app_ipv6 = _ipv6(app_server)
    chain = ai_server.check_output("ip6tables -S TRADIA-AI").splitlines()
    assert f"-A TRADIA-AI -s {app_ipv6}/128 -j RETURN" in chain, chain
    assert chain[-1] == "-A TRADIA-AI -j DROP", chain
    for parent in ("INPUT", "DOCKER-USER"):
        first = ai_server.check_output("ip6tables -S %s", parent).splitlines()[1]
        assert first.endswith("-j TRADIA-AI"), f"{parent}: {first}"

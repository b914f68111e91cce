"""Ports over IPv6, with real packets on the dual-stack lab network (molecule.yml gives it an
IPv6 subnet and the hosts IPv6). Published over IPv6, a port goes through Docker's userland
proxy, which hides the client's address from Traefik (allow-list and rate limits blind) and
crosses none of the IPv4 DOCKER-USER rules: `docker run -p` on these hosts does listen on [::]
(the outsider then reached Traefik over IPv6 while IPv4 was closed to it). The roles publish
11434, 80 and 443 on IPv4 only, and guard 11434 in ip6tables too (the app servers' global IPv6
addresses, from their facts, then DROP)."""

import pytest

from conftest import API_KEY, CURL_TIMED_OUT, curl_ai_exit

CURL_REFUSED = 7

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


@pytest.mark.parametrize(
    ("host_fixture", "port"), [("ai_server", PORT), ("app_server", 443), ("app_server", 80)]
)
def test_ports_are_published_on_ipv4_only(request, host_fixture, port):
    assert _listeners(request.getfixturevalue(host_fixture), port) == {f"0.0.0.0:{port}"}


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

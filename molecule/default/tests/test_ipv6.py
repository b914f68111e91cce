"""Port 11434 over IPv6, with real packets on the dual-stack lab network (molecule.yml gives it
an IPv6 subnet). Wherever the host has IPv6, Docker's userland proxy listens on [::]:11434 as
well, and those connections never cross the IPv4 DOCKER-USER chain: without ip6tables rules the
outsider reached Traefik over IPv6 while IPv4 was closed to it. The app server, whose global
IPv6 address the role collects with its facts, still gets in over both families."""

import pytest

from conftest import API_KEY, CURL_TIMED_OUT, curl_ai_exit

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


def test_docker_listens_on_ipv6_so_the_path_exists(ai_server):
    # The premise of the tests below: without a listener on [::], a refused connection would
    # prove nothing about the firewall.
    listeners = ai_server.check_output("ss -Hltn 'sport = :%s'", str(PORT)).splitlines()
    local = {line.split()[3] for line in listeners if line.strip()}
    assert local & {f"[::]:{PORT}", f"*:{PORT}"}, f"nothing listens on [::]:{PORT}: {local}"


def test_the_outsider_gets_no_connection_over_ipv6(outsider, ca_pem, ai_ipv6):
    code, status = curl_ai_over_ipv6(outsider, ca_pem, ai_ipv6)
    assert (code, status) == (CURL_TIMED_OUT, "000"), (
        f"the outsider reached 11434 at [{ai_ipv6}]: curl exit {code}, HTTP {status}"
    )


def test_the_app_server_gets_in_over_ipv6_and_ipv4(app_server, ca_pem, ai_ipv6):
    assert curl_ai_over_ipv6(app_server, ca_pem, ai_ipv6) == (0, "200")
    assert curl_ai_exit(app_server, ca_pem, "-4", "-u", f"api:{API_KEY}") == (0, "200")


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

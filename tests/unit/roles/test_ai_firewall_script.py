"""The AI server's firewall script, rendered by Ansible from the role's template and run in a
throwaway network namespace (its own, empty iptables): what it leaves behind must never be an
open path to port 11434 (over IPv4 or IPv6) or to Ollama, whatever the inventory gave it.

Needs root and `unshare -n` (CI runs as root); `docker` is replaced by a script that names the
bridge, since only the rules are under test (molecule/default/tests/test_firewall.py sends real
packets)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[3]
TEMPLATE = ROOT / "roles" / "ai_server" / "templates" / "tradia-ai-firewall.sh.j2"
PORT = 11434
OLLAMA_PORT = 11435
BRIDGE = "br-0123456789ab"
APP_SERVER = "10.0.0.5"
APP_SERVER6 = "fd00:5::5"

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0
    or not shutil.which("unshare")
    or not shutil.which("iptables-restore")
    or not shutil.which("ip6tables-restore")
    or not Path("/proc/net/if_inet6").exists(),
    reason="needs root, unshare, iptables and ip6tables (a network namespace of its own)",
)


BROKEN = {
    "out-of-range": "10.0.0.300",  # iptables refuses it
    "bad-prefix": "10.0.0.0/33",
    "smuggled-option": "10.0.0.6 -j ACCEPT",
    "host-name": "app-server.invalid",  # iptables would resolve it at boot, when DNS may be down
    "ipv6-not-hex": "fd00::zz",
    "ipv6-two-gaps": "fd00::1::2",  # ip6tables refuses it
    "ipv6-bad-prefix": "fd00::/129",
    "ipv6-smuggled-option": "fd00::6 -j ACCEPT",
}
SOURCES = {
    "app": [APP_SERVER],
    "app-and-subnet": [APP_SERVER, "10.1.0.0/24"],
    "old": ["10.9.9.9", "fd00:9::9"],
    "dual-stack": [APP_SERVER, APP_SERVER6, "fd00:1::/64"],
    "broken-first": ["10.0.0.300", APP_SERVER],
    **{f"broken-{name}": [APP_SERVER, source] for name, source in BROKEN.items()},
}


@pytest.fixture(scope="module")
def scripts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The script as the role writes it, for each list of firewall sources (one Ansible run)."""
    directory = tmp_path_factory.mktemp("firewall")
    variables = {
        "ai_server_port": PORT,
        "ai_server_ollama_port": OLLAMA_PORT,
        "ai_server_docker_network": "tradia_ai",
        "firewall_cases": [{"name": n, "sources": s} for n, s in SOURCES.items()],
    }
    task = {
        "ansible.builtin.template": {
            "src": str(TEMPLATE),
            "dest": f"{directory}/{{{{ item.name }}}}.sh",
            "mode": "0755",
        },
        "vars": {"__ai_server_firewall_sources": "{{ item.sources }}"},
        "loop": "{{ firewall_cases }}",
    }
    playbook = directory / "render.yml"
    playbook.write_text(
        json.dumps([{"hosts": "localhost", "gather_facts": False, "tasks": [task]}])
    )
    extra = directory / "vars.json"
    extra.write_text(json.dumps(variables))
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
    command = [
        str(Path(sys.executable).parent / "ansible-playbook"),
        "-i", "localhost,", "-c", "local",
        "-e", f"ansible_python_interpreter={sys.executable}",
        "-e", f"@{extra}", str(playbook),
    ]  # fmt: skip
    run = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    return {name: directory / f"{name}.sh" for name in SOURCES}


@pytest.fixture
def fake_docker(tmp_path: Path) -> Path:
    """A `docker` that knows one network, as `docker network inspect --format` prints it."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    docker = bin_dir / "docker"
    docker.write_text(
        '#!/bin/sh\n[ "$1 $2" = "network inspect" ] || exit 1\n'
        f'for last; do :; done; [ "$last" = tradia_ai ] && echo {BRIDGE} || exit 1\n'
    )
    docker.chmod(0o755)
    return bin_dir


def run_in_namespace(
    fake_docker: Path, *scripts: Path, before: str = ""
) -> tuple[list[int], str, str]:
    """Runs `before` (shell) then each script in turn in one fresh network namespace: their exit
    codes and the final filter tables (iptables-save, ip6tables-save)."""
    steps = [before] + [f'sh {s} >&2; echo "rc=$?"' for s in scripts]
    shell = f'export PATH={fake_docker}:"$PATH"; ' + "; ".join(s for s in steps if s)
    shell += "; echo ---; iptables-save -t filter; echo ---; ip6tables-save -t filter"
    run = subprocess.run(
        ["unshare", "-n", "sh", "-c", shell], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    head, ruleset, ruleset6 = run.stdout.split("---\n", 2)
    codes = [int(line.removeprefix("rc=")) for line in head.split() if line.startswith("rc=")]
    return codes, ruleset, ruleset6


def rules_of(ruleset: str, chain: str) -> list[str]:
    return [
        line.removeprefix(f"-A {chain} ")
        for line in ruleset.splitlines()
        if line.startswith(f"-A {chain} ")
    ]


def assert_port_guarded(ruleset: str, allowed: set[str]) -> None:
    """New connections DNATed from 11434 jump to TRADIA-AI first, and TRADIA-AI lets through
    established ones and `allowed` sources only, then drops."""
    docker_user = rules_of(ruleset, "DOCKER-USER")
    jumps = [r for r in docker_user if r.endswith("-j TRADIA-AI")]
    assert len(jumps) == 1, f"one jump to TRADIA-AI expected in DOCKER-USER:\n{ruleset}"
    assert f"--ctorigdstport {PORT}" in jumps[0]
    assert docker_user.index(jumps[0]) < 2, f"the jump is not first:\n{ruleset}"
    chain = rules_of(ruleset, "TRADIA-AI")
    assert chain, f"no TRADIA-AI chain:\n{ruleset}"
    assert chain[-1] == "-j DROP", f"TRADIA-AI does not end with a DROP:\n{ruleset}"
    assert chain[0] == "-m conntrack --ctstate RELATED,ESTABLISHED -j RETURN"
    sources = [r.split() for r in chain[1:-1]]
    assert all(len(r) == 4 and r[0] == "-s" and r[2:] == ["-j", "RETURN"] for r in sources), chain
    returned = {r[1].removesuffix("/32") for r in sources}
    assert returned == allowed, f"TRADIA-AI lets in {returned}, not {allowed}"


def assert_ipv6_guarded(ruleset6: str, allowed: set[str]) -> None:
    """Over IPv6, 11434 meets the same allow-list (IPv6 sources) on both of Docker's paths: the
    userland proxy listening on [::] (INPUT: a local socket, no DNAT, no DOCKER-USER of IPv4)
    and ip6tables' DNAT where Docker has it (DOCKER-USER). The host's own connections (lo) pass,
    as they reach the port over IPv4."""
    for parent, jump in (
        ("INPUT", f"-p tcp -m tcp --dport {PORT} -j TRADIA-AI"),
        (
            "DOCKER-USER",
            f"-p tcp -m conntrack --ctstate DNAT --ctorigdstport {PORT} --ctdir ORIGINAL"
            " -j TRADIA-AI",
        ),
    ):
        rules = rules_of(ruleset6, parent)
        jumps = [r for r in rules if r.endswith("-j TRADIA-AI")]
        assert jumps == [jump], f"one IPv6 jump to TRADIA-AI expected in {parent}:\n{ruleset6}"
        assert rules[0] == jump, f"the IPv6 jump is not first in {parent}:\n{ruleset6}"
    chain = rules_of(ruleset6, "TRADIA-AI")
    assert chain, f"no IPv6 TRADIA-AI chain:\n{ruleset6}"
    assert chain[-1] == "-j DROP", f"IPv6 TRADIA-AI does not end with a DROP:\n{ruleset6}"
    assert chain[:2] == [
        "-m conntrack --ctstate RELATED,ESTABLISHED -j RETURN",
        "-i lo -j RETURN",
    ], ruleset6
    sources = [r.split() for r in chain[2:-1]]
    assert all(len(r) == 4 and r[0] == "-s" and r[2:] == ["-j", "RETURN"] for r in sources), chain
    returned = {r[1].removesuffix("/128") for r in sources}
    assert returned == allowed, f"IPv6 TRADIA-AI lets in {returned}, not {allowed}"


def assert_ollama_guarded(ruleset: str) -> None:
    """Ollama's network: from the host, nothing to Ollama's port (OUTPUT); from elsewhere, no new
    connection into its bridge but the published port's DNAT (DOCKER-USER); refused, not
    dropped, so that a user sees why at once."""
    to_ollama = f"-o {BRIDGE} -p tcp -m tcp --dport {OLLAMA_PORT} -j TRADIA-AI-OLLAMA"
    assert rules_of(ruleset, "OUTPUT") == [to_ollama], ruleset
    forwarded = [r for r in rules_of(ruleset, "DOCKER-USER") if r.endswith("TRADIA-AI-OLLAMA")]
    assert forwarded == [
        f"! -i {BRIDGE} -o {BRIDGE} -m conntrack --ctstate NEW -m conntrack ! --ctstate DNAT"
        " -j TRADIA-AI-OLLAMA"
    ], ruleset
    assert rules_of(ruleset, "TRADIA-AI-OLLAMA") == [
        "-p tcp -j REJECT --reject-with tcp-reset",
        "-j REJECT --reject-with icmp-admin-prohibited",
    ], ruleset


def test_the_app_servers_get_in_and_nothing_else(scripts, fake_docker):
    codes, ruleset, ruleset6 = run_in_namespace(fake_docker, scripts["app-and-subnet"])
    assert codes == [0], ruleset
    assert_port_guarded(ruleset, {APP_SERVER, "10.1.0.0/24"})
    assert_ollama_guarded(ruleset)
    # IPv4 sources only: over IPv6 nobody but the host itself.
    assert_ipv6_guarded(ruleset6, set())


def test_dual_stack_app_servers_get_in_over_both_families(scripts, fake_docker):
    # Each family's chain holds its own sources only.
    codes, ruleset, ruleset6 = run_in_namespace(fake_docker, scripts["dual-stack"])
    assert codes == [0], ruleset6
    assert_port_guarded(ruleset, {APP_SERVER})
    assert_ipv6_guarded(ruleset6, {APP_SERVER6, "fd00:1::/64"})
    assert_ollama_guarded(ruleset)


def test_a_rerun_replaces_the_rules_without_duplicates(scripts, fake_docker):
    # Docker restarts re-run the script: one jump each, the new sources only.
    codes, ruleset, ruleset6 = run_in_namespace(
        fake_docker, scripts["old"], scripts["dual-stack"], scripts["dual-stack"]
    )
    assert codes == [0, 0, 0], ruleset
    assert_port_guarded(ruleset, {APP_SERVER})
    assert_ipv6_guarded(ruleset6, {APP_SERVER6, "fd00:1::/64"})
    assert_ollama_guarded(ruleset)


@pytest.mark.parametrize("broken", sorted(BROKEN))
def test_a_broken_source_on_a_running_host_closes_the_port(scripts, fake_docker, broken):
    # A changed inventory re-runs the script over working rules: the old script flushed the
    # chain, failed on the bad entry and left the jump in place with no DROP behind it.
    codes, ruleset, ruleset6 = run_in_namespace(
        fake_docker, scripts["dual-stack"], scripts[f"broken-{broken}"]
    )
    assert codes[0] == 0, ruleset
    assert codes[1] != 0, "a broken source must fail the unit, so that someone looks"
    # Both families closed, whichever family the broken entry looked like.
    assert_port_guarded(ruleset, set())
    assert_ipv6_guarded(ruleset6, set())
    assert_ollama_guarded(ruleset)


def test_a_broken_source_at_boot_closes_the_port(scripts, fake_docker):
    # At boot the chain is new: failing before the jump left 11434 open to everyone.
    codes, ruleset, ruleset6 = run_in_namespace(fake_docker, scripts["broken-first"])
    assert codes[0] != 0, ruleset
    assert_port_guarded(ruleset, set())
    assert_ipv6_guarded(ruleset6, set())
    assert_ollama_guarded(ruleset)


def test_other_rules_in_docker_user_and_output_are_kept(scripts, fake_docker):
    # The administrator's own rules stay; ours come first.
    before = (
        "iptables -N DOCKER-USER && iptables -A DOCKER-USER -s 192.0.2.1 -j DROP"
        " && iptables -A DOCKER-USER -j RETURN && iptables -A OUTPUT -d 192.0.2.2 -j DROP"
        " && ip6tables -A INPUT -s 2001:db8::1 -j DROP"
    )
    codes, ruleset, ruleset6 = run_in_namespace(fake_docker, scripts["app"], before=before)
    assert codes == [0], ruleset
    assert rules_of(ruleset, "DOCKER-USER")[-2:] == ["-s 192.0.2.1/32 -j DROP", "-j RETURN"]
    assert rules_of(ruleset, "OUTPUT")[-1] == "-d 192.0.2.2/32 -j DROP"
    assert rules_of(ruleset6, "INPUT")[-1] == "-s 2001:db8::1/128 -j DROP"
    assert_port_guarded(ruleset, {APP_SERVER})
    assert_ipv6_guarded(ruleset6, set())


def test_without_ollamas_network_the_port_stays_guarded_and_the_unit_fails(scripts, tmp_path):
    # No network to name (docker down or the network removed): 11434 is still filtered, and the
    # unit fails rather than pretend Ollama is guarded.
    no_docker = tmp_path / "nobin"
    no_docker.mkdir()
    (no_docker / "docker").write_text("#!/bin/sh\nexit 1\n")
    (no_docker / "docker").chmod(0o755)
    codes, ruleset, ruleset6 = run_in_namespace(no_docker, scripts["app"])
    assert codes[0] != 0, ruleset
    assert_port_guarded(ruleset, {APP_SERVER})
    assert_ipv6_guarded(ruleset6, set())

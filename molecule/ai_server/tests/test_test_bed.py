"""The test bed itself, checked where the roles run on it (this scenario once had its own): every
host is a systemd "server", as the roles expect real hosts to be, and the inner Docker engine
stays off the outer engine's networks."""

import pytest

from conftest import host


@pytest.mark.parametrize("name", ["ai-server", "app-client", "outsider"])
def test_systemd_is_running(name):
    lab_host = host(name)
    state = lab_host.run("systemctl is-system-running").stdout.strip()
    failed = lab_host.run("systemctl --failed --no-legend --plain").stdout
    assert state == "running", f"{name}: system state {state!r}; failed units:\n{failed}"
    assert lab_host.exists("python3")


def test_inner_docker_stays_off_the_outer_networks(ai_server):
    # daemon.json's bip (.config/molecule/config.yml): not the outer daemon's 172.17.0.0/16.
    bridge = ai_server.interface("docker0").addresses
    assert any(address.startswith("10.213.0.") for address in bridge), bridge

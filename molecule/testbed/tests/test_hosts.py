"""Both test-bed hosts are systemd "servers", as the roles expect real hosts to be."""

from conftest import group

testinfra_hosts = group("all")


def test_systemd_is_running(host):
    state = host.run("systemctl is-system-running").stdout.strip()
    failed = host.run("systemctl --failed --no-legend --plain").stdout
    assert state == "running", f"system state {state!r}; failed units:\n{failed}"


def test_python_for_ansible(host):
    assert host.exists("python3")

"""ai-server runs Docker and the simulator, loaded from an archive, published on 11434."""

from conftest import assert_service_running, docker_inspect, group

testinfra_hosts = group("ai_servers")


def test_dockerd_is_active(host):
    assert_service_running(host, "docker")


def test_inner_docker_stays_off_the_outer_networks(host):
    # daemon.json's bip: the inner bridge must not be the outer daemon's 172.17.0.0/16.
    bridge = host.interface("docker0").addresses
    assert any(address.startswith("10.213.0.") for address in bridge), bridge


def test_simulator_container_runs_with_a_restart_policy(host):
    container = docker_inspect(host, "ollama")
    assert container["State"]["Running"], container["State"]
    assert container["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped"
    assert container["Config"]["Image"] == "tradia/ollama-sim:dev"


def test_simulator_listens_on_11434(host):
    assert host.socket("tcp://0.0.0.0:11434").is_listening

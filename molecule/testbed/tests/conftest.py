"""Helpers shared by the test bed's testinfra tests (verify.yml runs them on the molecule hosts)."""

import json


def group(name: str) -> list[str]:
    """Testinfra host specs for one inventory group (the inventory comes from the command line)."""
    return [f"ansible://{name}"]


def assert_service_running(host, name: str) -> None:
    """Checks a systemd unit is running and enabled; on failure shows its journal."""
    service = host.service(name)
    if not (service.is_running and service.is_enabled):
        journal = host.run(f"journalctl --no-pager -n 40 -u {name}").stdout
        raise AssertionError(f"{name} is not running and enabled; its journal:\n{journal}")


def docker_inspect(host, container: str) -> dict:
    """`docker inspect` of one container on the host, as a dict."""
    result = host.run(f"docker inspect {container}")
    assert result.rc == 0, result.stderr
    return json.loads(result.stdout)[0]

"""The docker CLI as the image tests use it: run, inspect, wait for health, clean up."""

import json
import subprocess
import time


def docker(*args: str, check: bool = True, timeout: int = 600) -> str:
    result = subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and result.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed:\n{result.stderr[-2000:]}")
    return result.stdout.strip()


def inspect(name: str) -> dict:
    return json.loads(docker("inspect", name))[0]


def wait_healthy(name: str, seconds: int = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if inspect(name)["State"].get("Health", {}).get("Status") == "healthy":
            return
        time.sleep(1)
    logs = docker("logs", "--tail", "30", name, check=False)
    raise AssertionError(f"{name} not healthy after {seconds} s; logs:\n{logs}")


def remove(*names: str, network: str | None = None) -> None:
    for name in names:
        docker("rm", "-f", name, check=False)
    if network:
        docker("network", "rm", network, check=False)

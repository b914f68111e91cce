"""The lab of `make demo` (scripts/demo.sh): deploy it, read its timings, reach its servers."""

import json
import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from bench.render import REPO

NETWORK = "tradia-lab"
APP_HOST = "tradia-lab-app"
LOGIN = ("demo", "tradia-demo")
PROFILE = "rtx4090"
_RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)")


@dataclass(frozen=True)
class DemoRun:
    ai_servers: int
    site_seconds: int
    changed: dict[str, int]
    failed: int
    log: str

    @property
    def total_changed(self) -> int:
        return sum(self.changed.values())


def cache() -> Path:
    return Path(os.environ.get("TRADIA_CACHE", Path.home() / ".cache" / "tradia"))


def ai_hosts(count: int) -> list[str]:
    return ["tradia-lab-ai"] + [f"tradia-lab-ai-{i}" for i in range(2, count + 1)]


def parse_demo_output(output: str) -> tuple[int, dict[str, int], int]:
    """(site.yml seconds, changed tasks per host, failed tasks) from scripts/demo.sh's output."""
    took = re.search(r"^demo: site\.yml took (\d+) s$", output, re.MULTILINE)
    changed: dict[str, int] = {}
    failed = 0
    for line in output.splitlines():
        match = _RECAP.match(line)
        if match:
            changed[match.group(1)] = int(match.group(3))
            failed += int(match.group(5)) + int(match.group(4))
    return (int(took.group(1)) if took else -1), changed, failed


def deploy(ai_servers: int, log_dir: Path, label: str) -> DemoRun:
    """scripts/demo.sh with `ai_servers` AI hosts and the scripted rtx4090 simulator."""
    env = dict(
        os.environ,
        TRADIA_LAB_AI_SERVERS=str(ai_servers),
        TRADIA_LAB_SIM_PROFILE=PROFILE,
        ANSIBLE_NOCOLOR="1",
    )
    result = subprocess.run(  # noqa: S603 - our own script
        [str(REPO / "scripts" / "demo.sh")],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    log = log_dir / f"demo-{label}.log"
    log.write_text(result.stdout + result.stderr)
    seconds, changed, failed = parse_demo_output(result.stdout)
    if result.returncode != 0:
        raise RuntimeError(f"scripts/demo.sh failed ({result.returncode}); see {log}")
    return DemoRun(ai_servers, seconds, changed, failed, str(log))


def down() -> None:
    subprocess.run([str(REPO / "scripts" / "demo-down.sh")], cwd=REPO, check=True)  # noqa: S603


def running_shape() -> tuple[int, str] | None:
    """(AI servers, simulator profile) of the running lab, None when there is none."""
    state = cache() / "lab" / "state"
    probe = subprocess.run(  # noqa: S603 - the docker CLI, fixed arguments
        ["docker", "inspect", "-f", "{{.State.Running}}", APP_HOST],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.stdout.strip() != "true" or not (state / "ai-servers").is_file():
        return None
    profile = (state / "sim-profile").read_text().strip()
    return int((state / "ai-servers").read_text()), profile


def app_url() -> str:
    address = subprocess.run(  # noqa: S603 - the docker CLI, fixed arguments
        [  # noqa: S607
            "docker",
            "inspect",
            "-f",
            f'{{{{ (index .NetworkSettings.Networks "{NETWORK}").IPAddress }}}}',
            APP_HOST,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return f"https://{address}"


def ca_cert() -> Path:
    return cache() / "lab" / "pki" / "ca.crt"


# Ollama's port is the one the role put in OLLAMA_HOST (ai_server_ollama_port).
_STATS = (
    "import os, urllib.request;"
    "port = os.environ['OLLAMA_HOST'].rsplit(':', 1)[1];"
    "print(urllib.request.urlopen(f'http://127.0.0.1:{port}/_sim/stats').read().decode())"
)


def sim_stats(host: str) -> dict[str, int]:
    """The simulator's counters on one lab AI server, read inside its Ollama container."""
    output = subprocess.run(  # noqa: S603 - the docker CLI, fixed arguments
        ["docker", "exec", host, "docker", "exec", "tradia-ollama", "python3", "-c", _STATS],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    stats = json.loads(output)
    return {key: int(stats.get(key, 0)) for key in ("completed", "streamed_tokens")}


def wait(seconds: float) -> None:
    time.sleep(seconds)

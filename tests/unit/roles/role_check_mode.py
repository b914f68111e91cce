"""Runs a role in check mode against localhost with given variables, and reads which task failed:
the harness of the validation tables (a bad inventory value must stop the role before any change).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).parents[3]


def validation_tasks(role: str) -> set[str]:
    """The names a failure in `role`'s validate.yml is reported under."""
    tasks = yaml.safe_load((ROOT / "roles" / role / "tasks" / "validate.yml").read_text())
    return {f"{role} : {task['name']}" for task in tasks}


def is_validation(role: str, task: str) -> bool:
    return task in validation_tasks(role) or "Validating arguments against arg spec" in task


def documented_variables(role: str) -> set[str]:
    specs = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())
    return set(specs["argument_specs"]["main"]["options"])


def run_role(role: str, variables: dict, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    playbook = tmp_path / "play.yml"
    playbook.write_text(
        yaml.safe_dump(
            [
                {
                    "hosts": "localhost",
                    "gather_facts": True,
                    "gather_subset": ["!all", "min"],
                    "roles": [{"role": role}],
                }
            ]
        )
    )
    extra = tmp_path / "vars.json"
    extra.write_text(json.dumps(variables))
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_ROLES_PATH": str(ROOT / "roles"),
        "ANSIBLE_LIBRARY": str(ROOT / "library"),
        "ANSIBLE_FILTER_PLUGINS": str(ROOT / "filter_plugins"),
        "ANSIBLE_MODULE_UTILS": str(ROOT / "module_utils"),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
        "ANSIBLE_NOCOLOR": "1",
    }
    command = [
        str(Path(sys.executable).parent / "ansible-playbook"),
        "-i", "localhost,", "-c", "local", "--check",
        "-e", f"ansible_python_interpreter={sys.executable}",
        "-e", f"@{extra}", str(playbook),
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)


def failed_task(result: subprocess.CompletedProcess[str]) -> tuple[str, str]:
    """(task name, message) of the first failure in the json callback's output."""
    report = json.loads(result.stdout)
    for play in report["plays"]:
        for task in play["tasks"]:
            for outcome in task["hosts"].values():
                if outcome.get("failed"):
                    return task["task"]["name"], json.dumps(outcome)
    raise AssertionError(f"nothing failed:\n{result.stdout[-3000:]}")

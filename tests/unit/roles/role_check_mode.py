"""Runs a role in check mode against localhost with given variables, and reads which task failed:
the harness of the validation tables (a bad inventory value must stop the role before any change).
"""

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).parents[3]
# The task Ansible runs first for a role with meta/argument_specs.yml (its name goes on with the
# spec's short description).
ARG_SPEC = "Validating arguments against arg spec 'main'"


def validation_tasks(role: str) -> set[str]:
    """The names a failure in `role`'s validate.yml is reported under."""
    tasks = yaml.safe_load((ROOT / "roles" / role / "tasks" / "validate.yml").read_text())
    return {f"{role} : {task['name']}" for task in tasks}


def is_validation(role: str, task: str) -> bool:
    return task in validation_tasks(role) or task.startswith(f"{role} : {ARG_SPEC}")


def is_check(role: str, task: str, check: str) -> bool:
    """Whether `task` is the check named `check`: ARG_SPEC, or a task name of validate.yml."""
    if check == ARG_SPEC:
        return task.startswith(f"{role} : {ARG_SPEC}")
    assert f"{role} : {check}" in validation_tasks(role), f"no task {check!r} in validate.yml"
    return task == f"{role} : {check}"


def documented_variables(role: str) -> set[str]:
    specs = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())
    return set(specs["argument_specs"]["main"]["options"])


def ansible_env() -> dict[str, str]:
    """The environment of an ansible-playbook run of the tests: the repository's roles and
    modules, and the json callback's report on stdout."""
    return {
        **os.environ,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_ROLES_PATH": str(ROOT / "roles"),
        "ANSIBLE_LIBRARY": str(ROOT / "library"),
        "ANSIBLE_MODULE_UTILS": str(ROOT / "module_utils"),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
        "ANSIBLE_NOCOLOR": "1",
    }


def run_play(
    play: dict,
    variables: dict,
    tmp_path: Path,
    *,
    check: bool,
    timeout: int = 120,
    inventory: str = "localhost,",
) -> subprocess.CompletedProcess[str]:
    """ansible-playbook of one play against localhost (local connection, this virtualenv's
    Python) with the repository's roles and modules, `variables` as extra vars, and the json
    callback's report on stdout."""
    playbook = tmp_path / "play.yml"
    playbook.write_text(yaml.safe_dump([play]))
    extra = tmp_path / "vars.json"
    extra.write_text(json.dumps(variables))
    env = ansible_env()
    command = [
        str(Path(sys.executable).parent / "ansible-playbook"),
        "-i", inventory, "-c", "local", *(["--check"] if check else []),
        "-e", f"ansible_python_interpreter={sys.executable}",
        "-e", f"@{extra}", str(playbook),
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout)


def run_role(role: str, variables: dict, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """The role in check mode: what the validation tables run."""
    play = {
        "hosts": "localhost",
        "gather_facts": True,
        "gather_subset": ["!all", "min"],
        "roles": [{"role": role}],
    }
    return run_play(play, variables, tmp_path, check=True)


def run_cases(role: str, cases: list[dict], tmp_path: Path) -> list["Failure | None"]:
    """The role in check mode once per case, in ONE ansible-playbook run: each case is a host of
    its own (local connection, its variables as host variables, above the role's defaults), so a
    table of a hundred bad values starts Ansible once, not a hundred times. Each case's first
    failed task, or None when it failed nowhere."""
    hosts = {
        f"case{index}": {**variables, "ansible_connection": "local"}
        for index, variables in enumerate(cases)
    }
    inventory = tmp_path / "cases.json"
    inventory.write_text(json.dumps({"all": {"hosts": hosts}}))
    play = {
        "hosts": "all",
        "gather_facts": True,
        "gather_subset": ["!all", "min"],
        "roles": [{"role": role}],
    }
    result = run_play(play, {}, tmp_path, check=True, timeout=900, inventory=str(inventory))
    report = json.loads(result.stdout)
    first: dict[str, Failure] = {}
    for play_report in report["plays"]:
        for task in play_report["tasks"]:
            for host, outcome in task["hosts"].items():
                if outcome.get("failed") and host not in first:
                    first[host] = Failure(task["task"]["name"], _messages(outcome))
    return [first.get(f"case{index}") for index in range(len(cases))]


@dataclass(frozen=True)
class Failure:
    """The first failed task and what it told the user: the assert's message (each failed item's
    for a loop) or argument_specs' errors. Never the whole result: an argument-spec failure also
    lists every option of the role, which would name any variable."""

    task: str
    messages: tuple[str, ...]

    def names(self, variable: str) -> bool:
        # Whole names only: app_server_users must not match app_server_users_bcrypt_cost.
        pattern = re.compile(rf"(?<![A-Za-z0-9_]){re.escape(variable)}(?![A-Za-z0-9_])")
        return any(pattern.search(message) for message in self.messages)

    def __str__(self) -> str:
        return f"{self.task}: " + " | ".join(self.messages)[:800]


def _messages(outcome: dict) -> tuple[str, ...]:
    if "argument_errors" in outcome:
        return tuple(str(error) for error in outcome["argument_errors"])
    if "results" in outcome:  # a loop: the items that failed, not the summary
        return tuple(str(item.get("msg", "")) for item in outcome["results"] if item.get("failed"))
    return (str(outcome.get("msg", "")),)


def task_names(result: subprocess.CompletedProcess[str]) -> list[str]:
    """Every task the run reported, in order."""
    report = json.loads(result.stdout)
    return [task["task"]["name"] for play in report["plays"] for task in play["tasks"]]


def assert_baseline_passes(role: str, result: subprocess.CompletedProcess[str]) -> None:
    """The run got through argument_specs and validate.yml: without this a table could pass
    because its baseline itself is refused."""
    assert any(task.startswith(f"{role} : {ARG_SPEC}") for task in task_names(result)), (
        result.stdout[-3000:] + result.stderr[-2000:]
    )
    if result.returncode != 0:  # check mode on this machine may stop later, never in validation
        failure = failed_task(result)
        assert not is_validation(role, failure.task), str(failure)


def failed_task(result: subprocess.CompletedProcess[str]) -> Failure:
    """The first failure in the json callback's output."""
    report = json.loads(result.stdout)
    for play in report["plays"]:
        for task in play["tasks"]:
            for outcome in task["hosts"].values():
                if outcome.get("failed"):
                    return Failure(task["task"]["name"], _messages(outcome))
    raise AssertionError(f"nothing failed:\n{result.stdout[-3000:]}")

"""The suites `make unit` collects in one pytest run must not share a test module's name.

pytest imports test modules by their base name (rootdir-relative "prepend" import mode), so two
files called test_terminology.py in different folders end the run at collection with "import
file mismatch": the whole unit stage fails, not one test.
"""

from __future__ import annotations

import subprocess
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# The folders of the Makefile's `unit` target (molecule's tests run in their own sessions).
UNIT_SUITES = ("tests", "tools/ollama_sim/tests", "app/tests", "bench/tests")


def test_test_modules_have_unique_names() -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "--", *UNIT_SUITES],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    by_name: dict[str, list[str]] = defaultdict(list)
    for path in tracked:
        name = Path(path).name
        if name.startswith("test_") and name.endswith(".py"):
            by_name[name].append(path)
    clashes = {name: paths for name, paths in by_name.items() if len(paths) > 1}
    assert not clashes, f"test modules sharing a name (rename one): {clashes}"
    assert len(by_name) > 50, sorted(by_name)  # the listing found the suites

"""The root conftest.py's TRADIA_NO_SKIP=1: every kind of skip fails the run, the ones raised
while a conftest.py or a test module is imported included, and nothing changes without it."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT_CONFTEST = Path(__file__).parents[2] / "conftest.py"

SKIPPING = {
    # A directory whose conftest.py cannot import what it needs (app/tests/browser did this).
    "needs_module/conftest.py": 'import pytest\npytest.importorskip("no_such_module_tradia")\n',
    "needs_module/test_inside.py": "def test_inside():\n    pass\n",
    "test_module_skip.py": (
        "import pytest\n"
        'pytest.skip("module off", allow_module_level=True)\n'
        "def test_never():\n    pass\n"
    ),
    "test_test_skip.py": (
        "import pytest\n"
        "@pytest.fixture\ndef prerequisite():\n"
        '    pytest.skip("no prerequisite")\n'
        "def test_fixture_skip(prerequisite):\n    pass\n"
        '@pytest.mark.skipif(True, reason="marked off")\n'
        "def test_marked():\n    pass\n"
        "def test_body_skip():\n"
        '    pytest.skip("body")\n'
        '@pytest.mark.xfail(reason="a known bug", strict=True)\n'
        "def test_expected_failure():\n    assert False\n"
        "def test_runs():\n    pass\n"
    ),
}


def run_pytest(tree: Path, no_skip: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "TRADIA_NO_SKIP"}
    if no_skip is not None:
        env["TRADIA_NO_SKIP"] = no_skip
    env["COLUMNS"] = "300"  # the short summary keeps its reasons whole
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA", str(tree)],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    shutil.copy(ROOT_CONFTEST, tmp_path / "conftest.py")
    (tmp_path / "pyproject.toml").write_text("[tool.pytest.ini_options]\n")
    for name, text in SKIPPING.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


def test_every_skip_fails_in_ci(tree: Path) -> None:
    result = run_pytest(tree, "1")
    out = result.stdout
    assert result.returncode == pytest.ExitCode.INTERRUPTED, out  # collection errors
    assert "ERROR needs_module - collection skipped while TRADIA_NO_SKIP=1" in out, out
    assert "no_such_module_tradia" in out
    assert "ERROR test_module_skip.py - collection skipped while TRADIA_NO_SKIP=1" in out, out
    assert "SKIPPED" not in out, out


def test_test_level_skips_fail_in_ci_and_xfail_stays(tree: Path) -> None:
    # Collection errors stop pytest before any test runs: leave them out to see the tests.
    for name in ("needs_module", "test_module_skip.py"):
        shutil.rmtree(tree / name) if (tree / name).is_dir() else (tree / name).unlink()
    result = run_pytest(tree, "1")
    out = result.stdout
    assert result.returncode == pytest.ExitCode.TESTS_FAILED, out
    assert "ERROR test_test_skip.py::test_fixture_skip - skipped while TRADIA_NO_SKIP=1" in out
    assert "ERROR test_test_skip.py::test_marked - skipped while TRADIA_NO_SKIP=1" in out, out
    assert "FAILED test_test_skip.py::test_body_skip - skipped while TRADIA_NO_SKIP=1" in out
    assert "XFAIL test_test_skip.py::test_expected_failure" in out, out
    assert "PASSED test_test_skip.py::test_runs" in out, out


@pytest.mark.parametrize("no_skip", [None, ""])  # "": the Makefile outside CI
def test_outside_ci_a_skip_is_a_skip(tree: Path, no_skip: str | None) -> None:
    result = run_pytest(tree, no_skip)
    assert result.returncode == pytest.ExitCode.OK, result.stdout
    assert "5 skipped" in result.stdout, result.stdout

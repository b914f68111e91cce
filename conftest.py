"""Repository-wide pytest hooks.

In CI (TRADIA_NO_SKIP=1) a skip is a failure: CI installs every prerequisite (chromium,
playwright, the simulator, the llama backend), so a skip there means a check did not run. The
molecule scenarios' testinfra runs load this file too: their tests live under this directory
and pytest takes the pyproject.toml beside it as their rootdir.
"""

import os

import pytest


def _why(longrepr: object) -> str:
    # A skip's longrepr is (path, line, message); anything else already prints well.
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        path, line, message = longrepr
        return f"{path}:{line}: {message}"
    return str(longrepr)


class NoSkip:
    """Turns skips into failures, the collection-time ones included.

    Registered as a plugin rather than written as this conftest's own hooks: pytest calls a
    directory's collection hooks without any conftest.py until that directory's conftest.py has
    been imported, so a conftest.py that skips while it is imported (`pytest.importorskip`,
    `pytest.skip(allow_module_level=True)`) would never reach a conftest hook.
    """

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self) -> pytest.TestReport:
        report: pytest.TestReport = yield
        if report.skipped and not hasattr(report, "wasxfail"):
            report.outcome = "failed"
            report.longrepr = f"skipped while TRADIA_NO_SKIP=1: {_why(report.longrepr)}"
        return report

    @pytest.hookimpl(wrapper=True)
    def pytest_make_collect_report(self) -> pytest.CollectReport:
        # A module or conftest.py that skips on import drops every test under it without a
        # test report of its own: the collection becomes an error instead.
        report: pytest.CollectReport = yield
        if report.skipped:
            report.outcome = "failed"
            report.longrepr = f"collection skipped while TRADIA_NO_SKIP=1: {_why(report.longrepr)}"
        return report


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("TRADIA_NO_SKIP") == "1":
        config.pluginmanager.register(NoSkip(), "tradia-no-skip")

"""Tests of the roles' own Python plugins (filters and Jinja tests), loaded by path: a role's
plugins are not a package."""

import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).parents[3]


def load_plugin(role: str, kind: str, name: str) -> ModuleType:
    """roles/<role>/<kind>_plugins/<name>.py as a module."""
    path = ROOT / "roles" / role / f"{kind}_plugins" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"{role}_{kind}_{name}", path)
    assert spec is not None, path
    assert spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

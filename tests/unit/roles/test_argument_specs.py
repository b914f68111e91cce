"""Every role documents every default in meta/argument_specs.yml, with the same value."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROLES = sorted(p for p in (Path(__file__).parents[3] / "roles").iterdir() if p.is_dir())


def _load(path: Path) -> dict:
    """The YAML file's mapping; {} for a file a role does not need (an internal role has no
    defaults of its own: its entry points take everything from the role that includes them)."""
    if not path.exists():
        return {}
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_defaults_match_argument_specs(role: Path) -> None:
    defaults = _load(role / "defaults" / "main.yml")
    options = _load(role / "meta" / "argument_specs.yml")["argument_specs"]["main"]["options"]
    undocumented = sorted(set(defaults) - set(options))
    assert not undocumented, f"{role.name}: defaults missing from argument_specs: {undocumented}"
    for name, value in defaults.items():
        spec = options[name]
        assert spec.get("description"), f"{role.name}: {name} has no description"
        assert "default" in spec, f"{role.name}: {name} has a default but argument_specs has none"
        assert spec["default"] == value, f"{role.name}: {name} default differs: {spec['default']!r}"
    no_default = sorted(
        name for name, spec in options.items() if not spec.get("required") and name not in defaults
    )
    assert not no_default, f"{role.name}: optional variables without a default: {no_default}"


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_variables_are_role_prefixed(role: Path) -> None:
    options = _load(role / "meta" / "argument_specs.yml")["argument_specs"]["main"]["options"]
    foreign = [name for name in options if not name.startswith(f"{role.name}_")]
    assert not foreign, f"{role.name}: variables without the role prefix: {foreign}"


def test_variables_reference_is_in_sync() -> None:
    script = Path(__file__).parents[3] / "scripts" / "variables_reference.py"
    result = subprocess.run(
        [sys.executable, str(script), "--check"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr

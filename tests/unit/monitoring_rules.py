"""Renders the monitoring role's rules template with the role's defaults, the way Ansible does for
the deployment, so promtool checks what Prometheus will load."""

import shutil
from pathlib import Path

import jinja2
import yaml

ROOT = Path(__file__).parents[2]
ROLE = ROOT / "roles" / "monitoring"
RULES_TEMPLATE = ROLE / "templates" / "tradia.rules.yml.j2"
RULE_TESTS = ROOT / "tests" / "monitoring" / "rules"
# The rules file name the promtool test files load (rule_files:).
RULES_FILE = "tradia.rules.yml"


def promtool() -> str:
    """promtool from Debian's `prometheus` package (scripts/system-deps.sh installs it)."""
    path = shutil.which("promtool")
    assert path, "promtool not found: apt-get install prometheus (scripts/system-deps.sh)"
    return path


def role_defaults() -> dict:
    return yaml.safe_load((ROLE / "defaults" / "main.yml").read_text(encoding="utf-8"))


def render_rules(overrides: dict | None = None) -> str:
    # The rules use no Ansible filter, so plain Jinja renders them as Ansible's template does;
    # an undefined variable fails here as it would there.
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    template = env.from_string(RULES_TEMPLATE.read_text(encoding="utf-8"))
    return template.render(**{**role_defaults(), **(overrides or {})})


def write_rules(directory: Path, overrides: dict | None = None) -> Path:
    path = directory / RULES_FILE
    path.write_text(render_rules(overrides), encoding="utf-8")
    return path


def rules(overrides: dict | None = None) -> list[dict]:
    """Every rule (recording and alerting) of the rendered file."""
    loaded = yaml.safe_load(render_rules(overrides))
    return [rule for group in loaded["groups"] for rule in group["rules"]]

#!/usr/bin/env python3
"""Writes VARIABLES.md, the reference of every role variable, from roles/*/meta/argument_specs.yml.

Usage: scripts/variables_reference.py [--check]
--check exits 1 when VARIABLES.md is not what the argument specs say (a test runs it)."""

import argparse
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "VARIABLES.md"
# Ansible doc markup: C(x), O(x), V(x), I(x) -> `x`
MARKUP = re.compile(r"\b[COVI]\(([^)]*)\)")


def plain(text: str | list[str]) -> str:
    joined = " ".join(text) if isinstance(text, list) else text
    return MARKUP.sub(r"`\1`", " ".join(joined.split())).replace("|", "\\|")


def default_cell(spec: dict) -> str:
    if spec.get("required"):
        return "**required**"
    if "default" not in spec:
        return ""
    value = yaml.safe_dump(spec["default"], default_flow_style=True, width=10_000).strip()
    value = value.removesuffix("\n...").removesuffix("...").strip()
    return f"`{value}`".replace("|", "\\|")


def type_cell(spec: dict) -> str:
    kind = spec.get("type", "str")
    if kind == "list" and "elements" in spec:
        kind = f"list of {spec['elements']}"
    if "choices" in spec:
        kind += ": " + ", ".join(f"`{c}`" for c in spec["choices"])
    return kind


def render() -> str:
    lines = [
        "# Role variables",
        "",
        "Generated from `roles/*/meta/argument_specs.yml` by `scripts/variables_reference.py`;",
        "a test fails when this file and the specs differ. Each role validates these values before",
        "it changes anything.",
    ]
    for specs_file in sorted(ROOT.glob("roles/*/meta/argument_specs.yml")):
        role = specs_file.parents[1].name
        entry = yaml.safe_load(specs_file.read_text(encoding="utf-8"))["argument_specs"]["main"]
        lines += ["", f"## {role}", "", plain(entry.get("short_description", "")), ""]
        lines += ["| variable | type | default | description |", "|---|---|---|---|"]
        for name, spec in entry.get("options", {}).items():
            row = [f"`{name}`", type_cell(spec), default_cell(spec), plain(spec["description"])]
            lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if VARIABLES.md is stale")
    args = parser.parse_args()
    text = render()
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            print("VARIABLES.md is stale: run scripts/variables_reference.py", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

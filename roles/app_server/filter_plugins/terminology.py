"""The organisation's terminology from the inventory: app_server_glossary (entries),
app_server_glossary_csv (a CSV on the controller, header source,target,term,translation) and
app_server_do_not_translate, merged into the JSON file the app reads (TRADIA_GLOSSARY_FILE).

One definition of the rules: validate.yml fails with `terminology_problems`, config.yml writes
`terminology_document`; both read the CSV the same way.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from ansible.errors import AnsibleFilterError

FIELDS = ("source", "target", "term", "translation")


def _csv_rows(path: str) -> tuple[list[tuple[str, dict[str, Any]]], list[str]]:
    """(("app_server_glossary_csv line N", row), ...) and the problems reading the file."""
    if not path:
        return [], []
    where = f"app_server_glossary_csv {path}"
    try:
        with Path(path).open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [field for field in FIELDS if field not in (reader.fieldnames or [])]
            if missing:
                return [], [
                    f"{where}: the header lacks {', '.join(missing)} (needs {','.join(FIELDS)})"
                ]
            # Line numbers as an editor shows them: the header is line 1.
            return [(f"{where} line {reader.line_num}", dict(row)) for row in reader], []
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        return [], [f"{where}: cannot be read ({error})"]


def _entries(glossary: Any, csv_path: Any) -> tuple[list[tuple[str, dict[str, Any]]], list[str]]:
    if not isinstance(glossary, list):
        return [], ["app_server_glossary must be a list of {source, target, term, translation}"]
    listed = [(f"app_server_glossary[{number}]", entry) for number, entry in enumerate(glossary)]
    from_csv, problems = _csv_rows(str(csv_path or ""))
    return listed + from_csv, problems


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def terminology_problems(
    glossary: Any, csv_path: Any, do_not_translate: Any, languages: list[str]
) -> list[str]:
    """Every problem of the three inputs, each naming the variable and the entry."""
    entries, problems = _entries(glossary, csv_path)
    seen: dict[tuple[str, str, str], str] = {}
    for where, entry in entries:
        if not isinstance(entry, dict):
            problems.append(f"{where}: must be a mapping with {', '.join(FIELDS)}")
            continue
        values = {field: _text(entry.get(field)) for field in FIELDS}
        label = f"{where} ({values['term']!r})" if values["term"] else where
        empty = [field for field in FIELDS if not values[field]]
        if empty:
            problems.append(f"{label}: {', '.join(empty)} must not be empty")
            continue
        unknown = [values[f] for f in ("source", "target") if values[f] not in languages]
        if unknown:
            problems.append(
                f"{label}: unknown language {', '.join(unknown)}; the app offers"
                f" {', '.join(languages)}"
            )
        elif values["source"] == values["target"]:
            problems.append(f"{label}: source and target are both {values['source']}")
        key = (values["source"], values["target"], " ".join(values["term"].casefold().split()))
        if key in seen:
            problems.append(
                f"{label}: the term is already in {seen[key]} for"
                f" {values['source']}->{values['target']}"
            )
        else:
            seen[key] = where
    if not isinstance(do_not_translate, list):
        problems.append("app_server_do_not_translate must be a list of terms")
        return problems
    kept: set[str] = set()
    for number, term in enumerate(do_not_translate):
        text = _text(term)
        if not text:
            problems.append(f"app_server_do_not_translate[{number}]: must be a non-empty string")
        elif text in kept:
            problems.append(f"app_server_do_not_translate[{number}]: {text!r} is listed twice")
        kept.add(text)
    return problems


def terminology_document(glossary: Any, csv_path: Any, do_not_translate: Any) -> dict[str, Any]:
    """The file the app reads: {"glossary": [...], "do_not_translate": [...]}; empty lists when
    the inventory has none (the role then writes no file)."""
    entries, problems = _entries(glossary, csv_path)
    if problems:
        raise AnsibleFilterError("; ".join(problems))
    return {
        "glossary": [{field: _text(entry.get(field)) for field in FIELDS} for _, entry in entries],
        "do_not_translate": [_text(term) for term in do_not_translate or []],
    }


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {
            "terminology_problems": terminology_problems,
            "terminology_document": terminology_document,
        }

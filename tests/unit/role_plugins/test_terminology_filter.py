"""The terminology the role deploys (roles/app_server/filter_plugins/terminology.py): the
inventory's entries and the CSV's merged into the app's file, and every problem named."""

import json
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError
from role_plugin_loader import load_plugin

plugin = load_plugin("app_server", "filter", "terminology")
LANGUAGES = ["fr", "en", "de"]


def _term(**changes: str) -> dict[str, str]:
    return {"source": "fr", "target": "en", "term": "compte rendu", "translation": "minutes"} | (
        changes
    )


def _csv(tmp_path: Path, text: str) -> str:
    path = tmp_path / "glossary.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_the_inventory_and_the_csv_make_one_file(tmp_path: Path):
    csv_path = _csv(
        tmp_path,
        "\ufeffsource,target,term,translation,owner\nfr,de, compte rendu ,Protokoll,legal\n",
    )
    document = plugin.terminology_document([_term()], csv_path, ["Tradia", "GPU"])
    assert document == {
        "glossary": [_term(), _term(target="de", translation="Protokoll")],
        "do_not_translate": ["Tradia", "GPU"],
    }
    # What the app reads (app/tradia/glossary.py's JSON object form).
    assert json.loads(json.dumps(document)) == document
    assert plugin.terminology_problems([_term()], csv_path, ["Tradia"], LANGUAGES) == []


def test_nothing_given_is_an_empty_document():
    assert plugin.terminology_document([], "", []) == {"glossary": [], "do_not_translate": []}


@pytest.mark.parametrize(
    ("glossary", "csv_text", "keep", "problem"),
    [
        (
            [_term(target="xx")],
            None,
            [],
            "app_server_glossary[0] ('compte rendu'): unknown language xx",
        ),
        ([_term(source="en")], None, [], "source and target are both en"),
        (
            [_term(translation="")],
            None,
            [],
            "app_server_glossary[0] ('compte rendu'): translation must",
        ),
        (
            [_term(), _term(term="Compte  Rendu")],
            None,
            [],
            "[1] ('Compte  Rendu'): the term is already in app_server_glossary[0]",
        ),
        (
            [_term()],
            "source,target,term,translation\nfr,en,compte rendu,report\n",
            [],
            "line 2 ('compte rendu'): the term is already in app_server_glossary[0] for fr->en",
        ),
        ([], "source,target,term\nfr,en,x\n", [], "the header lacks translation"),
        ([], "source,target,term,translation\nfr,en,,x\n", [], "line 2: term must not be empty"),
        (["fr,en,a,b"], None, [], "app_server_glossary[0]: must be a mapping"),
        ([], None, ["GPU", "GPU"], "app_server_do_not_translate[1]: 'GPU' is listed twice"),
        ([], None, ["  "], "app_server_do_not_translate[0]: must be a non-empty string"),
    ],
)
def test_each_problem_names_the_variable_and_the_entry(tmp_path, glossary, csv_text, keep, problem):
    csv_path = _csv(tmp_path, csv_text) if csv_text is not None else ""
    problems = plugin.terminology_problems(glossary, csv_path, keep, LANGUAGES)
    assert any(problem in p for p in problems), problems


def test_an_unreadable_csv_is_a_problem_and_stops_the_document(tmp_path: Path):
    missing = str(tmp_path / "nowhere.csv")
    problems = plugin.terminology_problems([], missing, [], LANGUAGES)
    assert len(problems) == 1
    assert problems[0].startswith(f"app_server_glossary_csv {missing}: cannot be read")
    with pytest.raises(AnsibleFilterError, match="cannot be read"):
        plugin.terminology_document([], missing, [])

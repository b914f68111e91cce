"""The organisation's terminology: the file's forms and errors, its reload while streams run,
do-not-translate terms, formality, and the check of the required terms after a generation."""

from __future__ import annotations

import json
import logging
import os
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from tradia.api.events import StartedEvent, TermMissing
from tradia.glossary import (
    Glossary,
    GlossaryEntry,
    GlossaryFile,
    TerminologyError,
    glossary_report,
    missing_terms,
)
from tradia.main import create_app
from tradia.stream_client import iter_events
from tradia.tasks.translation import build_translation_request
from tradia_testkit import make_settings, of_type, running_app, stream_events


def _entry(source: str, target: str, term: str, translation: str) -> dict[str, str]:
    return {"source": source, "target": target, "term": term, "translation": translation}


def _write_json(path: Path, glossary: list[dict[str, str]], keep: list[str] | None = None) -> None:
    """As the role does it: a new file renamed over the old one (a new inode)."""
    new = path.with_suffix(".tmp")
    new.write_text(json.dumps({"glossary": glossary, "do_not_translate": keep or []}), "utf-8")
    os.replace(new, path)


# --- the file ---------------------------------------------------------------------------------


def test_the_three_forms_are_read(tmp_path: Path) -> None:
    csv_file = tmp_path / "g.csv"
    csv_file.write_text(
        "source,target,term,translation,comment\nfr,en,compte rendu,minutes,legal\n", "utf-8"
    )
    old_json = tmp_path / "old.json"
    old_json.write_text(json.dumps([_entry("fr", "en", "compte rendu", "minutes")]), "utf-8")
    new_json = tmp_path / "new.json"
    _write_json(new_json, [_entry("fr", "en", "compte rendu", "minutes")], ["Tradia", "GPU"])
    expected = (
        GlossaryEntry(source="fr", target="en", term="compte rendu", translation="minutes"),
    )
    for path in (csv_file, old_json, new_json):
        assert Glossary.load(path).entries == expected, path
    assert Glossary.load(new_json).do_not_translate == ("Tradia", "GPU")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("source,target,term\nfr,en,x\n", "the CSV header lacks translation"),
        (json.dumps([_entry("fr", "xx", "compte", "account")]), "entry 1 ('compte'): target"),
        (json.dumps([_entry("fr", "en", "a", "b"), _entry("fr", "en", " ", "c")]), "entry 2"),
        (
            json.dumps(
                [_entry("fr", "en", "Compte", "account"), _entry("fr", "en", "compte", "x")]
            ),
            "entry 2 ('compte'): the term is already entry 1 for fr->en",
        ),
        (json.dumps({"glossary": [], "do_not_translate": ["ok", ""]}), "do_not_translate"),
        (json.dumps({"glosary": []}), "unknown keys glosary"),
        ("{not json", "not JSON"),
    ],
    ids=["csv column", "language", "empty term", "duplicate", "empty dnt", "key", "syntax"],
)
def test_a_bad_file_stops_the_start_naming_the_entry(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / ("g.csv" if content.startswith("source") else "g.json")
    path.write_text(content, "utf-8")
    with pytest.raises(TerminologyError, match="glossary file .*" + re.escape(message)):
        create_app(make_settings("http://127.0.0.1:9", TRADIA_GLOSSARY_FILE=str(path)))


# --- reload -----------------------------------------------------------------------------------


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_replaced_file_is_read_again_and_a_bad_one_keeps_the_last_good(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "terminology.json"
    _write_json(path, [_entry("fr", "en", "compte rendu", "minutes")])
    clock = _Clock()
    holder = GlossaryFile(path, check_seconds=2.0, clock=clock)
    first = holder.current
    _write_json(path, [_entry("fr", "en", "compte rendu", "report")])
    # Not looked at before check_seconds: one stat() per interval whatever the traffic.
    clock.now = 1.0
    assert holder.current is first
    clock.now = 2.0
    second = holder.current
    assert [e.translation for e in second.entries] == ["report"]
    # The object a request took is not changed under it.
    assert [e.translation for e in first.entries] == ["minutes"]

    path.write_text('{"glossary": [{"source": "fr"}]}', "utf-8")
    clock.now = 4.0
    with caplog.at_level(logging.ERROR, logger="tradia.glossary"):
        assert holder.current is second
    assert any(r.getMessage() == "glossary_reload_failed" for r in caplog.records)

    _write_json(path, [], ["Tradia"])
    clock.now = 6.0
    assert holder.current.do_not_translate == ("Tradia",)


def test_a_stream_keeps_its_glossary_and_the_next_request_gets_the_new_one(
    sim: Any, tmp_path: Path
) -> None:
    path = tmp_path / "terminology.json"
    _write_json(path, [_entry("fr", "en", "compte rendu", "minutes")])
    text = "Le compte rendu du conseil."
    with (
        running_app(sim.url, TRADIA_GLOSSARY_FILE=str(path)) as url,
        httpx.Client(base_url=url, timeout=30) as http,
    ):
        # Every token after the first waits: the file is replaced while this stream runs.
        sim.fault("slow_tokens", after=1, delay=0.05, count=1)
        body = {"text": text, "source": "fr", "target": "en"}
        events = []
        with http.stream("POST", "/api/translate", json=body) as response:
            assert response.status_code == 200
            for event in iter_events(response):
                events.append(event)
                if isinstance(event, StartedEvent):
                    _write_json(
                        path,
                        [
                            _entry("fr", "en", "compte rendu", "report"),
                            _entry("fr", "en", "conseil", "board"),
                        ],
                    )
        result = of_type([e.model_dump(mode="json") for e in events], "result")[0]
        assert [(u["term"], u["translation"]) for u in result["glossary"]] == [
            ("compte rendu", "minutes")
        ]
        assert events[-1].type == "done"

        deadline = time.monotonic() + 10
        while {"source": "fr", "target": "en", "terms": 2} not in http.get("/api/settings").json()[
            "features"
        ]["glossary"]:
            assert time.monotonic() < deadline, "the replaced file was never read again"
            time.sleep(0.2)
        after = stream_events(http, "/api/translate", json=body)
    report = {u["term"]: u["translation"] for u in of_type(after, "result")[0]["glossary"]}
    assert report == {"compte rendu": "report", "conseil": "board"}


# --- do-not-translate and the term check ------------------------------------------------------


def test_do_not_translate_terms_go_with_the_request_and_are_checked(
    sim: Any, tmp_path: Path
) -> None:
    path = tmp_path / "terminology.json"
    _write_json(path, [_entry("fr", "en", "compte rendu", "minutes")], ["Tradia", "GPU", "Ollama"])
    with (
        running_app(sim.url, TRADIA_GLOSSARY_FILE=str(path)) as url,
        httpx.Client(base_url=url, timeout=30) as http,
    ):
        assert http.get("/api/settings").json()["features"]["do_not_translate"] == 3
        events = stream_events(
            http,
            "/api/translate",
            json={"text": "Le compte rendu de Tradia sur le GPU.", "source": "fr", "target": "en"},
        )
    report = of_type(events, "result")[0]["glossary"]
    # The scripted model quotes the text: the DNT terms come back, the translation does not.
    assert report == [
        {"term": "compte rendu", "translation": "minutes", "applied": False, "kind": "glossary"},
        {"term": "Tradia", "translation": "Tradia", "applied": True, "kind": "do_not_translate"},
        {"term": "GPU", "translation": "GPU", "applied": True, "kind": "do_not_translate"},
    ]


def test_the_prompt_asks_to_keep_the_terms_as_written() -> None:
    glossary = Glossary(do_not_translate=("Tradia", "GPU", "Ollama"))
    keep = glossary.protected("Tradia tourne sur un GPU (et pas sur une gpu).")
    assert keep == ["Tradia", "GPU"]
    request = build_translation_request("m", "x", "fr", "en", [], keep=keep)
    assert (
        'Keep these terms exactly as written, untranslated: "Tradia", "GPU".'
        in (request.messages[0]["content"])
    )


@pytest.mark.parametrize(
    ("expected", "output", "applied"),
    [
        ("board of directors", "The Board  of\nDirectors met.", True),  # case, spaces
        ("Protokoll", "Die Protokolle wurden verteilt.", True),  # a short ending
        ("minutes", "the minute", False),
        ("board", "the boardroom", False),  # another word, not an inflection
        ("société", "la socie\u0301te\u0301 mère", True),  # NFC
        ("board of directors", "the <1>board</1> of directors", True),  # a document's tags
    ],
)
def test_the_check_compares_normalised_forms(expected: str, output: str, applied: bool) -> None:
    entry = GlossaryEntry(source="fr", target="en", term="t", translation=expected)
    assert glossary_report([entry], output)[0].applied is applied


def test_a_segment_lists_its_missing_terms() -> None:
    entry = GlossaryEntry(source="fr", target="en", term="compte rendu", translation="minutes")
    # A do-not-translate term must come back as written: "gpu" is not "GPU".
    missing = missing_terms(3, [entry], ["GPU", "Tradia"], "The report of Tradia on the gpu.")
    assert missing == [
        TermMissing(segment=3, term="compte rendu", expected="minutes"),
        TermMissing(segment=3, term="GPU", expected="GPU"),
    ]


# --- formality --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "formality", "said", "not_said"),
    [
        ("fr", "formal", '"vous"', None),
        ("fr", "informal", '"tu"', None),
        ("de", "formal", '"Sie"', None),
        ("de", "informal", '"du"', None),
        ("fr", "default", None, "Address the reader"),
        ("en", "default", None, "Address the reader"),
    ],
)
def test_the_prompt_says_how_to_address_the_reader(
    target: str, formality: Any, said: str | None, not_said: str | None
) -> None:
    system = build_translation_request("m", "x", "en", target, [], formality=formality).messages[0][
        "content"
    ]
    address = [line for line in system.splitlines() if line.startswith("Address the reader")]
    if said is not None:
        assert len(address) == 1
        assert f"with {said}" in address[0]
    if not_said is not None:
        assert not_said not in system


def test_formality_is_offered_and_checked_by_language(client: httpx.Client) -> None:
    # The test app's languages are the default ones: fr, en, ar, es, de, it.
    assert client.get("/api/settings").json()["formality_languages"] == ["fr", "es", "de", "it"]
    refused = client.post(
        "/api/translate", json={"text": "Hello", "target": "en", "formality": "formal"}
    )
    assert refused.status_code == 422
    assert refused.json()["error"] == "formality_unsupported"
    assert "fr, de, es, it, pt, nl" in refused.json()["message"]
    events = stream_events(
        client,
        "/api/translate",
        json={"text": "Hello", "source": "en", "target": "fr", "formality": "informal"},
    )
    assert events[-1]["type"] == "done"


def test_unknown_formality_is_a_validation_error(client: httpx.Client) -> None:
    answer = client.post(
        "/api/translate", json={"text": "Hello", "target": "fr", "formality": "polite"}
    )
    assert answer.status_code == 422
    assert answer.json()["error"] == "invalid_request"


def test_an_empty_file_setting_means_no_terminology() -> None:
    # What the role sets when the inventory has no glossary and no do-not-translate term.
    assert make_settings("http://127.0.0.1:9", TRADIA_GLOSSARY_FILE="").glossary_file is None

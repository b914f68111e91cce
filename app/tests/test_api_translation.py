"""Translation against the simulator over HTTP."""

from __future__ import annotations

from pathlib import Path

import httpx
from tradia_testkit import last, of_type, running_app, stream_events


def test_translation_streams_tokens_then_result_and_done(client: httpx.Client) -> None:
    text = "Bonjour à tous, nous sommes ravis de vous accueillir."
    events = stream_events(client, "/api/translate", json={"text": text, "target": "en"})
    assert events[0] == {"type": "detected", "language": "fr"}
    tokens = of_type(events, "token")
    assert len(tokens) > 5
    result = of_type(events, "result")[0]
    # The scripted model quotes the user message: the text was sent as the user's message.
    assert f'You wrote: "{text}"' in result["text"]
    assert "".join(t["text"] for t in tokens) == result["text"]
    done = last(events)
    assert done["type"] == "done"
    assert done["done_reason"] == "stop"
    assert done["truncated"] is False
    assert done["stats"]["completion_tokens"] == len(tokens)


def test_translation_detects_arabic(client: httpx.Client) -> None:
    events = stream_events(
        client, "/api/translate", json={"text": "مرحبا بكم في الاجتماع", "target": "fr"}
    )
    assert events[0] == {"type": "detected", "language": "ar"}
    assert last(events)["type"] == "done"


def test_explicit_source_skips_detection(client: httpx.Client) -> None:
    events = stream_events(
        client, "/api/translate", json={"text": "Hello", "source": "en", "target": "fr"}
    )
    assert not of_type(events, "detected")
    assert last(events)["type"] == "done"


def test_unknown_language_is_refused(client: httpx.Client) -> None:
    response = client.post("/api/translate", json={"text": "Hello", "target": "xx"})
    assert response.status_code == 422
    assert response.json()["error"] == "language_unsupported"


def test_truncated_generation_is_flagged(sim) -> None:
    # A small fixed context: the answer hits it, Ollama reports done_reason "length".
    with running_app(sim.url, OLLAMA_NUM_CTX=600) as url, httpx.Client(base_url=url) as http:
        text = "mot " * 500
        events = stream_events(http, "/api/translate", json={"text": text, "target": "en"})
    done = last(events)
    assert done["type"] == "done"
    assert done["done_reason"] == "length"
    assert done["truncated"] is True
    assert of_type(events, "result")[0]["text"]


def test_other_model_from_the_list(client: httpx.Client) -> None:
    events = stream_events(
        client, "/api/translate", json={"text": "Salut", "target": "en", "model": "smollm2:135m"}
    )
    assert of_type(events, "started")[0]["model"] == "smollm2:135m"
    assert last(events)["type"] == "done"


def test_glossary_terms_go_with_the_request(sim, tmp_path: Path) -> None:
    glossary = tmp_path / "glossary.csv"
    glossary.write_text(
        "source,target,term,translation\n"
        "fr,en,compte rendu,minutes\n"
        "fr,en,conseil d'administration,board of directors\n"
        "fr,de,compte rendu,Protokoll\n",
        encoding="utf-8",
    )
    with (
        running_app(sim.url, TRADIA_GLOSSARY_FILE=str(glossary)) as url,
        httpx.Client(base_url=url) as http,
    ):
        settings = http.get("/api/settings").json()
        assert {"source": "fr", "target": "en", "terms": 2} in settings["features"]["glossary"]
        events = stream_events(
            http,
            "/api/translate",
            json={
                "text": "Le compte rendu du Conseil d'administration.",
                "source": "fr",
                "target": "en",
            },
        )
    report = of_type(events, "result")[0]["glossary"]
    assert {e["term"] for e in report} == {"compte rendu", "conseil d'administration"}
    # The scripted model does not translate, so the required terms are reported as not applied.
    assert all(e["applied"] is False for e in report)

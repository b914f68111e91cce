"""Correction, reformulation and minutes (structured output) against the simulator."""

from __future__ import annotations

import base64

import httpx
from tradia_testkit import last, of_type, stream_events

# A 1x1 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def test_correction_returns_structure_diff_and_checks(client: httpx.Client) -> None:
    text = "Le prix est de 12,50 € le 3 mars.\nMerci Pierre."
    events = stream_events(client, "/api/correct", json={"text": text})
    assert of_type(events, "token"), "the structured answer streams too"
    result = of_type(events, "result")[0]
    assert isinstance(result["corrected_text"], str)
    assert isinstance(result["explanations"], list)
    rebuilt = "".join(op["text"] for op in result["diff"] if op["op"] != "delete")
    assert rebuilt == result["corrected_text"]
    original = "".join(op["text"] for op in result["diff"] if op["op"] != "insert")
    assert original == text
    # The scripted model rewrites freely: whatever it dropped of the numbers is flagged.
    flagged = {(c["kind"], c["value"]) for c in result["protected_changes"]}
    for value in ("12,50", "3"):
        assert (("number", value) in flagged) == (value not in result["corrected_text"])
    assert last(events)["type"] == "done"


def test_reformulation_with_tone(client: httpx.Client) -> None:
    events = stream_events(
        client,
        "/api/reformulate",
        json={"text": "salut, on se voit demain ?", "tone": "formal_email"},
    )
    result = of_type(events, "result")[0]
    assert isinstance(result["text"], str)
    assert all(set(c) == {"before", "after", "reason"} for c in result["changes"])
    assert last(events)["type"] == "done"


def test_reformulation_unknown_tone(client: httpx.Client) -> None:
    response = client.post("/api/reformulate", json={"text": "x y", "tone": "pirate"})
    assert response.status_code == 422
    assert response.json()["error"] == "tone_unknown"


def test_minutes_from_notes(client: httpx.Client) -> None:
    notes = (
        "Réunion budget. Décision : on valide 3 postes."
        " Action : Marie envoie le devis avant le 12/05."
    )
    events = stream_events(client, "/api/minutes", data={"notes": notes, "language": "fr"})
    result = of_type(events, "result")[0]
    assert set(result) >= {"title", "summary", "decisions", "actions", "markdown"}
    assert "## Résumé" in result["markdown"]
    assert "## Décisions" in result["markdown"]
    assert last(events)["type"] == "done"


def test_minutes_photo_needs_a_vision_model(client: httpx.Client) -> None:
    files = {"photo": ("notes.png", PNG, "image/png")}
    refused = client.post("/api/minutes", data={"notes": "", "model": "llama3.1:8b"}, files=files)
    assert refused.status_code == 422
    assert refused.json()["error"] == "vision_unsupported"
    events = stream_events(
        client,
        "/api/minutes",
        data={"notes": "", "model": "qwen2.5vl:7b", "language": "en"},
        files=files,
    )
    assert "## Summary" in of_type(events, "result")[0]["markdown"]
    assert last(events)["type"] == "done"


def test_minutes_needs_something(client: httpx.Client) -> None:
    response = client.post("/api/minutes", data={"notes": ""})
    assert response.status_code == 422
    assert response.json()["error"] == "minutes_empty"


def test_settings_drive_the_ui(client: httpx.Client) -> None:
    settings = client.get("/api/settings").json()
    assert [lang["code"] for lang in settings["languages"]] == ["fr", "en", "ar", "es", "de", "it"]
    assert next(lang for lang in settings["languages"] if lang["code"] == "ar")["rtl"] is True
    models = settings["models"]
    assert models[0]["name"] == "llama3.1:8b"
    assert models[0]["default"] is True
    assert {m["name"] for m in models if m["vision"]} == {"qwen2.5vl:7b"}
    assert settings["features"]["minutes_photo"] is True
    assert {t["id"] for t in settings["tones"]} == {
        "professional",
        "concise",
        "formal_email",
        "plain_language",
    }
    assert settings["upstream_error"] is None

"""Reformulation in a chosen tone, with the list of changes (structured output)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tradia.tasks.messages import chat_messages, language_name
from tradia.tasks.structured import object_list, parse_structured, string_field
from tradia.tasks.text_checks import protected_changes, word_diff
from tradia.upstream.ollama_client import ChatRequest


@dataclass(frozen=True)
class Tone:
    id: str
    labels: dict[str, str]
    instruction: str


TONES = (
    Tone(
        "professional",
        {"fr": "Professionnel", "en": "Professional"},
        "a clear, courteous, professional register suitable for colleagues and partners",
    ),
    Tone(
        "concise",
        {"fr": "Concis", "en": "Concise"},
        "a concise version: remove repetitions and filler, keep every piece of information",
    ),
    Tone(
        "formal_email",
        {"fr": "E-mail formel", "en": "Formal e-mail"},
        "a formal e-mail with a greeting, a structured body and a closing formula",
    ),
    Tone(
        "plain_language",
        {"fr": "Langage clair", "en": "Plain language"},
        "plain language (FALC-like): short sentences, common words, active voice, no jargon",
    ),
)
TONES_BY_ID = {tone.id: tone for tone in TONES}

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "text": {"type": "string"},
        "changes": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "before": {"type": "string"},
                    "after": {"type": "string"},
                    "reason": {"type": "string"},
                },
                "required": ["before", "after", "reason"],
            },
        },
    },
    "required": ["text", "changes"],
}


def build_reformulation_request(model: str, text: str, tone: Tone, ui_language: str) -> ChatRequest:
    system = "\n".join(
        [
            f"You rewrite the user's message, in its own language, in {tone.instruction}.",
            "Keep the meaning, and keep every date, price, number, name and URL exactly as"
            " written.",
            "Answer in JSON: text is the whole rewritten text; changes lists the main changes"
            f" (before, after, and a short reason written in {language_name(ui_language)}).",
        ]
    )
    return ChatRequest(
        model=model,
        messages=chat_messages(system, text),
        format=SCHEMA,
        options={"temperature": 0.3},
    )


def reformulation_result(original: str, answer: str, truncated: bool) -> dict[str, Any]:
    value = parse_structured(answer, truncated)
    text = string_field(value, "text")
    return {
        "type": "result",
        "text": text,
        "changes": object_list(value, "changes", ("before", "after", "reason")),
        "diff": word_diff(original, text),
        "protected_changes": protected_changes(original, text),
    }

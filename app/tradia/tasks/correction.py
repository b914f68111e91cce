"""Spelling and grammar correction with explanations (structured output)."""

from __future__ import annotations

from typing import Any

from tradia.tasks.messages import chat_messages, language_name
from tradia.tasks.structured import object_list, parse_structured, string_field
from tradia.tasks.text_checks import protected_changes, word_diff
from tradia.upstream.ollama_client import ChatRequest

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "corrected_text": {"type": "string"},
        "explanations": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "original": {"type": "string"},
                    "correction": {"type": "string"},
                    "explanation": {"type": "string"},
                },
                "required": ["original", "correction", "explanation"],
            },
        },
    },
    "required": ["corrected_text", "explanations"],
}


def build_correction_request(model: str, text: str, ui_language: str) -> ChatRequest:
    system = "\n".join(
        [
            "You are a careful proofreader. Correct the spelling, grammar, agreement and"
            " punctuation of the user's message, in its own language.",
            "Change nothing else: keep the wording, the line breaks, and keep every date, price,"
            " number, name and URL exactly as written.",
            "Answer in JSON: corrected_text is the whole corrected text; explanations lists each"
            " correction (original words, corrected words, a short explanation written in"
            f" {language_name(ui_language)}).",
        ]
    )
    return ChatRequest(
        model=model,
        messages=chat_messages(system, text),
        format=SCHEMA,
        options={"temperature": 0},
    )


def correction_result(original: str, answer: str, truncated: bool) -> dict[str, Any]:
    value = parse_structured(answer, truncated)
    corrected = string_field(value, "corrected_text")
    return {
        "type": "result",
        "corrected_text": corrected,
        "explanations": object_list(
            value, "explanations", ("original", "correction", "explanation")
        ),
        "diff": word_diff(original, corrected),
        "protected_changes": protected_changes(original, corrected),
    }

"""Reformulation in a chosen tone, with the list of changes (structured output)."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from tradia.api.events import Change, ReformulationResult
from tradia.tasks.messages import language_name
from tradia.tasks.structured import parse_answer, structured_request
from tradia.tasks.text_checks import rewrite_checks
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


class ReformulationAnswer(BaseModel):
    """What the model must answer (its schema is sent as Ollama's `format`)."""

    text: str
    changes: list[Change]


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
    return structured_request(model, system, text, ReformulationAnswer, temperature=0.3)


def reformulation_result(original: str, answer: str, truncated: bool) -> ReformulationResult:
    value = parse_answer(ReformulationAnswer, answer, truncated)
    return ReformulationResult(
        text=value.text,
        changes=value.changes,
        **rewrite_checks(original, value.text),
    )

"""Spelling and grammar correction with explanations (structured output)."""

from __future__ import annotations

from pydantic import BaseModel

from tradia.api.events import CorrectionResult, Explanation
from tradia.tasks.messages import language_name
from tradia.tasks.structured import parse_answer, structured_request
from tradia.tasks.text_checks import rewrite_checks
from tradia.upstream.ollama_client import ChatRequest


class CorrectionAnswer(BaseModel):
    """What the model must answer (its schema is sent as Ollama's `format`)."""

    corrected_text: str
    explanations: list[Explanation]


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
    return structured_request(model, system, text, CorrectionAnswer, temperature=0)


def correction_result(original: str, answer: str, truncated: bool) -> CorrectionResult:
    value = parse_answer(CorrectionAnswer, answer, truncated)
    return CorrectionResult(
        corrected_text=value.corrected_text,
        explanations=value.explanations,
        **rewrite_checks(original, value.corrected_text),
    )

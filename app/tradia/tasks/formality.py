"""Formal or informal address, for the target languages that make the difference.

One table: the translation prompt reads it, the routes check a request against it, and
/api/settings lists its languages so the UI offers the choice only there.
"""

from __future__ import annotations

from typing import Literal

Formality = Literal["default", "formal", "informal"]

# How the reader is addressed: (formally, informally).
ADDRESS: dict[str, tuple[str, str]] = {
    "fr": ('"vous"', '"tu"'),
    "de": ('"Sie"', '"du"'),
    "es": ('"usted"', '"tú"'),
    "it": ('"Lei"', '"tu"'),
    "pt": ('"o senhor" / "a senhora"', '"tu" / "você"'),
    "nl": ('"u"', '"jij"'),
}


def has_formality(language: str) -> bool:
    return language in ADDRESS


def formality_instruction(target: str, formality: Formality) -> str | None:
    """The prompt line for this choice; None for "default" or a language without the choice."""
    if formality == "default" or target not in ADDRESS:
        return None
    formal, informal = ADDRESS[target]
    if formality == "formal":
        return f"Address the reader formally, with {formal}, never {informal}."
    return f"Address the reader informally, with {informal}, never {formal}."

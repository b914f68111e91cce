"""Translation of plain text (also used for each segment of a document)."""

from __future__ import annotations

from collections.abc import Sequence

from tradia.glossary import GlossaryEntry
from tradia.tasks.formality import Formality, formality_instruction
from tradia.tasks.messages import chat_messages, language_name
from tradia.upstream.ollama_client import ChatRequest

# Low temperature: a translation has one right answer more than it has styles.
_OPTIONS = {"temperature": 0.1}


def translation_system_prompt(
    source: str | None,
    target: str,
    glossary: list[GlossaryEntry],
    *,
    keep_tags: bool = False,
    keep: Sequence[str] = (),
    formality: Formality = "default",
) -> str:
    origin = f"from {language_name(source)} " if source else ""
    lines = [
        f"You are a professional translator. Translate the user's message {origin}into"
        f" {language_name(target)}.",
        "Reply with the translation only: no introduction, no notes, no quotation marks.",
        "Keep the line breaks, numbers, dates, prices, proper names, URLs and e-mail addresses"
        " exactly as they are.",
    ]
    if keep_tags:
        lines.append(
            "The text contains numbered tags such as <1>...</1> and <2/>: keep every tag, in the"
            " same order of nesting, around the words that correspond to the tagged words."
        )
    if glossary:
        lines.append("Use exactly these translations of the organisation's terminology:")
        lines.extend(f'- "{e.term}" -> "{e.translation}"' for e in glossary)
    if keep:
        terms = ", ".join(f'"{term}"' for term in keep)
        lines.append(f"Keep these terms exactly as written, untranslated: {terms}.")
    address = formality_instruction(target, formality)
    if address:
        lines.append(address)
    return "\n".join(lines)


def build_translation_request(
    model: str,
    text: str,
    source: str | None,
    target: str,
    glossary: list[GlossaryEntry],
    *,
    keep_tags: bool = False,
    context: tuple[str, str] | None = None,
    keep: Sequence[str] = (),
    formality: Formality = "default",
) -> ChatRequest:
    """`context`: the paragraph before this one and its translation (documents), sent as one
    earlier exchange so the model keeps its terms and pronouns; the text to translate stays the
    last user message. `keep`: the do-not-translate terms of the text (Glossary.protected)."""
    system = translation_system_prompt(
        source, target, glossary, keep_tags=keep_tags, keep=keep, formality=formality
    )
    messages = chat_messages(system, text)
    if context is not None:
        before, translated = context
        earlier = [
            {"role": "user", "content": before},
            {"role": "assistant", "content": translated},
        ]
        messages[1:1] = earlier
    return ChatRequest(model=model, messages=messages, options=dict(_OPTIONS))

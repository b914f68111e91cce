"""Meeting minutes ("compte rendu") from notes and/or a photo of them (structured output)."""

from __future__ import annotations

from pydantic import BaseModel

from tradia.api.events import Action, MinutesResult
from tradia.tasks.messages import language_name
from tradia.tasks.structured import parse_answer, structured_request
from tradia.upstream.ollama_client import ChatRequest


class MinutesAnswer(BaseModel):
    """What the model must answer (its schema is sent as Ollama's `format`)."""

    title: str
    summary: str
    decisions: list[str]
    actions: list[Action]


_LABELS = {
    "fr": {
        "summary": "Résumé",
        "decisions": "Décisions",
        "actions": "Actions",
        "owner": "Responsable",
        "due": "Échéance",
        "none": "Aucune",
    },
    "en": {
        "summary": "Summary",
        "decisions": "Decisions",
        "actions": "Actions",
        "owner": "Owner",
        "due": "Due",
        "none": "None",
    },
}


def build_minutes_request(
    model: str, notes: str, images: list[str], output_language: str
) -> ChatRequest:
    source = "meeting notes" if not images else "meeting notes and a photo of notes or a board"
    system = "\n".join(
        [
            f"You write the minutes of a meeting from the user's {source}.",
            f"Write in {language_name(output_language)}. Do not invent anything that is not in"
            " the notes; keep names, dates and figures as written.",
            "Answer in JSON: title; summary (a short paragraph); decisions (one sentence each);"
            " actions, each with the owner and due_date when the notes give them, else an empty"
            " string.",
        ]
    )
    user_text = notes or "(no typed notes: use the photo)"
    return structured_request(
        model, system, user_text, MinutesAnswer, temperature=0.2, images=images
    )


def minutes_markdown(result: MinutesAnswer, language: str) -> str:
    labels = _LABELS.get(language, _LABELS["en"])
    lines = [
        f"# {result.title}" if result.title else "",
        "",
        f"## {labels['summary']}",
        "",
        result.summary,
        "",
        f"## {labels['decisions']}",
        "",
    ]
    lines += [f"- {d}" for d in result.decisions] or [f"- {labels['none']}"]
    lines += ["", f"## {labels['actions']}", ""]
    if result.actions:
        lines += [f"| {labels['actions']} | {labels['owner']} | {labels['due']} |", "|---|---|---|"]
        lines += [
            "| {} | {} | {} |".format(
                *(v.replace("|", "\\|") for v in (a.action, a.owner, a.due_date))
            )
            for a in result.actions
        ]
    else:
        lines.append(f"- {labels['none']}")
    return "\n".join(lines).lstrip("\n") + "\n"


def minutes_result(answer: str, truncated: bool, language: str) -> MinutesResult:
    value = parse_answer(MinutesAnswer, answer, truncated)
    return MinutesResult(
        title=value.title,
        summary=value.summary,
        decisions=value.decisions,
        actions=value.actions,
        markdown=minutes_markdown(value, language),
    )

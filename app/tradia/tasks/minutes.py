"""Meeting minutes ("compte rendu") from notes and/or a photo of them (structured output)."""

from __future__ import annotations

from typing import Any

from tradia.tasks.messages import chat_messages, language_name
from tradia.tasks.structured import object_list, parse_structured, string_field
from tradia.upstream.ollama_client import ChatRequest

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "summary": {"type": "string"},
        "decisions": {"type": "array", "items": {"type": "string"}},
        "actions": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "action": {"type": "string"},
                    "owner": {"type": "string"},
                    "due_date": {"type": "string"},
                },
                "required": ["action", "owner", "due_date"],
            },
        },
    },
    "required": ["title", "summary", "decisions", "actions"],
}

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
    return ChatRequest(
        model=model,
        messages=chat_messages(system, user_text, images),
        format=SCHEMA,
        options={"temperature": 0.2},
    )


def minutes_markdown(result: dict[str, Any], language: str) -> str:
    labels = _LABELS.get(language, _LABELS["en"])
    lines = [
        f"# {result['title']}" if result["title"] else "",
        "",
        f"## {labels['summary']}",
        "",
        result["summary"],
        "",
        f"## {labels['decisions']}",
        "",
    ]
    lines += [f"- {d}" for d in result["decisions"]] or [f"- {labels['none']}"]
    lines += ["", f"## {labels['actions']}", ""]
    if result["actions"]:
        lines += [f"| {labels['actions']} | {labels['owner']} | {labels['due']} |", "|---|---|---|"]
        lines += [
            "| {} | {} | {} |".format(
                *(a[k].replace("|", "\\|") for k in ("action", "owner", "due_date"))
            )
            for a in result["actions"]
        ]
    else:
        lines.append(f"- {labels['none']}")
    return "\n".join(lines).lstrip("\n") + "\n"


def minutes_result(answer: str, truncated: bool, language: str) -> dict[str, Any]:
    value = parse_structured(answer, truncated)
    decisions = value.get("decisions")
    result: dict[str, Any] = {
        "type": "result",
        "title": string_field(value, "title"),
        "summary": string_field(value, "summary"),
        "decisions": [str(d) for d in decisions] if isinstance(decisions, list) else [],
        "actions": object_list(value, "actions", ("action", "owner", "due_date")),
    }
    result["markdown"] = minutes_markdown(result, language)
    return result

"""What the simulated users send, and the closed loop that sends it.

Texts are generated from a fixed vocabulary with a seed, so every run sends the same bytes.
The mix of the twenty-user scenario: mostly short translations and corrections, some long
meeting minutes and documents (a plain-text file of several paragraphs).
"""

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

from tradia.core.config import Settings
from tradia.tasks.translation import build_translation_request
from tradia.upstream.ollama_client import OllamaClient

from bench.measure import Sample, TaskRequest
from bench.render import API_KEY

_WORDS = [
    "the",
    "team",
    "agreed",
    "to",
    "move",
    "the",
    "budget",
    "review",
    "to",
    "next",
    "week",
    "because",
    "the",
    "figures",
    "from",
    "the",
    "regional",
    "offices",
    "arrived",
    "late",
    "and",
    "several",
    "managers",
    "asked",
    "for",
    "more",
    "time",
    "to",
    "check",
    "the",
    "numbers",
    "before",
    "the",
    "board",
    "meeting",
    "while",
    "the",
    "new",
    "hiring",
    "plan",
    "was",
    "approved",
    "with",
    "two",
    "changes",
    "to",
    "the",
    "training",
    "schedule",
    "and",
    "the",
    "customer",
    "survey",
    "will",
    "be",
    "sent",
    "in",
    "March",
]

# Weights of the mixed workload (short tasks dominate, as in an office).
MIX: tuple[tuple[str, float], ...] = (
    ("translate", 0.40),
    ("correct", 0.30),
    ("translate_long", 0.10),
    ("minutes", 0.10),
    ("document", 0.10),
)
SHORT_TASKS = ("translate", "correct")


def text(chars: int, seed: int) -> str:
    """About `chars` characters of sentences, the same for the same seed."""
    rng = random.Random(seed)  # noqa: S311 - test data, not security
    sentences: list[str] = []
    length = 0
    while length < chars:
        words = [rng.choice(_WORDS) for _ in range(rng.randint(8, 16))]
        sentence = " ".join(words).capitalize() + "."
        sentences.append(sentence)
        length += len(sentence) + 1
    return " ".join(sentences)


def translation(chars: int, seed: int) -> TaskRequest:
    body = {"text": text(chars, seed), "source": "en", "target": "fr"}
    return TaskRequest("translate", "/api/translate", json=body)


def task_request(task: str, seed: int) -> TaskRequest:
    if task == "translate":
        return translation(300, seed)
    if task == "translate_long":
        return TaskRequest("translate_long", "/api/translate", json=translation(2500, seed).json)
    if task == "correct":
        return TaskRequest("correct", "/api/correct", json={"text": text(400, seed)})
    if task == "minutes":
        return TaskRequest(
            "minutes", "/api/minutes", data={"notes": text(3000, seed), "language": "en"}
        )
    if task == "document":
        paragraphs = "\n\n".join(text(350, seed * 100 + i) for i in range(6))
        return TaskRequest(
            "document",
            "/api/documents/translate",
            data={"target": "fr", "source": "en"},
            files=[("files", ("report.txt", paragraphs.encode(), "text/plain"))],
        )
    raise ValueError(f"unknown task {task!r}")


def mixed_request(user: int, index: int) -> TaskRequest:
    rng = random.Random(user * 10_000 + index)  # noqa: S311 - test data
    task = rng.choices([t for t, _ in MIX], weights=[w for _, w in MIX])[0]
    return task_request(task, user * 10_000 + index)


def ollama_body(request: TaskRequest, model: str) -> dict[str, Any]:
    """The /api/chat body the app sends upstream for a translation request: the same bytes go
    straight to the simulator or through the AI server's Traefik."""
    assert request.json is not None
    settings = Settings(ollama_api_key=API_KEY, ollama_model=model)  # type: ignore[call-arg]
    chat = build_translation_request(
        model, request.json["text"], request.json["source"], request.json["target"], []
    )
    # chat_body only reads the settings: no HTTP client is needed to build the body.
    return OllamaClient(None, settings).chat_body(chat)  # type: ignore[arg-type]


async def closed_loop(
    users: int,
    send: Callable[[int, int], Awaitable[Sample]],
    *,
    per_user: int | None = None,
    until: float | None = None,
) -> list[Sample]:
    """Each user sends its next request when the previous one ends, `per_user` times or until
    time.monotonic() passes `until`."""

    async def one_user(user: int) -> list[Sample]:
        samples: list[Sample] = []
        index = 0
        while (per_user is None or index < per_user) and (
            until is None or time.monotonic() < until
        ):
            samples.append(await send(user, index))
            index += 1
        return samples

    results = await asyncio.gather(*(one_user(u) for u in range(users)))
    return [sample for user_samples in results for sample in user_samples]

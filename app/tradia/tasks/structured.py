"""Structured output: the answer's pydantic model is both what Ollama is asked for (its JSON
Schema as `format`) and what parses the answer, so the two cannot drift apart."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ValidationError

from tradia.tasks.messages import chat_messages
from tradia.upstream.errors import ErrorKind, UpstreamError
from tradia.upstream.ollama_client import ChatRequest

Answer = TypeVar("Answer", bound=BaseModel)


def structured_request(
    model: str,
    system: str,
    user_text: str,
    answer: type[BaseModel],
    *,
    temperature: float,
    images: list[str] | None = None,
) -> ChatRequest:
    return ChatRequest(
        model=model,
        messages=chat_messages(system, user_text, images),
        format=answer.model_json_schema(),
        options={"temperature": temperature},
    )


def parse_answer(answer: type[Answer], text: str, truncated: bool) -> Answer:
    """The object the model was constrained to produce; a failure is reported, not guessed."""
    if truncated:
        raise UpstreamError(
            ErrorKind.GENERATION_FAILED,
            "The answer was truncated by the model's length limit before it was complete. Try a"
            " shorter text.",
        )
    try:
        return answer.model_validate_json(text)
    except ValidationError as exc:
        raise UpstreamError(
            ErrorKind.GENERATION_FAILED,
            "The AI server returned an answer that is not the expected structure. Try again.",
        ) from exc

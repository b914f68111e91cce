"""What the server asks of a backend, and what a backend reports back."""

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ollama_sim.model_facts import ModelFacts


class RunnerError(Exception):
    """The model cannot run (Ollama: `llama runner process has terminated: ...`)."""


@dataclass(frozen=True)
class Message:
    role: str
    content: str
    images: tuple[str, ...] = ()


@dataclass(frozen=True)
class GenerationRequest:
    messages: tuple[Message, ...]
    think: bool
    format: str | dict[str, Any] | None
    num_predict: int | None
    num_ctx: int
    seed: int | None
    temperature: float | None
    top_p: float | None
    stop: tuple[str, ...]


@dataclass
class Piece:
    """One generated token's text; `thinking` pieces precede the answer's."""

    text: str
    thinking: bool = False


@dataclass
class Outcome:
    """Filled by the backend while generating; read for the final chunk."""

    done_reason: str = "stop"
    prompt_eval_count: int = 0
    prompt_eval_duration_ns: int = 0
    eval_count: int = 0
    eval_duration_ns: int = 0


class Backend(Protocol):
    async def load(self, facts: ModelFacts, num_ctx: int) -> Any:
        """Load the model; returns the backend's state for it. Raises RunnerError."""
        ...

    async def unload(self, state: Any) -> None: ...

    def generate(
        self,
        state: Any,
        request: GenerationRequest,
        outcome: Outcome,
        active: Callable[[], int],
    ) -> AsyncIterator[Piece]:
        """Yield pieces as they are produced; `active()` is how many streams share the model."""
        ...

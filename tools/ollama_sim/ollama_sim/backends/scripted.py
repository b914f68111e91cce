"""The scripted backend: deterministic text derived from the request, timed by a profile.

The answer quotes the last user message (`You wrote: "<text>"`) followed by one or two filler
sentences picked with the request's seed, so a test can check its text reached the model and
that a seed repeats an answer. With `format` the answer is JSON: `{"answer": <text>}` for
"json", or an instance of the given schema. A thinking request first streams a short thought.

Token counts use ollama_sim.tokens (about 4 characters per token); every message also costs 4
template tokens, the assistant header 3, an image 256.
"""

import asyncio
import json
import random
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from ollama_sim.backends.base import GenerationRequest, Outcome, Piece
from ollama_sim.model_facts import ModelFacts
from ollama_sim.profiles import Profile
from ollama_sim.schema_instance import generate_instance
from ollama_sim.tokens import count_tokens, split_tokens

_FILLER = (
    "Here is a clearer version that keeps your meaning.",
    "The tone stays friendly and direct.",
    "Short sentences make the point easier to follow.",
    "Nothing essential was removed.",
    "Let me know if you want it shorter or more formal.",
    "I kept the structure and smoothed the wording.",
)
_TOKENS_PER_MESSAGE = 4
_TOKENS_ASSISTANT_HEADER = 3
_TOKENS_PER_IMAGE = 256
# With no delay to wait for, hand the event loop back every this many tokens.
_INSTANT_YIELD_EVERY = 16


def prompt_tokens(request: GenerationRequest) -> int:
    total = _TOKENS_ASSISTANT_HEADER
    for message in request.messages:
        total += count_tokens(message.content) + _TOKENS_PER_MESSAGE
        total += _TOKENS_PER_IMAGE * len(message.images)
    return total


def _last_user_text(request: GenerationRequest) -> str:
    users = [m for m in request.messages if m.role == "user"] or list(request.messages)
    return users[-1].content if users else ""


def _answer(request: GenerationRequest, rng: random.Random) -> str:
    text = _last_user_text(request)
    if isinstance(request.format, dict):
        return json.dumps(generate_instance(request.format, text.split(), rng))
    if request.format == "json":
        return json.dumps({"answer": text})
    images = sum(len(m.images) for m in request.messages)
    seen = f"I see {images} image{'s' if images != 1 else ''}. " if images else ""
    filler = " ".join(rng.sample(_FILLER, rng.randint(1, 2)))
    return f'{seen}You wrote: "{text}"\n\n{filler}'


def _thought(request: GenerationRequest, rng: random.Random) -> str:
    words = _last_user_text(request).split()[:12]
    return f"The user wants help with: {' '.join(words)}. {rng.choice(_FILLER)}"


class ScriptedState:
    def __init__(self, facts: ModelFacts) -> None:
        self.model = facts.model.name.display


class ScriptedBackend:
    def __init__(self, profile: Profile) -> None:
        self.profile = profile

    async def load(self, facts: ModelFacts, num_ctx: int) -> Any:
        await asyncio.sleep(self.profile.load_s)
        return ScriptedState(facts)

    async def unload(self, state: Any) -> None:
        return None

    async def generate(
        self,
        state: Any,
        request: GenerationRequest,
        outcome: Outcome,
        active: Callable[[], int],
    ) -> AsyncIterator[Piece]:
        # Seeded from the request: the same request and seed give the same answer.
        seed = f"{request.seed or 0}|{state.model}|{_last_user_text(request)}"
        rng = random.Random(seed)  # noqa: S311 - text variety, not security
        pieces = (
            [Piece(t, thinking=True) for t in split_tokens(_thought(request, rng))]
            if request.think
            else []
        )
        answer = _answer(request, rng)
        cut = min((answer.find(s) for s in request.stop if s and s in answer), default=-1)
        if cut >= 0:
            answer = answer[:cut]
        pieces += [Piece(t) for t in split_tokens(answer)]

        prompt = min(prompt_tokens(request), request.num_ctx - 1)
        budget = request.num_ctx - prompt
        if request.num_predict is not None and request.num_predict > 0:
            budget = min(budget, request.num_predict)
        if len(pieces) > budget:
            pieces = pieces[:budget]
            outcome.done_reason = "length"
        outcome.prompt_eval_count = prompt

        profile = self.profile
        await asyncio.sleep(profile.overhead_s)
        started = time.perf_counter_ns()
        await asyncio.sleep(profile.prefill_s(prompt, active()))
        outcome.prompt_eval_duration_ns = max(1, time.perf_counter_ns() - started)

        loop = asyncio.get_running_loop()
        started, deadline = time.perf_counter_ns(), loop.time()
        for index, piece in enumerate(pieces):
            # Absolute deadlines: sleep overshoot does not accumulate into a slower rate.
            deadline += profile.decode_interval_s(active())
            delay = deadline - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            elif index % _INSTANT_YIELD_EVERY == 0:
                await asyncio.sleep(0)
            outcome.eval_count = index + 1
            outcome.eval_duration_ns = max(1, time.perf_counter_ns() - started)
            yield piece

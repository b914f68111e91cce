"""What the simulated GPU can deliver: the yardstick for measured throughput.

The scripted backend (tools/ollama_sim: profiles.py, backends/scripted.py) holds a slot for
`overhead_s`, then prefill, then one decode interval per token, and with N requests active each
stream runs at rate * N**0.55 / N. A saturated server (N = OLLAMA_NUM_PARALLEL slots always
busy) therefore delivers, for a given mix of requests:

    capacity = N * sum(completion) / sum(slot seconds of each request at N active)

which is the decode ceiling rate * N**0.55 minus what the fixed per-request costs take. A
measured throughput divided by this is the share of the backend the stack actually used.
"""

from dataclasses import dataclass

from ollama_sim.profiles import PROFILES, Profile


@dataclass(frozen=True)
class Mix:
    """Totals over the requests a server finished (from its /_sim/stats counters)."""

    requests: int
    prompt_tokens: int
    completion_tokens: int


def profile(name: str) -> Profile:
    return PROFILES[name]


def decode_ceiling(prof: Profile, parallel: int) -> float:
    """Tokens/s of `parallel` streams decoding at once, no per-request costs."""
    return prof.decode_tokens_per_s * parallel * prof.per_stream_factor(parallel)


def slot_seconds(prof: Profile, mix: Mix, active: int) -> float:
    """Seconds of slot time the mix needs with `active` requests running at once."""
    return (
        mix.requests * prof.overhead_s
        + prof.prefill_s(mix.prompt_tokens, active)
        + mix.completion_tokens * prof.decode_interval_s(active)
    )


def workload_capacity(prof: Profile, mix: Mix, parallel: int) -> float:
    """Tokens/s a saturated server with `parallel` slots delivers on this mix."""
    busy = slot_seconds(prof, mix, parallel)
    return parallel * mix.completion_tokens / busy if busy else 0.0

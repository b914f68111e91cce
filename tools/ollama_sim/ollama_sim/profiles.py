"""Timing profiles: how fast an 8B Q4_K_M model runs on a given GPU through Ollama.

Per-stream decode rate with N requests generating at once on one model:

    rate(N) = single_stream_rate * f(N) / N,   f(N) = N ** 0.55

so aggregate throughput grows sublinearly: 1.0x at 1, 1.46x at 2, 2.1x at 4, 3.1x at 8 (the
1.5-2.5x at 4 measured on real GPUs). Prefill is scaled the same way.
"""

from dataclasses import dataclass

PARALLEL_EXPONENT = 0.55


@dataclass(frozen=True)
class Profile:
    name: str
    decode_tokens_per_s: float  # one stream alone; 0 = no delay at all
    prefill_tokens_per_s: float
    load_s: float  # cold load of the model (first use, after expiry, num_ctx change)
    overhead_s: float  # per request before prefill: template, tokenising, scheduling

    @property
    def instant(self) -> bool:
        return self.decode_tokens_per_s == 0

    def per_stream_factor(self, active: int) -> float:
        """f(N)/N: the share of the single-stream rate each of N active streams gets."""
        active = max(1, active)
        return active**PARALLEL_EXPONENT / active

    def decode_interval_s(self, active: int) -> float:
        if self.instant:
            return 0.0
        return 1.0 / (self.decode_tokens_per_s * self.per_stream_factor(active))

    def prefill_s(self, tokens: int, active: int) -> float:
        if self.instant:
            return 0.0
        return tokens / (self.prefill_tokens_per_s * self.per_stream_factor(active))


PROFILES: dict[str, Profile] = {
    profile.name: profile
    for profile in (
        Profile("instant", 0.0, 0.0, 0.0, 0.0),
        Profile("rtx4090", 128.0, 7000.0, 1.5, 0.10),
        Profile("l40s", 114.0, 6000.0, 2.0, 0.11),
        Profile("l4", 40.0, 1800.0, 4.0, 0.15),
    )
}

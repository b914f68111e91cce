"""Summaries shared by the scenarios."""

from collections.abc import Sequence
from typing import Any

from bench.measure import Sample
from bench.stats import p50_p95


def ms(pair: tuple[float, float] | None) -> list[float] | None:
    return [round(value * 1000, 1) for value in pair] if pair else None


def summarise(samples: Sequence[Sample]) -> dict[str, Any]:
    """Counts, TTFT and queue-wait percentiles (ms), tokens/s (aggregate and per request)."""
    ok = [s for s in samples if s.ok]
    failed = [s for s in samples if not s.ok]
    span = (max(s.end for s in ok) - min(s.start for s in ok)) if ok else 0.0
    tokens = sum(s.tokens for s in ok)
    per_request = [
        s.tokens / (s.duration - s.ttft) for s in ok if s.ttft is not None and s.duration > s.ttft
    ]
    stream_rates = p50_p95(per_request)
    return {
        "requests": len(samples),
        "failed": len(failed),
        "errors": sorted({s.error for s in failed}),
        "ttft_ms": ms(p50_p95([s.ttft for s in ok if s.ttft is not None])),
        "queue_wait_ms": ms(p50_p95([s.queue_wait for s in ok if s.queue_wait is not None])),
        "tokens": tokens,
        "seconds": round(span, 2),
        "tokens_per_s": round(tokens / span, 1) if span else 0.0,
        "stream_tokens_per_s_p50": round(stream_rates[0], 1) if stream_rates else None,
    }

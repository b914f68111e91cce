"""Percentiles and summaries of latency samples (no numpy: a few hundred samples at most)."""

from collections.abc import Sequence


def percentile(samples: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), linear between closest ranks (numpy's default method)."""
    if not samples:
        raise ValueError("percentile of no samples")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} outside 0-100")
    ordered = sorted(samples)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def p50_p95(samples: Sequence[float]) -> tuple[float, float] | None:
    """(p50, p95), or None when there is nothing to summarise."""
    if not samples:
        return None
    return percentile(samples, 50), percentile(samples, 95)


def ratio(value: float, baseline: float) -> float:
    """value / baseline, 0 when the baseline is 0 (nothing measured)."""
    return value / baseline if baseline else 0.0

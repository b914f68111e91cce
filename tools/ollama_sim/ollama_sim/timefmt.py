"""Timestamps formatted the way Ollama (Go's time.RFC3339Nano) writes them."""

import time
from datetime import UTC, datetime


def rfc3339_nano(epoch_ns: int) -> str:
    """Go's RFC3339Nano in UTC: up to 9 fraction digits, trailing zeros dropped, `Z` suffix."""
    seconds, nanos = divmod(epoch_ns, 1_000_000_000)
    base = datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    fraction = f"{nanos:09d}".rstrip("0")
    return f"{base}.{fraction}Z" if fraction else f"{base}Z"


def now_rfc3339() -> str:
    return rfc3339_nano(time.time_ns())

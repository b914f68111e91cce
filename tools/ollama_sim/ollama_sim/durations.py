"""Go-style durations and Ollama's keep_alive values."""

import math
import re

_UNITS_NS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_TERM = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")

# Ollama maps a negative keep_alive to the largest Go duration: "stay loaded forever".
FOREVER_NS = 2**63 - 1


class InvalidDuration(ValueError):
    """Not a Go duration; the message is the one Go's time.ParseDuration gives."""


def parse_go_duration_ns(text: str) -> int:
    """Parse `1h30m`, `-5m`, `300ms`, `0` like Go's time.ParseDuration (result in ns)."""
    body = text.strip()
    sign = -1 if body.startswith("-") else 1
    body = body.lstrip("+-")
    if body == "0":
        return 0
    position, total = 0, 0.0
    while position < len(body):
        match = _TERM.match(body, position)
        if match is None:
            raise InvalidDuration(f'time: invalid duration "{text}"')
        total += float(match.group(1)) * _UNITS_NS[match.group(2)]
        position = match.end()
    if position == 0:
        raise InvalidDuration(f'time: invalid duration "{text}"')
    return sign * int(total)


def keep_alive_ns(value: object) -> int:
    """Ollama's keep_alive: a number is seconds, a string a duration; negative means forever."""
    if isinstance(value, bool):
        raise InvalidDuration("json: cannot unmarshal bool into keep_alive")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise InvalidDuration(f"invalid keep_alive {value}")
        duration = int(value * 1_000_000_000)
    elif isinstance(value, str):
        duration = parse_go_duration_ns(value)
    else:
        raise InvalidDuration(f"unsupported type: {type(value).__name__}")
    return FOREVER_NS if duration < 0 else duration

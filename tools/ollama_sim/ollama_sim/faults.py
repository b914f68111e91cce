"""Fault injection: one fault at a time, chosen by environment or the /_sim/fault admin route."""

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

KINDS = ("error_500", "not_found", "midstream_error", "drop", "slow_first_token", "slow_tokens")
ENDPOINTS = ("chat", "generate", "pull")
DEFAULT_ENDPOINTS = ("chat", "generate")


class FaultError(ValueError):
    """A fault setting that makes no sense; the message says which and why."""


@dataclass(frozen=True)
class Fault:
    kind: str
    after: int = 1  # chunks sent normally before midstream_error, drop and slow_tokens act
    delay: float = 5.0  # seconds, for slow_first_token (once) and slow_tokens (every chunk)
    count: int | None = None  # requests affected; None = every request
    endpoints: tuple[str, ...] = DEFAULT_ENDPOINTS

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "endpoints": list(self.endpoints)}


def _number(name: str, raw: Any, cast: type, minimum: float) -> Any:
    try:
        value = cast(raw)
    except (TypeError, ValueError):
        raise FaultError(f"{name} must be a number, got {raw!r}") from None
    if isinstance(raw, bool) or not math.isfinite(value) or value < minimum:
        raise FaultError(f"{name} must be a number >= {minimum}, got {raw!r}")
    return value


def parse_fault(fields: Mapping[str, Any]) -> Fault:
    """Build a Fault from JSON-like fields: kind, after, delay, count, endpoints."""
    kind = fields.get("kind")
    if kind not in KINDS:
        raise FaultError(f"unknown fault kind {kind!r}; valid kinds: {', '.join(KINDS)}")
    endpoints = fields.get("endpoints", DEFAULT_ENDPOINTS)
    if isinstance(endpoints, str):
        endpoints = [part.strip() for part in endpoints.split(",") if part.strip()]
    if not isinstance(endpoints, list | tuple) or not endpoints or set(endpoints) - set(ENDPOINTS):
        raise FaultError(f"endpoints must be a non-empty subset of {', '.join(ENDPOINTS)}")
    count = fields.get("count")
    return Fault(
        kind=kind,
        after=_number("after", fields.get("after", 1), int, 0),
        delay=_number("delay", fields.get("delay", 5.0), float, 0),
        count=None if count in (None, "", "all") else _number("count", count, int, 1),
        endpoints=tuple(endpoints),
    )


def fault_from_env(environ: Mapping[str, str]) -> Fault | None:
    kind = environ.get("OLLAMA_SIM_FAULT", "")
    if not kind:
        return None
    fields: dict[str, Any] = {"kind": kind}
    for suffix in ("after", "delay", "count", "endpoints"):
        value = environ.get(f"OLLAMA_SIM_FAULT_{suffix.upper()}")
        if value:
            fields[suffix] = value
    try:
        return parse_fault(fields)
    except FaultError as error:
        # Name the variable, not the JSON field: "delay must be ..." -> OLLAMA_SIM_FAULT_DELAY.
        field = str(error).split(" ", 1)[0]
        variable = f"OLLAMA_SIM_FAULT_{field.upper()}" if field in fields else "OLLAMA_SIM_FAULT"
        raise FaultError(f"{variable}: {error}") from None


class FaultSwitch:
    """The active fault and how many more requests it hits."""

    def __init__(self, fault: Fault | None) -> None:
        self.fault = fault
        self.remaining = fault.count if fault else None

    def set(self, fault: Fault | None) -> None:
        self.fault = fault
        self.remaining = fault.count if fault else None

    def take(self, endpoint: str) -> Fault | None:
        """The fault for this request, counting it; None when no fault applies."""
        fault = self.fault
        if fault is None or endpoint not in fault.endpoints:
            return None
        if self.remaining is not None:
            self.remaining -= 1
            if self.remaining <= 0:
                self.fault, self.remaining = None, None
        return fault

    def describe(self) -> dict[str, Any]:
        if self.fault is None:
            return {"fault": None}
        return {"fault": self.fault.to_json(), "remaining": self.remaining}

"""Failed sign-ins counted per user name and per client address, in this process's memory.

Several app servers behind one proxy each count their own: the limit an attacker meets is then
this limit times the number of servers (still far from a password-guessing rate).
"""

from __future__ import annotations

import math
import time
from collections import deque

WINDOW_SECONDS = 60.0
# Bounds the memory a flood of distinct names or addresses can take.
_MAX_KEYS = 10_000


class FailedLoginLimiter:
    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and now - times[0] >= WINDOW_SECONDS:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def retry_after(self, keys: list[str], now: float | None = None) -> int:
        """Seconds to wait before another attempt under any of these keys (0: go ahead)."""
        now = time.monotonic() if now is None else now
        wait = 0.0
        for key in keys:
            times = self._recent(key, now)
            if len(times) >= self.per_minute:
                wait = max(wait, WINDOW_SECONDS - (now - times[0]))
        return math.ceil(wait)

    def failed(self, keys: list[str], now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        if len(self._failures) > _MAX_KEYS:
            for key in list(self._failures):
                self._recent(key, now)
        for key in keys:
            self._failures.setdefault(key, deque()).append(now)


def limiter_keys(username: str, client: str) -> list[str]:
    return [f"user:{username.strip().casefold()}", f"addr:{client}"]

"""Token-bucket rate limit per (account, Region), like the "Rate of GetFederationToken API
requests" quota (2/s, burst 5). Kept in process memory: each server process enforces the quota
on its own share of traffic (documented in docs/compatibility.md)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable

from connectfed.errors import ServiceError


class Throttled(ServiceError):
    """Over the quota: Connect's ``ThrottlingException`` (429)."""

    code = "ThrottlingException"
    status = 429
    sender_fault = True

    def __init__(self, message: str = "Rate exceeded") -> None:
        super().__init__(message)


class TokenBucket:
    def __init__(self, rate: float, burst: int, monotonic: Callable[[], float]) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._monotonic = monotonic
        self._buckets: dict[Hashable, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: Hashable) -> None:
        """Spend one request for ``key`` or raise ThrottlingException (429)."""
        if self._rate <= 0:
            return
        with self._lock:
            now = self._monotonic()
            tokens, last = self._buckets.get(key, (self._burst, now))
            tokens = min(self._burst, tokens + (now - last) * self._rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                raise Throttled()
            self._buckets[key] = (tokens - 1.0, now)

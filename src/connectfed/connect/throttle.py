"""Token-bucket rate limit per (account, Region), like the "Rate of GetFederationToken API
requests" quota (2/s, burst 5). One bucket per key serves every path into GetFederationToken
(the API and the browser's console path both go through :class:`FederationService`).

Two places to keep it: process memory (:class:`TokenBucket`, the default: each server process
enforces the quota on its own share of traffic), or the database (:class:`SharedTokenBucket`,
``serve --throttle-shared``: one bucket for every worker and server sharing the database, exact,
at the cost of one small write transaction per call). Documented in docs/compatibility.md."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol

from connectfed.clock import Clock
from connectfed.connect.errors import ConnectError
from connectfed.store import Store


class Throttled(ConnectError):
    """Over the quota (Connect's ``ThrottlingException``)."""

    def __init__(self) -> None:
        super().__init__("Rate exceeded")


class Throttle(Protocol):
    def take(self, key: tuple[str, str]) -> None:
        """Spend one request for ``key`` or raise :class:`Throttled`."""
        ...


class TokenBucket:
    def __init__(self, rate: float, burst: int, monotonic: Callable[[], float]) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._monotonic = monotonic
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: tuple[str, str]) -> None:
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


class SharedTokenBucket:
    """The same bucket kept in the store (:meth:`Store.take_throttle`), timed by the wall
    clock, which every process shares (a monotonic clock is per machine)."""

    def __init__(self, store: Store, clock: Clock, rate: float, burst: int) -> None:
        self._store = store
        self._clock = clock
        self._rate = rate
        self._burst = float(burst)

    def take(self, key: tuple[str, str]) -> None:
        if self._rate <= 0:
            return
        bucket = "GetFederationToken:" + "/".join(key)
        if not self._store.take_throttle(
            bucket, self._clock.now().timestamp(), self._rate, self._burst
        ):
            raise Throttled()


def make_throttle(store: Store, clock: Clock, rate: float, burst: int, *, shared: bool) -> Throttle:
    if shared:
        return SharedTokenBucket(store, clock, rate, burst)
    return TokenBucket(rate, burst, clock.monotonic)

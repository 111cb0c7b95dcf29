"""A small time-bounded cache for hot-path lookups (keys, sessions, policies, instances).

Entries live ``ttl`` seconds, so a change made by another server process sharing the database
is seen within that bound; changes made through this process invalidate at once.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, NoReturn, TypeVar

V = TypeVar("V")


class NotCached(Exception):
    """A lookup asked to be answered from memory alone found nothing there (the caller goes
    where the store may be read: the event loop must never wait for it)."""


def not_cached() -> NoReturn:
    """The loader of a lookup answered from memory alone (``cache.get(key, not_cached)``)."""
    raise NotCached


class TtlCache(Generic[V]):
    def __init__(self, ttl: float, monotonic: Callable[[], float], size: int = 10000) -> None:
        self._ttl = ttl
        self._monotonic = monotonic
        self._size = size
        self._entries: dict[Hashable, tuple[float, V]] = {}

    def get(self, key: Hashable, load: Callable[[], V]) -> V:
        if self._ttl <= 0:
            return load()
        now = self._monotonic()
        entry = self._entries.get(key)
        if entry is not None and entry[0] > now:
            return entry[1]
        value = load()
        if len(self._entries) >= self._size:
            self._entries.clear()
        self._entries[key] = (now + self._ttl, value)
        return value

    def invalidate(self, key: Hashable | None = None) -> None:
        if key is None:
            self._entries.clear()
        else:
            self._entries.pop(key, None)

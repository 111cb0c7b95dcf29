"""Time as a dependency: every expiry check takes ``now`` from a :class:`Clock`.

Tests use :class:`FixedClock` instead of sleeping; a server with the admin API runs on a
:class:`ShiftedClock`, whose offset tests move through ``/_connectfed/clock``.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol


def utc(epoch: float) -> datetime:
    """A stored epoch-seconds time as an aware UTC datetime (the store keeps times as epochs)."""
    return datetime.fromtimestamp(epoch, UTC)


@functools.lru_cache(maxsize=64)
def iso_second(epoch_second: int) -> str:
    """``2026-01-01T12:00:00Z``: a second as AWS writes times in policies' ``aws:CurrentTime``
    and CloudTrail's ``eventTime``. Every request of a second asks for the same text, so it is
    formatted once (``strftime`` is ~4 µs)."""
    return datetime.fromtimestamp(epoch_second, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def cloudtrail_time(moment: datetime) -> str:
    """``Jul 18, 2014 4:07:39 PM`` (UTC): a time inside a CloudTrail record's
    ``requestParameters``/``responseElements``, as AWS's example events write one (an
    ``AssumeRole``'s ``credentials.expiration``; "Logging IAM and AWS STS API calls with AWS
    CloudTrail", IAM User Guide). A naive ``moment`` is taken as UTC."""
    at = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    hour = at.hour % 12 or 12
    half = "AM" if at.hour < 12 else "PM"
    return (
        f"{_MONTHS[at.month - 1]} {at.day}, {at.year} {hour}:{at.minute:02}:{at.second:02} {half}"
    )


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin, for rate limits and caches."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


class FixedClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self._now = start
        self._mono = 0.0

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)
        self._mono += seconds


class ShiftedClock:
    """The real time (``base``) moved by an offset that lives in the shared store, so every
    server on one database sees the same shifted time (the admin API's time travel).

    ``read_offset`` returns the stored offset in seconds; it is read at most once per
    ``cache_seconds`` of real time (:meth:`refresh` reads it at once). :meth:`now` follows the
    offset both ways. :meth:`monotonic` feeds caches, rate limits and GC intervals, which must
    never run backwards: it moves forward with every increase of the offset this process sees
    (time passed: caches expire, token buckets refill) and ignores decreases (going back in time
    neither freezes a cache nor empties a bucket).
    """

    def __init__(
        self,
        read_offset: Callable[[], float],
        base: Clock | None = None,
        cache_seconds: float = 1.0,
    ) -> None:
        self._read = read_offset
        self._base = base or SystemClock()
        self._cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._offset = 0.0
        self._forward = 0.0  # the sum of every increase of the offset seen
        self._read_at: float | None = None

    def now(self) -> datetime:
        return self._base.now() + timedelta(seconds=self.offset())

    def unshifted(self) -> datetime:
        """The time without the offset: what :meth:`now` says again once the offset is 0."""
        return self._base.now()

    def now_cached(self) -> datetime:
        """:meth:`now` with the offset last read, never reading the store (for the event loop)."""
        return self._base.now() + timedelta(seconds=self._offset)

    def monotonic(self) -> float:
        self.offset()
        return self._base.monotonic() + self._forward

    def offset(self) -> float:
        """The offset in seconds (cached for ``cache_seconds``)."""
        read_at = self._read_at
        if read_at is not None and self._base.monotonic() - read_at < self._cache_seconds:
            return self._offset
        return self.refresh()

    def refresh(self, offset: float | None = None) -> float:
        """Read the offset from the store now (or take ``offset``, just written there)."""
        value = self._read() if offset is None else offset
        with self._lock:
            if value > self._offset:
                self._forward += value - self._offset
            self._offset = value
            self._read_at = self._base.monotonic()
        return value


def settled(clock: Clock) -> datetime:
    """The time before which what has ended stays ended, for deleting it for good: ``now()``,
    or for a :class:`ShiftedClock` the earlier of its time and the real time. Tests move the
    clock forward to see things end and then set the offset back to 0 (the pytest plugin does
    after every test); what ended only by the moved clock is live again then, and must still
    be there."""
    now = clock.now()
    if isinstance(clock, ShiftedClock):
        return min(now, clock.unshifted())
    return now

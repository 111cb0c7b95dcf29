"""Time travel: read, advance or set the offset of the server's clock.

The offset lives in the store, so every server on one database shares it; each server's
:class:`~connectfed.clock.ShiftedClock` reads it (cached briefly) and every expiry check follows:
STS sessions, access and refresh tokens, agent sessions, SAML assertion windows, SigV4's skew
window (a request signed with the real time is refused once the clock is more than 5 minutes
away, as AWS would; sign with the shifted time instead: docs/admin.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from connectfed.clock import ShiftedClock
from connectfed.store import Store

# Ten years either way: far beyond any lifetime the server knows (12 h sessions, 604800 s
# presigned URLs) and far from the ends of datetime's range.
MAX_OFFSET_SECONDS = 10 * 365.25 * 86400


class InvalidTimeTravel(ValueError):
    """The requested change of the clock is not a usable number of seconds."""


@dataclass(frozen=True, slots=True)
class ClockState:
    now: datetime  # the shifted time, timezone-aware UTC
    offset_seconds: float


def _seconds(value: float, what: str) -> float:
    if not math.isfinite(value) or abs(value) > MAX_OFFSET_SECONDS:
        raise InvalidTimeTravel(
            f"{what} must be a finite number of seconds within ±{MAX_OFFSET_SECONDS:.0f}"
        )
    return float(value)


class TimeTravel:
    def __init__(self, store: Store, clock: ShiftedClock) -> None:
        self._store = store
        self._clock = clock

    def state(self) -> ClockState:
        """The clock as stored now (this server's cached offset is refreshed too)."""
        self._clock.refresh()
        return ClockState(self._clock.now(), self._clock.offset())

    def advance(self, seconds: float) -> ClockState:
        seconds = _seconds(seconds, "advance_seconds")
        if seconds < 0:
            raise InvalidTimeTravel(
                "advance_seconds must not be negative: to go back, set offset_seconds"
            )
        _seconds(self._store.clock_offset() + seconds, "the resulting offset")
        self._clock.refresh(self._store.advance_clock(seconds))
        return ClockState(self._clock.now(), self._clock.offset())

    def set_offset(self, seconds: float) -> ClockState:
        self._clock.refresh(self._store.set_clock_offset(_seconds(seconds, "offset_seconds")))
        return ClockState(self._clock.now(), self._clock.offset())

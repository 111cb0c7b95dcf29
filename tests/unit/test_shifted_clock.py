"""The shifted clock: now() follows the stored offset both ways, read at most once per cache
period; monotonic() only ever moves forward (caches and rate limits never run backwards)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from connectfed.clock import FixedClock, ShiftedClock

START = datetime(2026, 1, 1, tzinfo=UTC)


class Offset:
    def __init__(self) -> None:
        self.value = 0.0
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        return self.value


def test_now_follows_the_offset_once_the_cache_expires() -> None:
    base, offset = FixedClock(START), Offset()
    clock = ShiftedClock(offset, base, cache_seconds=1.0)
    assert clock.now() == START
    offset.value = 600
    assert clock.now() == START  # cached
    base.advance(1.0)
    assert clock.now() == START + timedelta(seconds=601)
    offset.value = -3600
    assert clock.refresh() == -3600  # a refresh reads at once
    assert clock.now() == START + timedelta(seconds=1 - 3600)


def test_the_offset_is_read_once_per_cache_period() -> None:
    base, offset = FixedClock(START), Offset()
    clock = ShiftedClock(offset, base, cache_seconds=1.0)
    for _ in range(50):
        clock.now()
        clock.monotonic()
    assert offset.reads == 1


def test_monotonic_moves_forward_with_increases_and_ignores_decreases() -> None:
    base, offset = FixedClock(START), Offset()
    clock = ShiftedClock(offset, base, cache_seconds=0)
    first = clock.monotonic()
    offset.value = 3600
    assert clock.monotonic() == first + 3600
    offset.value = 0  # back in time: monotonic stays, then runs on with real time
    assert clock.monotonic() == first + 3600
    base.advance(5)
    assert clock.monotonic() == first + 3605
    offset.value = 10  # forward again from the lower offset: only the increase counts
    assert clock.monotonic() == first + 3615


def test_a_value_just_written_needs_no_read() -> None:
    base, offset = FixedClock(START), Offset()
    clock = ShiftedClock(offset, base, cache_seconds=10)
    clock.refresh(120)
    assert clock.now() == START + timedelta(seconds=120)
    assert offset.reads == 0

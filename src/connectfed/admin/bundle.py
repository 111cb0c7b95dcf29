"""The admin API's parts, built once by the composition root when the API is on."""

from __future__ import annotations

from dataclasses import dataclass

from connectfed.admin.access import AdminAccess
from connectfed.admin.faults import FaultService
from connectfed.admin.gate import Gate, known_operation
from connectfed.admin.timetravel import TimeTravel
from connectfed.clock import Clock, ShiftedClock, SystemClock
from connectfed.store import Store


@dataclass(frozen=True, slots=True)
class Admin:
    access: AdminAccess
    clock: ShiftedClock
    time: TimeTravel
    faults: FaultService
    gate: Gate

    def sync(self) -> None:
        """Read the clock offset and the faults from the database now. Run before every request
        (on a store thread): a change made through any worker or server sharing the database
        holds for the very next request here, not only once a cache expires."""
        self.clock.refresh()
        self.faults.reload()


def build_admin(
    access: AdminAccess,
    store: Store,
    clock: ShiftedClock,
    cache_seconds: float,
    real_clock: Clock | None = None,
) -> Admin:
    """``clock`` is the server's shifted clock; faults are ordered by the real one."""
    faults = FaultService(store, real_clock or SystemClock(), known_operation, cache_seconds)
    return Admin(access, clock, TimeTravel(store, clock), faults, Gate(faults))

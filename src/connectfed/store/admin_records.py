"""Frozen records of the admin API's shared state: injected faults (the clock offset is a
number kept in ``meta``). Times are epoch seconds (float, UTC), as in
:mod:`connectfed.store.records`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FaultRecord:
    fault_id: str
    service: str
    operation: str | None  # None: every operation of the service
    action: str  # "error" | "latency" | "drop"
    error_code: str | None  # with "error": the code asked for (ThrottlingException, …)
    latency_ms: int | None  # with "latency"
    remaining: int | None  # the next N matching calls; None: every call (at ``rate``)
    rate: float | None  # the share of matching calls that fail; None: all of them
    created: float

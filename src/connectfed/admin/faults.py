"""Fault injection: make matching calls fail, slow down or lose their connection.

A fault matches a service and one of its operations (or all of them) and does one thing: answer
an error (throttling or an internal error, in the protocol's own spelling), add latency, or drop
the connection without an answer. It fires for the next ``count`` matching calls (exactly that
many across every server on the database: the store counts down atomically), or for a share
``rate`` of them, or for every one until removed. Faults live in the store, so every server on
one database applies them; each server reads them at most once per ``cache_seconds`` (at once
after its own changes, and on every listing).

When several faults match one call, they are tried oldest first: latencies add up, and the first
error or drop that fires ends the search.
"""

from __future__ import annotations

import math
import random
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from connectfed.clock import Clock
from connectfed.store import Conflict, Store
from connectfed.store.admin_records import FaultRecord

SERVICES = ("connect", "sts", "iam", "cti")
MAX_LATENCY_MS = 300_000
MAX_COUNT = 1_000_000


class ErrorKind(Enum):
    THROTTLING = "throttling"
    INTERNAL = "internal"


# The names a fault may ask for, each protocol's spelling of both kinds accepted for any service
# (a ThrottlingException asked of STS is answered as STS throttles: code Throttling).
ERROR_NAMES = {
    "ThrottlingException": ErrorKind.THROTTLING,
    "Throttling": ErrorKind.THROTTLING,
    "InternalServiceException": ErrorKind.INTERNAL,
    "InternalFailure": ErrorKind.INTERNAL,
}


class FaultAction(Enum):
    ERROR = "error"
    LATENCY = "latency"
    DROP = "drop"


class InvalidFault(ValueError):
    """A fault that cannot be injected (unknown service or operation, conflicting fields)."""


class FaultNotFound(LookupError):
    pass


@dataclass(frozen=True, slots=True)
class FaultSpec:
    """What to inject: exactly one of ``error``, ``latency_ms``, ``drop``; at most one of
    ``count``, ``rate``."""

    service: str
    operation: str | None = None  # None: every operation of the service
    error: str | None = None
    latency_ms: int | None = None
    drop: bool = False
    count: int | None = None
    rate: float | None = None


@dataclass(frozen=True, slots=True)
class Fault:
    id: str
    service: str
    operation: str | None
    action: FaultAction
    error: str | None
    latency_ms: int | None
    count: int | None  # calls left; None: not counted
    rate: float | None


@dataclass(frozen=True, slots=True)
class Effect:
    """What a call gets: ``delay_seconds`` of latency, then an error, a drop, or its answer."""

    delay_seconds: float = 0.0
    error: ErrorKind | None = None
    drop: bool = False
    fault_id: str | None = None  # the error's or drop's fault


def _fault(record: FaultRecord) -> Fault:
    return Fault(
        record.fault_id,
        record.service,
        record.operation,
        FaultAction(record.action),
        record.error_code,
        record.latency_ms,
        record.remaining,
        record.rate,
    )


def _record(spec: FaultSpec, fault_id: str, created: float) -> FaultRecord:
    actions = [spec.error is not None, spec.latency_ms is not None, spec.drop]
    if actions.count(True) != 1:
        raise InvalidFault("give exactly one of error, latency_ms or drop: true")
    if spec.error is not None and spec.error not in ERROR_NAMES:
        raise InvalidFault(f"error must be one of {', '.join(ERROR_NAMES)}")
    if spec.latency_ms is not None and not 0 < spec.latency_ms <= MAX_LATENCY_MS:
        raise InvalidFault(f"latency_ms must be between 1 and {MAX_LATENCY_MS}")
    if spec.count is not None and spec.rate is not None:
        raise InvalidFault("give count or rate, not both")
    if spec.count is not None and not 0 < spec.count <= MAX_COUNT:
        raise InvalidFault(f"count must be between 1 and {MAX_COUNT}")
    if spec.rate is not None and not (math.isfinite(spec.rate) and 0 < spec.rate <= 1):
        raise InvalidFault("rate must be greater than 0 and at most 1")
    action = (
        FaultAction.ERROR
        if spec.error is not None
        else (FaultAction.LATENCY if spec.latency_ms is not None else FaultAction.DROP)
    )
    return FaultRecord(
        fault_id,
        spec.service,
        spec.operation,
        action.value,
        spec.error,
        spec.latency_ms,
        spec.count,
        spec.rate,
        created,
    )


class FaultService:
    """``known(service, operation)`` says whether this server implements the operation."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        known: Callable[[str, str], bool],
        cache_seconds: float = 1.0,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self._store = store
        self._clock = clock
        self._known = known
        self._cache_seconds = cache_seconds
        self._rng = rng
        self._lock = threading.Lock()
        self._cached: tuple[float, list[FaultRecord]] | None = None
        self._last_created = 0.0  # faults made here are ordered as made, even within a tick

    def add(self, spec: FaultSpec) -> Fault:
        if spec.service not in SERVICES:
            raise InvalidFault(f"service must be one of {', '.join(SERVICES)}")
        if spec.operation is not None and not self._known(spec.service, spec.operation):
            raise InvalidFault(f"{spec.service} has no operation {spec.operation!r} here")
        with self._lock:
            created = self._last_created = max(
                self._clock.now().timestamp(), self._last_created + 1e-6
            )
        while True:
            record = _record(spec, "fault-" + secrets.token_hex(8), created)
            try:
                self._store.add_fault(record)
            except Conflict:  # an id drawn twice: draw again
                continue
            self._forget()
            return _fault(record)

    def list_faults(self) -> list[Fault]:
        """Every fault, oldest first, as stored now."""
        return [_fault(record) for record in self._load()]

    def remove(self, fault_id: str) -> None:
        removed = self._store.delete_fault(fault_id)
        self._forget()
        if not removed:
            raise FaultNotFound(fault_id)

    def clear(self) -> int:
        removed = self._store.clear_faults()
        self._forget()
        return removed

    def effect(self, service: str, operation: str) -> Effect | None:
        """What the faults do to one call of ``service``'s ``operation`` (None: nothing);
        counted faults that fire are spent."""
        delay = 0.0
        for record in self._current():
            if record.service != service or record.operation not in (None, operation):
                continue
            if record.rate is not None and self._rng() >= record.rate:
                continue
            if record.remaining is not None:
                spent = self._store.spend_fault(record.fault_id)
                self._forget()  # its count changed (or it is gone): read it again next time
                if not spent:
                    continue
            if record.action == FaultAction.LATENCY.value:
                delay += (record.latency_ms or 0) / 1000
                continue
            if record.action == FaultAction.DROP.value:
                return Effect(delay, drop=True, fault_id=record.fault_id)
            return Effect(
                delay, error=ERROR_NAMES[record.error_code or ""], fault_id=record.fault_id
            )
        return Effect(delay) if delay else None

    # -- the cached list ------------------------------------------------------------------------
    def _current(self) -> list[FaultRecord]:
        cached = self._cached
        if cached is not None and self._clock.monotonic() - cached[0] < self._cache_seconds:
            return cached[1]
        return self._load()

    def reload(self) -> None:
        """Read the faults from the store now (another process may have changed them)."""
        self._load()

    def _load(self) -> list[FaultRecord]:
        records = self._store.list_faults()
        with self._lock:
            self._cached = (self._clock.monotonic(), records)
        return records

    def _forget(self) -> None:
        with self._lock:
            self._cached = None

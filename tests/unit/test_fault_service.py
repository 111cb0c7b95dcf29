"""The fault service on a real (SQLite) store: validation of what may be injected, matching by
service and operation, counts, rates and how several faults combine."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from connectfed.admin.faults import (
    Effect,
    ErrorKind,
    FaultNotFound,
    FaultService,
    FaultSpec,
    InvalidFault,
)
from connectfed.clock import FixedClock
from connectfed.store import StaticKey, Store, open_store

KNOWN = {("connect", "GetFederationToken"), ("sts", "AssumeRole"), ("cti", "GetAgentSnapshot")}


@pytest.fixture
def store() -> Iterator[Store]:
    backend = open_store("sqlite://", StaticKey(b"k" * 32))
    yield backend
    backend.close()


class Dice:
    def __init__(self, *rolls: float) -> None:
        self.rolls = list(rolls)

    def __call__(self) -> float:
        return self.rolls.pop(0)


def _service(store: Store, rng: Dice | None = None) -> FaultService:
    clock = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
    return FaultService(
        store, clock, lambda s, o: (s, o) in KNOWN, cache_seconds=60, rng=rng or Dice()
    )


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (FaultSpec("s3", error="ThrottlingException"), "service must be one of"),
        (
            FaultSpec("connect", "GetFederationTokens", error="ThrottlingException"),
            "no operation 'GetFederationTokens'",
        ),
        (FaultSpec("connect"), "exactly one of"),
        (FaultSpec("connect", error="ThrottlingException", drop=True), "exactly one of"),
        (FaultSpec("connect", error="AccessDeniedException"), "error must be one of"),
        (FaultSpec("connect", latency_ms=0), "latency_ms must be between"),
        (FaultSpec("connect", latency_ms=300_001), "latency_ms must be between"),
        (FaultSpec("connect", drop=True, count=0), "count must be between"),
        (FaultSpec("connect", drop=True, count=1, rate=0.5), "count or rate"),
        (FaultSpec("connect", drop=True, rate=0.0), "rate must be"),
        (FaultSpec("connect", drop=True, rate=1.5), "rate must be"),
        (FaultSpec("connect", drop=True, rate=float("nan")), "rate must be"),
    ],
)
def test_faults_that_cannot_be_injected_are_refused(
    store: Store, spec: FaultSpec, message: str
) -> None:
    with pytest.raises(InvalidFault, match=message):
        _service(store).add(spec)
    assert store.list_faults() == []


def test_a_counted_error_fires_for_the_next_calls_of_its_operation_only(store: Store) -> None:
    faults = _service(store)
    fault = faults.add(
        FaultSpec("connect", "GetFederationToken", error="ThrottlingException", count=2)
    )
    assert fault.count == 2 and fault.id.startswith("fault-")
    assert faults.effect("connect", "CreateUser") is None
    assert faults.effect("sts", "GetFederationToken") is None
    expected = Effect(error=ErrorKind.THROTTLING, fault_id=fault.id)
    assert faults.effect("connect", "GetFederationToken") == expected
    assert faults.list_faults()[0].count == 1
    assert faults.effect("connect", "GetFederationToken") == expected
    assert faults.effect("connect", "GetFederationToken") is None
    assert faults.list_faults() == []


def test_a_fault_without_operation_matches_every_operation_of_its_service(store: Store) -> None:
    faults = _service(store)
    fault = faults.add(FaultSpec("sts", error="InternalFailure"))
    for operation in ("AssumeRole", "GetCallerIdentity", "AssumeRoleWithSAML"):
        assert faults.effect("sts", operation) == Effect(
            error=ErrorKind.INTERNAL, fault_id=fault.id
        )
    assert faults.effect("iam", "CreateUser") is None


def test_a_rate_fires_for_that_share_of_calls(store: Store) -> None:
    faults = _service(store, Dice(0.1, 0.5, 0.29, 0.3))
    fault = faults.add(FaultSpec("connect", drop=True, rate=0.3))
    outcomes = [faults.effect("connect", "GetFederationToken") for _ in range(4)]
    assert outcomes == [
        Effect(drop=True, fault_id=fault.id),
        None,
        Effect(drop=True, fault_id=fault.id),
        None,
    ]


def test_latencies_add_up_and_the_oldest_error_or_drop_wins(store: Store) -> None:
    faults = _service(store)
    faults.add(FaultSpec("cti", latency_ms=200))
    faults.add(FaultSpec("cti", "GetAgentSnapshot", latency_ms=50, count=1))
    drop = faults.add(FaultSpec("cti", "GetAgentSnapshot", drop=True, count=1))
    faults.add(FaultSpec("cti", error="ThrottlingException"))
    assert faults.effect("cti", "GetAgentSnapshot") == Effect(0.25, drop=True, fault_id=drop.id)
    second = faults.effect("cti", "GetAgentSnapshot")
    assert second is not None and second.delay_seconds == 0.2
    assert second.error is ErrorKind.THROTTLING


def test_faults_are_removed_one_by_one_or_all_at_once(store: Store) -> None:
    faults = _service(store)
    first = faults.add(FaultSpec("iam", latency_ms=10))
    faults.add(FaultSpec("iam", latency_ms=20))
    faults.remove(first.id)
    with pytest.raises(FaultNotFound):
        faults.remove(first.id)
    assert [f.latency_ms for f in faults.list_faults()] == [20]
    assert faults.clear() == 1
    assert faults.effect("iam", "CreateUser") is None

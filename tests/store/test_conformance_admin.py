"""The storage conformance suite, admin part: the shared clock offset and injected faults,
with counted faults spent exactly N times by racing servers (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from connectfed.store import Conflict, Store
from connectfed.store.admin_records import FaultRecord
from tests.store.conftest import open_test_store
from tests.store.test_conformance_tokens import _race


def _fault(
    fault_id: str,
    remaining: int | None = 2,
    created: float = 1.0,
    operation: str | None = "GetFederationToken",
) -> FaultRecord:
    return FaultRecord(
        fault_id,
        "connect",
        operation,
        "error",
        "ThrottlingException",
        None,
        remaining,
        None,
        created,
    )


def test_the_clock_offset_starts_at_zero_and_is_set_and_advanced(store: Store) -> None:
    assert store.clock_offset() == 0.0
    assert store.advance_clock(90) == 90.0
    assert store.advance_clock(-30.5) == 59.5
    assert store.clock_offset() == 59.5
    assert store.set_clock_offset(-7200) == -7200.0
    assert store.clock_offset() == -7200.0


def test_concurrent_advances_all_count(store_url: str) -> None:
    _race(store_url, 6, lambda s: s.advance_clock(10) > 0)
    check = open_test_store(store_url)
    try:
        assert check.clock_offset() == 60.0
    finally:
        check.close()


def test_faults_are_listed_oldest_first_and_deleted(store: Store) -> None:
    store.add_fault(_fault("f-b", created=2.0))
    store.add_fault(_fault("f-a", remaining=None, created=1.0, operation=None))
    assert [f.fault_id for f in store.list_faults()] == ["f-a", "f-b"]
    assert store.list_faults()[0] == _fault("f-a", remaining=None, created=1.0, operation=None)
    with pytest.raises(Conflict):
        store.add_fault(_fault("f-a"))
    assert store.delete_fault("f-a") is True
    assert store.delete_fault("f-a") is False
    store.add_fault(_fault("f-c"))
    assert store.clear_faults() == 2
    assert store.list_faults() == []


def test_a_counted_fault_is_spent_then_gone(store: Store) -> None:
    store.add_fault(_fault("f-1", remaining=2))
    assert store.spend_fault("f-1") is True
    assert store.list_faults()[0].remaining == 1
    assert store.spend_fault("f-1") is True
    assert store.list_faults() == []
    assert store.spend_fault("f-1") is False


def test_an_uncounted_fault_fires_while_it_exists(store: Store) -> None:
    store.add_fault(_fault("f-1", remaining=None))
    assert store.spend_fault("f-1") is True
    assert store.spend_fault("f-1") is True
    assert store.list_faults()[0].remaining is None
    store.delete_fault("f-1")
    assert store.spend_fault("f-1") is False


def test_a_counted_fault_has_exactly_count_winners_across_connections(
    store: Store, store_url: str
) -> None:
    store.add_fault(_fault("f-race", remaining=3))
    results = _race(store_url, 8, lambda s: s.spend_fault("f-race"))
    assert sorted(results) == [False] * 5 + [True] * 3
    assert store.list_faults() == []

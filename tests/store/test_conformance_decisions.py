"""The storage conformance suite, decisions part: explanations of denied requests kept by
request id, replaced by a later one, hidden once expired, and collected (SQLite, PostgreSQL)."""

from __future__ import annotations

from connectfed.store import Store
from connectfed.store.records import DecisionRecord


def _record(
    request_id: str,
    created: float = 10.0,
    expires: float = 100.0,
    document: str = '{"why":"denied"}',
) -> DecisionRecord:
    return DecisionRecord(request_id, created, expires, document)


def test_a_decision_is_read_back_by_request_id(store: Store) -> None:
    store.put_decision(_record("r-1"))
    assert store.get_decision("r-1", now=50.0) == _record("r-1")
    assert store.get_decision("r-2", now=50.0) is None


def test_a_later_decision_for_the_same_request_replaces_the_first(store: Store) -> None:
    store.put_decision(_record("r-1", document='{"step":1}'))
    store.put_decision(_record("r-1", created=11.0, expires=111.0, document='{"step":2}'))
    assert store.get_decision("r-1", now=50.0) == _record("r-1", 11.0, 111.0, '{"step":2}')


def test_an_expired_decision_is_not_returned(store: Store) -> None:
    store.put_decision(_record("r-1", expires=100.0))
    assert store.get_decision("r-1", now=100.0) is None
    assert store.get_decision("r-1", now=99.0) is not None


def test_gc_deletes_expired_decisions_and_keeps_only_the_newest(store: Store) -> None:
    store.put_decision(_record("old", created=1.0, expires=20.0))
    for index in range(5):
        store.put_decision(_record(f"r-{index}", created=10.0 + index, expires=1000.0))
    removed = store.gc_decisions(now=50.0, keep_at_most=3)
    assert removed == 3  # the expired one and the two oldest beyond the bound
    kept = [f"r-{i}" for i in range(5) if store.get_decision(f"r-{i}", now=50.0)]
    assert kept == ["r-2", "r-3", "r-4"]
    assert store.get_decision("old", now=10.0) is None
    assert store.gc_decisions(now=50.0, keep_at_most=3) == 0

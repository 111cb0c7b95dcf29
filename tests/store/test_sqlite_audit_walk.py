"""SQLite: LookupEvents' walk reads its index alone (migration 16). The index holds every
attribute a lookup tests, so a rare value is searched for without reading any event's row (each
~1.6 KB with its document: at 200,000 events, ~0.2 s a page against ~25 ms, bench.audit_trail).
The statement is the one ``sql_audit.py`` runs for a lookup by each attribute."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectfed.store import StaticKey, open_store

WALK = (
    "SELECT e.event_id FROM audit_events e WHERE e.account_id = ? AND {test}"
    " AND e.event_time >= ? AND e.event_time <= ?"
    " AND (e.position < ? OR (e.position = ? AND e.event_id < ?))"
    " ORDER BY e.position DESC, e.event_id DESC LIMIT ?"
)


@pytest.mark.parametrize(
    "column", ["event_name", "username", "event_source", "access_key_id", "read_only"]
)
def test_a_lookup_walks_the_covering_index_in_order(tmp_path: Path, column: str) -> None:
    store = open_store(f"sqlite://{tmp_path / 'db.sqlite'}", StaticKey(b"k" * 32, "test"))
    try:
        database = store._db  # type: ignore[attr-defined]
        plan = database.query(
            "EXPLAIN QUERY PLAN " + WALK.format(test=f"e.{column} = ?"),
            ("1", "v", 0.0, 1.0, 1.0, 1.0, "x", 51),
        )
        details = [str(row[-1]) for row in plan]
        assert any("USING COVERING INDEX audit_events_order" in d for d in details), details
        assert not any("TEMP B-TREE" in d for d in details), details  # no sort
    finally:
        store.close()

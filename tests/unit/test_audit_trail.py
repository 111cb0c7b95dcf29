"""The audit trail's writer and retention, on a real SQLite store with a fixed clock: events are
stamped with the request they belong to, stored in batches when flushed (and at close), kept
for the retention period and up to the count bound, and a full queue drops the oldest."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectfed.audit.events import Actor as AuditActor
from connectfed.audit.events import AuditEvent, EventName, EventSource, IdentityType
from connectfed.audit.trail import AuditTrail, new_event_id
from connectfed.clock import FixedClock
from connectfed.request_scope import RequestScope, entered
from connectfed.store import Store, Unavailable, open_store
from connectfed.store.audit_records import AuditQuery

ACCOUNT = "123456789012"
HOUR = 3600.0


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    backend = open_store(f"sqlite://{tmp_path / 'audit.db'}")
    yield backend
    backend.close()


def _event(username: str) -> AuditEvent:
    actor = AuditActor(
        IdentityType.IAM_USER,
        ACCOUNT,
        f"arn:aws:iam::{ACCOUNT}:user/{username}",
        user_name=username,
    )
    return AuditEvent(EventName.GET_FEDERATION_TOKEN, EventSource.CONNECT, actor)


def _trail(store: Store, clock: FixedClock, **kw: float) -> AuditTrail:
    # A writer that never wakes on its own within a test: only flush() and close() store.
    return AuditTrail(
        store, clock, region="eu-west-1", account_id=ACCOUNT, flush_interval_seconds=3600, **kw
    )  # type: ignore[arg-type]


def _usernames(store: Store) -> list[str | None]:
    return [r.username for r in store.lookup_audit_events(AuditQuery(ACCOUNT, 100))]


def test_events_are_stamped_with_their_request_and_stored_when_flushed(store: Store) -> None:
    clock = FixedClock(datetime(2026, 3, 1, 12, 0, 0, 250000, tzinfo=UTC))
    trail = _trail(store, clock)
    scope = RequestScope("req-1", source_ip="192.0.2.7", user_agent="aws-cli/2")
    with entered(scope):
        trail.record(_event("alice"))
    assert scope.audited is True
    assert _usernames(store) == []  # queued, not yet written
    trail.flush()
    (stored,) = store.lookup_audit_events(AuditQuery(ACCOUNT, 10))
    record = json.loads(stored.document)
    assert (record["requestID"], record["sourceIPAddress"], record["userAgent"]) == (
        "req-1",
        "192.0.2.7",
        "aws-cli/2",
    )
    assert record["eventTime"] == "2026-03-01T12:00:00Z" and stored.event_time % 1 == 0
    assert record["awsRegion"] == "eu-west-1" and record["eventID"] == stored.event_id
    trail.close()


def test_close_stores_what_is_queued(store: Store) -> None:
    trail = _trail(store, FixedClock(datetime(2026, 3, 1, tzinfo=UTC)))
    trail.record(_event("bob"))
    trail.close()
    assert _usernames(store) == ["bob"]


def test_retention_by_age_and_by_count(store: Store) -> None:
    clock = FixedClock(datetime(2026, 3, 1, tzinfo=UTC))
    trail = _trail(store, clock, retention_days=1, max_events=2, gc_interval_seconds=HOUR)
    trail.record(_event("old"))
    trail.flush()
    clock.advance(25 * HOUR)
    for name in ("a", "b", "c"):
        clock.advance(1)
        trail.record(_event(name))
    trail.flush()  # the gc interval passed: "old" is past retention, "a" beyond the count
    assert _usernames(store) == ["c", "b"]
    trail.close()


def test_a_full_queue_drops_the_oldest(store: Store) -> None:
    clock = FixedClock(datetime(2026, 3, 1, tzinfo=UTC))
    trail = _trail(store, clock, max_pending=2)
    for name in ("first", "second", "third"):
        clock.advance(1)
        trail.record(_event(name))
    trail.close()
    assert _usernames(store) == ["third", "second"]


def test_an_event_keeps_the_time_it_was_recorded_at_not_the_time_it_was_written(
    store: Store,
) -> None:
    clock = FixedClock(datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC))
    trail = _trail(store, clock)
    trail.record(_event("alice"))
    clock.advance(HOUR)  # the writer stamps later: the record still says when it happened
    trail.flush()
    (stored,) = store.lookup_audit_events(AuditQuery(ACCOUNT, 10))
    assert json.loads(stored.document)["eventTime"] == "2026-03-01T12:00:00Z"
    assert stored.position == datetime(2026, 3, 1, 12, tzinfo=UTC).timestamp()
    trail.close()


def test_event_ids_are_time_ordered_version_7_uuids() -> None:
    start = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
    ids = [new_event_id(start + timedelta(milliseconds=n)) for n in range(0, 3000, 3)]
    assert all(uuid.UUID(i).version == 7 and str(uuid.UUID(i)) == i for i in ids)
    assert all(uuid.UUID(i).variant == uuid.RFC_4122 for i in ids)
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert ids[0].startswith(f"{int(start.timestamp() * 1000):012x}"[:8])
    same_moment = {new_event_id(start) for _ in range(1000)}
    assert len(same_moment) == 1000  # 74 random bits apart


def test_an_event_that_cannot_be_written_is_logged_and_the_others_are_stored(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FixedClock(datetime(2026, 3, 1, tzinfo=UTC))
    trail = _trail(store, clock)
    broken = replace(_event("broken"), parameters={"Unencodable": {1, 2}})  # a set: not JSON
    for event in (_event("before"), broken, _event("after")):
        clock.advance(1)
        trail.record(event)  # recording never fails the call it records
    trail.close()
    assert _usernames(store) == ["after", "before"]
    assert "could not record audit event GetFederationToken" in caplog.text


class _Outage:
    """The store, but unavailable (as a database that is down) while ``down`` is set."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.down = False

    def put_audit_events(self, records: object) -> None:
        if self.down:
            raise Unavailable("PostgreSQL is unavailable: no connection within 5 s")
        self._store.put_audit_events(records)  # type: ignore[arg-type]

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)


def test_events_the_database_cannot_take_are_stored_once_it_is_back(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """A database outage loses no event: those it could not take are kept and stored first
    when it is back, and the outage is one warning line, not a traceback per batch."""
    clock = FixedClock(datetime(2026, 3, 1, tzinfo=UTC))
    outage = _Outage(store)
    trail = _trail(outage, clock)  # type: ignore[arg-type]
    outage.down = True
    for name in ("first", "second"):
        clock.advance(1)
        trail.record(_event(name))
        trail.flush()
    assert _usernames(store) == []
    assert "Traceback" not in caplog.text and not any(r.exc_info for r in caplog.records)
    assert "audit events kept to store later" in caplog.text
    outage.down = False
    clock.advance(1)
    trail.record(_event("third"))
    trail.close()
    assert _usernames(store) == ["third", "second", "first"]


class _RefusesOne:
    """The store, but refusing every batch holding a record of user ``refused`` (as PostgreSQL
    refuses a whole statement for one value it cannot hold)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def put_audit_events(self, records: list[Any]) -> None:
        if any(record.username == "refused" for record in records):
            raise ValueError("text fields cannot contain NUL (0x00) bytes")
        self._store.put_audit_events(records)

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)


def test_a_record_the_database_refuses_loses_only_itself_not_its_batch(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FixedClock(datetime(2026, 3, 1, tzinfo=UTC))
    trail = _trail(_RefusesOne(store), clock)  # type: ignore[arg-type]
    for name in ("before", "refused", "after"):
        clock.advance(1)
        trail.record(_event(name))
    trail.close()
    assert _usernames(store) == ["after", "before"]
    assert "could not store 1 audit event" in caplog.text

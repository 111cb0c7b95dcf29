"""The storage conformance suite, audit part: events kept with their resources, looked up by
every attribute and by time (both ends inclusive), newest first, paged by cursor, pruned by age
and by count, one account never seeing another's (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from connectfed.store import Conflict, Store
from connectfed.store.audit_records import (
    AuditAttribute,
    AuditCursor,
    AuditQuery,
    AuditRecord,
    AuditResource,
)

ACCOUNT = "111122223333"


def _event(
    event_id: str,
    position: float,
    name: str = "GetFederationToken",
    account: str = ACCOUNT,
    username: str | None = "agent1",
    source: str = "connect.amazonaws.com",
    key: str | None = "ASIAEXAMPLE",
    read_only: bool = False,
    resources: tuple[AuditResource, ...] = (),
) -> AuditRecord:
    return AuditRecord(
        event_id,
        account,
        float(int(position)),
        position,
        name,
        source,
        username,
        key,
        read_only,
        resources,
        f'{{"eventID":"{event_id}"}}',
    )


def _ids(records: list[AuditRecord]) -> list[str]:
    return [r.event_id for r in records]


def _query(**kw: object) -> AuditQuery:
    kw.setdefault("account_id", ACCOUNT)
    kw.setdefault("limit", 50)
    return AuditQuery(**kw)  # type: ignore[arg-type]


@pytest.fixture
def history(store: Store) -> Store:
    instance = AuditResource("AWS::Connect::Instance", "arn:aws:connect:us-east-1:1:instance/i")
    role = AuditResource("AWS::IAM::Role", "arn:aws:iam::1:role/Agents")
    store.put_audit_events([_event("e1", 100.25, resources=(instance,))])
    store.put_audit_events(
        [
            _event(
                "e2",
                101.5,
                name="AssumeRoleWithSAML",
                username="alice",
                source="sts.amazonaws.com",
                key=None,
                resources=(role,),
            )
        ]
    )
    store.put_audit_events(
        [
            _event(
                "e3", 102.75, name="ListUsers", read_only=True, key="AKIAEXAMPLE", username="admin"
            )
        ]
    )
    store.put_audit_events([_event("e4", 103.0, resources=(instance, role))])
    store.put_audit_events([_event("x1", 102.0, account="999999999999")])
    return store


def test_events_come_back_whole_newest_first(history: Store) -> None:
    found = history.lookup_audit_events(_query())
    assert _ids(found) == ["e4", "e3", "e2", "e1"]
    newest = found[0]
    assert newest == _event("e4", 103.0, resources=newest.resources)
    assert set(newest.resources) == {
        AuditResource("AWS::Connect::Instance", "arn:aws:connect:us-east-1:1:instance/i"),
        AuditResource("AWS::IAM::Role", "arn:aws:iam::1:role/Agents"),
    }
    assert found[1].read_only is True and found[1].resources == ()


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        (AuditAttribute.EVENT_ID, "e2", ["e2"]),
        (AuditAttribute.EVENT_NAME, "GetFederationToken", ["e4", "e1"]),
        (AuditAttribute.USERNAME, "alice", ["e2"]),
        (AuditAttribute.EVENT_SOURCE, "sts.amazonaws.com", ["e2"]),
        (AuditAttribute.ACCESS_KEY_ID, "AKIAEXAMPLE", ["e3"]),
        (AuditAttribute.READ_ONLY, "true", ["e3"]),
        (AuditAttribute.READ_ONLY, "false", ["e4", "e2", "e1"]),
        (AuditAttribute.RESOURCE_NAME, "arn:aws:iam::1:role/Agents", ["e4", "e2"]),
        (AuditAttribute.RESOURCE_TYPE, "AWS::Connect::Instance", ["e4", "e1"]),
        (AuditAttribute.EVENT_NAME, "NoSuchEvent", []),
    ],
)
def test_lookup_by_each_attribute(
    history: Store, key: AuditAttribute, value: str, expected: list[str]
) -> None:
    assert _ids(history.lookup_audit_events(_query(attribute=(key, value)))) == expected


def test_time_range_is_inclusive_at_both_ends_in_whole_seconds(history: Store) -> None:
    assert _ids(history.lookup_audit_events(_query(start=101.0, end=102.0))) == ["e3", "e2"]
    assert _ids(history.lookup_audit_events(_query(start=103.0))) == ["e4"]
    assert _ids(history.lookup_audit_events(_query(end=100.0))) == ["e1"]


def test_pages_follow_the_cursor_without_gaps_or_repeats(history: Store) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        page = history.lookup_audit_events(_query(limit=2, cursor=cursor))
        seen += _ids(page)
        if len(page) < 2:
            break
        cursor = AuditCursor(page[-1].position, page[-1].event_id)
    assert seen == ["e4", "e3", "e2", "e1"]


def test_events_at_the_same_instant_page_by_event_id(store: Store) -> None:
    for event_id in ("a", "c", "b"):
        store.put_audit_events([_event(event_id, 50.0)])
    first = store.lookup_audit_events(_query(limit=2))
    assert _ids(first) == ["c", "b"]
    rest = store.lookup_audit_events(_query(limit=2, cursor=AuditCursor(50.0, "b")))
    assert _ids(rest) == ["a"]


def test_an_event_id_is_kept_once_and_a_batch_is_all_or_nothing(store: Store) -> None:
    store.put_audit_events([_event("dup", 1.0)])
    with pytest.raises(Conflict):
        store.put_audit_events([_event("new", 3.0), _event("dup", 2.0)])
    assert _ids(store.lookup_audit_events(_query())) == ["dup"]
    store.put_audit_events([])
    store.put_audit_events([_event("b1", 4.0), _event("b2", 5.0)])
    assert _ids(store.lookup_audit_events(_query())) == ["b2", "b1", "dup"]


def test_gc_deletes_by_age_then_by_count_with_their_resources(history: Store) -> None:
    assert history.gc_audit_events(before=101.0, keep=0) == 1  # e1: older than 101
    assert _ids(history.lookup_audit_events(_query())) == ["e4", "e3", "e2"]
    # Keep the newest two of all accounts: e4 and e3 stay; x1 (102.0) and e2 (101.5) go.
    assert history.gc_audit_events(before=0.0, keep=2) == 2
    assert _ids(history.lookup_audit_events(_query())) == ["e4", "e3"]
    assert history.lookup_audit_events(_query(account_id="999999999999")) == []
    by_role = (AuditAttribute.RESOURCE_NAME, "arn:aws:iam::1:role/Agents")
    assert _ids(history.lookup_audit_events(_query(attribute=by_role))) == ["e4"]
    assert history.gc_audit_events(before=0.0, keep=5) == 0


def test_a_resource_on_many_events_pages_like_one_on_few(store: Store) -> None:
    """A resource name is looked up by its own index when few events name it, by the walk when
    many do (more than a page's worth of reading): both page, bound by time and stay in their
    account alike."""
    common = AuditResource("AWS::Connect::Instance", "arn:aws:connect:us-east-1:1:instance/many")
    rare = AuditResource("AWS::Connect::User", "arn:aws:connect:us-east-1:1:instance/many/agent/a")
    store.put_audit_events(
        [_event(f"m{n:04d}", 1000.0 + n, resources=(common,)) for n in range(600)]
    )
    store.put_audit_events(
        [_event(f"r{n}", 1000.5 + 100 * n, resources=(common, rare)) for n in range(3)]
        + [_event("other", 1250.5, account="999999999999", resources=(common, rare))]
    )
    for resource, expected in (
        (common, sorted([f"m{n:04d}" for n in range(600)] + ["r0", "r1", "r2"], reverse=True)),
        (rare, ["r2", "r1", "r0"]),
    ):
        attribute = (AuditAttribute.RESOURCE_NAME, resource.resource_name)
        seen: list[str] = []
        cursor = None
        while True:
            page = store.lookup_audit_events(_query(limit=50, attribute=attribute, cursor=cursor))
            seen += _ids(page)
            if len(page) < 50:
                break
            cursor = AuditCursor(page[-1].position, page[-1].event_id)
        by_position = sorted(expected, key=_time)
        assert seen == list(reversed(by_position))
        ranged = store.lookup_audit_events(
            _query(limit=200, attribute=attribute, start=1100.0, end=1200.0)
        )
        assert _ids(ranged) == [i for i in reversed(by_position) if 1100 <= int(_time(i)) <= 1200]


def _time(event_id: str) -> float:
    number = int(event_id[1:])
    return 1000.5 + 100 * number if event_id[0] == "r" else 1000.0 + number

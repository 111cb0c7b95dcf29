"""The audit trail's store at scale, in process: what the writer pays per event
(``Store.put_audit_events`` in batches of 256, as the trail's writer stores them) and what a
``LookupEvents`` page costs (``Store.lookup_audit_events``, 51 rows: a page of 50 and the test
for a next one) with ``--events`` events in the table, for every lookup attribute with a rare
value (a few events or none) and a common one, and for a time range that ends long ago.

Events are shaped like the trail's: mostly GetFederationToken by a thousand agents (two
resources each, the instance and the agent), some AssumeRoleWithSAML (role and provider), a
few denied ListUsers (read-only, no resource), one event by a user seen once.

    .venv/bin/python -m bench.audit_trail [--events 200000] [--postgres postgresql://…/db]

The comparison (``--compare``, on by default) fills a second store alike whose walk index is
the narrow one of before migration 16 (account, position, event id: the lookups then read each
event's row to test its attributes), and alternates writes to the two stores: the ratio of
their CPU per event is what migration 16 adds to a write, and its lookups are printed beside.
CPU time is the steadier figure for writes on a busy machine; lookups are the median of
``--runs``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from connectfed.store import StaticKey, Store, open_store
from connectfed.store.audit_records import AuditAttribute, AuditQuery, AuditRecord, AuditResource

ACCOUNT = "123456789012"
INSTANCE = f"arn:aws:connect:us-east-1:{ACCOUNT}:instance/11111111-2222-3333-4444-555555555555"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/Agents"
PROVIDER = f"arn:aws:iam::{ACCOUNT}:saml-provider/Okta"
DOCUMENT = '{"eventVersion":"1.08","eventName":"GetFederationToken"' + ',"x":"' + "y" * 900 + '"}'
BATCH = 256
START = 1_700_000_000.0
# The walk index as it was before migration 16 (the comparison store's).
NARROW_WALK = (
    "DROP INDEX audit_events_order",
    "CREATE INDEX audit_events_order ON audit_events (account_id, position, event_id)",
)


def _event_id(index: int) -> str:
    """Time-ordered ids, as the trail's (version 7: the milliseconds lead)."""
    text = f"{int((START + index * 0.01) * 1000):012x}7{index:019x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def _record(index: int) -> AuditRecord:
    position = START + index * 0.01
    kind = index % 100
    if index == 1234:  # the one event of a user seen once
        name, source, user, key, read_only = (
            "GetFederationToken",
            "connect.amazonaws.com",
            "rare-user",
            "ASIARARE",
            False,
        )
        resources = (
            AuditResource("AWS::Connect::Instance", INSTANCE),
            AuditResource("AWS::Connect::User", f"{INSTANCE}/agent/rare"),
        )
    elif kind == 0:  # a denied ListUsers: read-only, IAM, no resource
        name, source, user, key, read_only = (
            "ListUsers",
            "iam.amazonaws.com",
            "auditor",
            "AKIAAUDITOR",
            True,
        )
        resources = ()
    elif kind < 4:
        name, source, user, key, read_only = (
            "AssumeRoleWithSAML",
            "sts.amazonaws.com",
            f"agent{index % 1000:04d}",
            None,
            False,
        )
        resources = (
            AuditResource("AWS::IAM::Role", ROLE),
            AuditResource("AWS::IAM::SAMLProvider", PROVIDER),
        )
    else:
        agent = index % 1000
        name, source, user, key, read_only = (
            "GetFederationToken",
            "connect.amazonaws.com",
            f"agent{agent:04d}",
            f"ASIA{index:016d}",
            False,
        )
        resources = (
            AuditResource("AWS::Connect::Instance", INSTANCE),
            AuditResource("AWS::Connect::User", f"{INSTANCE}/agent/{agent:04d}"),
        )
    return AuditRecord(
        _event_id(index),
        ACCOUNT,
        float(int(position)),
        position,
        name,
        source,
        user,
        key,
        read_only,
        resources,
        DOCUMENT,
    )


def fill(store: Store, events: int) -> tuple[float, float]:
    """Store ``events`` events in batches; returns (wall, CPU) microseconds per event."""
    wall, cpu = time.perf_counter(), time.process_time()
    for first in range(0, events, BATCH):
        store.put_audit_events([_record(i) for i in range(first, min(first + BATCH, events))])
    return (
        (time.perf_counter() - wall) / events * 1e6,
        (time.process_time() - cpu) / events * 1e6,
    )


def writes(store: Store, start: int, count: int) -> tuple[float, float]:
    """(wall, CPU) µs per event of ``count`` more events after ``start`` (the table's size)."""
    wall, cpu = time.perf_counter(), time.process_time()
    for first in range(start, start + count, BATCH):
        store.put_audit_events([_record(i) for i in range(first, first + BATCH)])
    return (
        (time.perf_counter() - wall) / count * 1e6,
        (time.process_time() - cpu) / count * 1e6,
    )


def lookups(events: int) -> Iterator[tuple[str, AuditQuery]]:
    def query(
        attribute: tuple[AuditAttribute, str] | None = None, end: float | None = None
    ) -> AuditQuery:
        return AuditQuery(ACCOUNT, 51, attribute, None, end)

    yield "no filter", query()
    yield "EventId (one)", query((AuditAttribute.EVENT_ID, _event_id(1234)))
    yield "Username (one)", query((AuditAttribute.USERNAME, "rare-user"))
    yield "Username (none)", query((AuditAttribute.USERNAME, "nobody"))
    yield "Username (1 in 1000)", query((AuditAttribute.USERNAME, "agent0007"))
    yield "EventName (none)", query((AuditAttribute.EVENT_NAME, "DeleteRole"))
    yield "EventName (1%)", query((AuditAttribute.EVENT_NAME, "ListUsers"))
    yield "EventSource (1%)", query((AuditAttribute.EVENT_SOURCE, "iam.amazonaws.com"))
    yield "AccessKeyId (one)", query((AuditAttribute.ACCESS_KEY_ID, "ASIARARE"))
    yield "ReadOnly true (1%)", query((AuditAttribute.READ_ONLY, "true"))
    yield "ResourceName (one)", query((AuditAttribute.RESOURCE_NAME, f"{INSTANCE}/agent/rare"))
    yield "ResourceName (common)", query((AuditAttribute.RESOURCE_NAME, INSTANCE))
    yield "ResourceType (3%)", query((AuditAttribute.RESOURCE_TYPE, "AWS::IAM::SAMLProvider"))
    yield "EndTime (first 1%)", query(end=START + events * 0.0001)


def _median_ms(store: Store, query: AuditQuery, runs: int) -> tuple[float, int]:
    times, found = [], 0
    for _ in range(runs):
        began = time.perf_counter()
        found = len(store.lookup_audit_events(query))
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000, found


def _narrow_walk(store: Store) -> None:
    database = store._db  # type: ignore[attr-defined]  # a benchmark's reach into the backend
    for statement in NARROW_WALK:
        database.execute(statement)


def _lookups(store: Store, events: int, runs: int) -> dict[str, tuple[float, int]]:
    return {label: _median_ms(store, query, runs) for label, query in lookups(events)}


def run(url: str, second_url: str | None, events: int, runs: int) -> None:
    key = StaticKey(b"b" * 32, "bench")
    store = open_store(url, key)
    print(f"{url.split('://')[0]}: {events} events")
    wall, cpu = fill(store, events)
    print(f"  fill: {wall:.1f} µs wall, {cpu:.1f} µs CPU per event")
    narrow = None
    if second_url is not None:
        narrow = open_store(second_url, key)
        _narrow_walk(narrow)
        fill(narrow, events)
    if url.startswith("postgres"):  # the statistics autovacuum keeps on a table in service
        for analysed in (store, narrow):
            if analysed is not None:
                analysed._db.execute("ANALYZE")  # type: ignore[attr-defined]
    found = _lookups(store, events, runs)
    before = _lookups(narrow, events, runs) if narrow is not None else {}
    print(f"  {'lookup (ms a page)':24} {'now':>9} {'narrow':>9}  rows")
    for label, (ms, rows) in found.items():
        old = f"{before[label][0]:9.3f}" if label in before else ""
        print(f"  {label:24} {ms:9.3f} {old:>9}  {rows}")
    if narrow is not None:
        # Alternate the two stores, batch by batch, so the machine's load falls on both alike.
        more, rounds = 20 * BATCH, 5
        covering, plain = [], []
        for round_ in range(rounds):
            start = events + round_ * more
            covering.append(writes(store, start, more))
            plain.append(writes(narrow, start, more))
        with_cpu = statistics.median(c for _, c in covering)
        without_cpu = statistics.median(c for _, c in plain)
        print(
            f"  write per event at {events}: {with_cpu:.1f} µs CPU now, {without_cpu:.1f}"
            f" with the narrow walk index: ratio {with_cpu / without_cpu:.2f}"
        )
        narrow.close()
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--postgres", help="an empty database; a second one is named *_narrow")
    parser.add_argument("--no-compare", action="store_true")
    args = parser.parse_args()
    if args.postgres:
        second = None if args.no_compare else args.postgres + "_narrow"
        run(args.postgres, second, args.events, args.runs)
        return
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        second = None if args.no_compare else f"sqlite://{base / 'narrow.db'}"
        run(f"sqlite://{base / 'trail.db'}", second, args.events, args.runs)


if __name__ == "__main__":
    main()

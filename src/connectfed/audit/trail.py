"""The audit trail: events stamped, written as CloudTrail records, kept for a bounded time.

Each recorded :class:`~connectfed.audit.events.AuditEvent` gets an ``eventID`` (a UUID), an
``eventTime`` (whole seconds, ISO 8601 UTC, as CloudTrail writes it), the Region, and from the
request being answered (:mod:`connectfed.request_scope`) its ``requestID`` — the
``x-amzn-RequestId`` the caller got — its ``sourceIPAddress`` and ``userAgent``. The record
follows "CloudTrail record contents" (eventVersion 1.08) so that tools reading CloudTrail's
``CloudTrailEvent`` strings read ours.

Writing is off the request's path. On it, :meth:`AuditTrail.record` takes only what the
request alone knows — the time (the server's clock of that moment, time travel included) and
the request's id, source address and User-Agent — and queues them with the event; a writer
thread turns what is queued into CloudTrail records (the event id, the JSON document) and stores
them in one transaction every ``flush_interval_seconds`` (0.2 s), or sooner when ``batch`` events
wait. The record is the one stamping on the request's path wrote (the same inputs, the same
code): only where its CPU is spent moved, out of the response's latency (issue 9). A write per
event on the request's path cost GetFederationToken two thirds of its throughput
(bench.federation_load, SQLite); batched, the cost is one commit per batch. ``LookupEvents``
flushes first, so a server always sees its own events; another server's appear within the
interval. The queue is bounded (``max_pending``: the oldest are dropped, with a warning, should
the store stall) and flushed when the server shuts down (:meth:`close`); a crash loses at most
one interval of events.

Event ids are UUIDs of RFC 9562's version 7 (:func:`new_event_id`): 48 bits of the event's
milliseconds, then 74 random bits. CloudTrail documents ``eventID`` as a GUID, nothing more;
a time-ordered one is what keeps the trail cheap to write. The id is the primary key of
``audit_events`` and leads that of ``audit_resources``: with version 4's random ids every event
went to a random leaf of those two B-trees, and the write cost per event grew with the table
(measured on SQLite, batches of 256 events with two resources each, CPU per event: ~45 µs at
first for both, ~100-150 µs for random ids by 15,000 events against ~45-65 µs for time-ordered
ones, which append at the right-hand end as family ids do, see :mod:`connectfed.tokens.format`).
The time an id embeds is the event's own ``eventTime``, already in the record: it tells nothing
more.

Retention is bounded twice (docs/compatibility.md, "Audit trail"): events older than the
retention period (CloudTrail's event history keeps 90 days) and all but the newest
``max_events`` are deleted, at most every ``gc_interval_seconds``, by the writer. Recording
never fails the call it records: a store error is logged and the batch is lost.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import threading
from collections import deque
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from connectfed import request_scope
from connectfed.audit.events import Actor, AuditEvent, IdentityType
from connectfed.audit.log import AuditObserver
from connectfed.clock import Clock, iso_second
from connectfed.store import Store, Unavailable
from connectfed.store.audit_records import AuditRecord, AuditResource

log = logging.getLogger("connectfed.audit")

EVENT_VERSION = "1.08"
DAY = 86400.0
_MILLIS = (1 << 48) - 1
_RAND_B = (1 << 62) - 1


def new_event_id(now: datetime) -> str:
    """A fresh UUID, version 7 (RFC 9562 §5.7): ``now`` in Unix milliseconds (48 bits), the
    version, 12 random bits, the variant, 62 random bits. Unique by its 74 random bits; ordered
    by time, so the trail's indexes grow at one end (see the module's docstring)."""
    millis = int(now.timestamp() * 1000) & _MILLIS
    rand = int.from_bytes(os.urandom(10), "big")  # 80 bits: 12 for rand_a, 62 for rand_b
    value = millis << 80 | 0x7 << 76 | (rand >> 68) << 64 | 0b10 << 62 | rand & _RAND_B
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


class _Pending(NamedTuple):
    """A recorded event with what only its request knew, waiting for the writer."""

    event: AuditEvent
    now: datetime
    request_id: str | None
    source_ip: str | None
    user_agent: str | None


def user_identity(actor: Actor) -> dict[str, Any]:
    """CloudTrail's ``userIdentity`` element for ``actor`` (absent fields left out)."""
    identity: dict[str, Any] = {"type": actor.type.value}
    for key, value in (
        ("principalId", actor.principal_id),
        ("arn", actor.arn),
        ("accountId", actor.account_id),
        ("accessKeyId", actor.access_key_id),
        ("userName", actor.user_name),
        ("identityProvider", actor.identity_provider),
    ):
        if value is not None:
            identity[key] = value
    if actor.type is IdentityType.ASSUMED_ROLE and actor.session_issuer_arn:
        issuer: dict[str, Any] = {"type": "Role"}
        if actor.session_issuer_id is not None:
            issuer["principalId"] = actor.session_issuer_id
        issuer["arn"] = actor.session_issuer_arn
        issuer["accountId"] = (
            actor.session_issuer_arn.split(":")[4]
            if actor.session_issuer_arn.count(":") >= 5
            else actor.account_id
        )
        issuer["userName"] = actor.session_issuer_arn.rsplit("/", 1)[-1]
        context: dict[str, Any] = {"sessionIssuer": issuer}
        if actor.session_created is not None:
            # No MFA ever reaches a session here (no sts:AssumeRole SerialNumber/TokenCode).
            context["attributes"] = {
                "creationDate": actor.session_created,
                "mfaAuthenticated": "false",
            }
        identity["sessionContext"] = context
    return identity


# Records are written compact (what json.dumps(..., separators=(",", ":")) does), by one encoder.
_JSON = json.JSONEncoder(separators=(",", ":"))


@functools.lru_cache(maxsize=1024)
def _identity(actor: Actor) -> dict[str, Any]:
    """:func:`user_identity` of an actor, made once per actor (a caller records many events);
    shared, so only ever encoded, never changed."""
    return user_identity(actor)


class AuditTrail:
    """The :class:`~connectfed.audit.log.AuditLog` services are given."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        region: str,
        account_id: str,
        retention_days: float = 90.0,
        max_events: int = 1_000_000,
        gc_interval_seconds: float = 300.0,
        flush_interval_seconds: float = 0.2,
        batch: int = 256,
        max_pending: int = 10_000,
        observers: Sequence[AuditObserver] = (),
    ) -> None:
        self._store = store
        self._clock = clock
        self._region = region
        self._account_id = account_id
        self._retention = retention_days * DAY
        self._max_events = max_events
        self._gc_interval = gc_interval_seconds
        self._flush_interval = flush_interval_seconds
        self._batch = batch
        self._observers = tuple(observers)
        self._next_gc = clock.monotonic()
        self._pending: deque[_Pending] = deque(maxlen=max_pending)
        # Records the store could not take (the database unavailable): stored first next time,
        # as many as the queue holds (the oldest dropped beyond).
        self._unstored: deque[AuditRecord] = deque(maxlen=max_pending)
        self._lock = threading.Lock()  # the queue
        self._write_lock = threading.Lock()  # one writer at a time, in order
        self._wake = threading.Event()
        self._stopped = False
        self._writer: threading.Thread | None = None

    def record(self, event: AuditEvent) -> None:
        """Queue ``event`` with the time and the request it belongs to; the writer stamps and
        stores it. ``event`` and its mappings are not changed afterwards (events are made for
        the call they record)."""
        scope = request_scope.current()
        try:
            pending = _Pending(
                event,
                self._clock.now(),
                scope.request_id if scope else None,
                scope.source_ip if scope else None,
                scope.user_agent if scope else None,
            )
        except Exception:
            log.exception("could not record audit event %s", event.name)
        else:
            with self._lock:
                if len(self._pending) == self._pending.maxlen:
                    log.warning("audit queue full: the oldest event is dropped")
                self._pending.append(pending)
                waiting = len(self._pending)
            if scope is not None:
                scope.audited = True
            self._start_writer()
            if waiting >= self._batch:
                self._wake.set()
        for observer in self._observers:
            try:
                observer.observe(event)
            except Exception:
                log.exception("audit observer failed on %s", event.name)

    def flush(self) -> None:
        """Store every queued event now (before a lookup, at shutdown). Events the database
        could not take (unavailable) are kept and stored first at the next flush."""
        with self._write_lock:
            if self._unstored and not self._store_records(list(self._unstored), retry=True):
                return
            self._unstored.clear()
            while True:
                with self._lock:
                    queued = [
                        self._pending.popleft() for _ in range(min(self._batch, len(self._pending)))
                    ]
                if not queued:
                    break
                if not self._store_records(self._stamped(queued)):
                    break
            self._collect()

    def _store_records(self, records: list[AuditRecord], retry: bool = False) -> bool:
        """Whether the database could be written to (records it refused are logged, not kept)."""
        try:
            self._store.put_audit_events(records)
        except Unavailable as exc:
            self._keep(records, retry, exc)
            return False
        except Exception:
            # One value the database cannot hold fails the whole statement: store the batch
            # one event at a time, so that only the refused event is lost, not its neighbours.
            for at, record in enumerate(records):
                try:
                    self._store.put_audit_events([record])
                except Unavailable as exc:
                    self._keep(records[at:], retry, exc)
                    return False
                except Exception:
                    log.exception("could not store 1 audit event (%s)", record.event_name)
        return True

    def _keep(self, records: list[AuditRecord], retry: bool, exc: Unavailable) -> None:
        """Keep ``records`` to store when the database is back. Those of a retry already are,
        as the tail of the kept ones: the kept ones before them are done with (stored, or
        refused)."""
        if retry:
            while len(self._unstored) > len(records):
                self._unstored.popleft()
            return
        dropped = max(0, len(self._unstored) + len(records) - (self._unstored.maxlen or 0))
        self._unstored.extend(records)
        log.warning(
            "%d audit events kept to store later (%d dropped): %s", len(records), dropped, exc
        )

    def _stamped(self, queued: Sequence[_Pending]) -> list[AuditRecord]:
        records = []
        for pending in queued:
            try:
                records.append(self._stamp(pending))
            except Exception:
                log.exception("could not record audit event %s", pending.event.name)
        return records

    def close(self) -> None:
        """Stop the writer and store what is queued (the server is shutting down)."""
        self._stopped = True
        self._wake.set()
        writer = self._writer
        if writer is not None:
            writer.join(timeout=10)
        self.flush()

    def _start_writer(self) -> None:
        if self._writer is not None or self._stopped:
            return
        with self._lock:
            if self._writer is None:
                self._writer = threading.Thread(
                    target=self._write_loop, daemon=True, name="connectfed-audit-writer"
                )
                self._writer.start()

    def _write_loop(self) -> None:
        while not self._stopped:
            self._wake.wait(self._flush_interval)
            self._wake.clear()
            self.flush()

    def _stamp(self, pending: _Pending) -> AuditRecord:
        event, now = pending.event, pending.now
        position = now.timestamp()
        second = int(position)
        source = event.source.value
        event_id = new_event_id(now)
        account = event.account_id or event.actor.account_id or self._account_id
        document: dict[str, Any] = {
            "eventVersion": EVENT_VERSION,
            "userIdentity": _identity(event.actor),
            "eventTime": iso_second(second),
            "eventSource": source,
            "eventName": event.name,
            "awsRegion": self._region,
            "sourceIPAddress": pending.source_ip,
            "userAgent": pending.user_agent,
        }
        if event.failure is not None:
            document["errorCode"] = event.failure.code
            document["errorMessage"] = event.failure.message
        document["requestParameters"] = dict(event.parameters) if event.parameters else None
        document["responseElements"] = dict(event.response) if event.response else None
        additional = dict(event.additional)
        if event.saml_rejection is not None:
            additional["SAMLRejectionReason"] = event.saml_rejection
        if additional:
            document["additionalEventData"] = additional
        document["requestID"] = pending.request_id
        document["eventID"] = event_id
        document["readOnly"] = event.read_only
        document["resources"] = [
            {"accountId": account, "type": r.type, "ARN": r.arn} for r in event.resources
        ]
        document["eventType"] = event.event_type.value
        document["managementEvent"] = True
        document["recipientAccountId"] = account
        document["eventCategory"] = "Management"
        return AuditRecord(
            event_id=event_id,
            account_id=account,
            event_time=float(second),
            position=position,
            event_name=event.name,
            event_source=source,
            username=event.username or event.actor.lookup_name,
            access_key_id=event.actor.access_key_id,
            read_only=event.read_only,
            resources=tuple(AuditResource(r.type, r.arn) for r in event.resources),
            document=_JSON.encode(document),
        )

    def _collect(self) -> None:
        """Delete what is past retention, at most once per interval (under the write lock)."""
        if self._clock.monotonic() < self._next_gc:
            return
        self._next_gc = self._clock.monotonic() + self._gc_interval
        try:
            before = self._clock.now().timestamp() - self._retention
            removed = self._store.gc_audit_events(before, self._max_events)
            if removed:
                log.info("audit trail: %d events past retention deleted", removed)
        except Unavailable as exc:  # the database is down: next interval
            log.warning("audit trail retention skipped: %s", exc)
        except Exception:
            log.exception("audit trail retention failed")

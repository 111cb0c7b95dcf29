"""The audit trail: events stamped, written as CloudTrail records, kept for a bounded time.

Each recorded :class:`~connectfed.audit.events.AuditEvent` gets an ``eventID`` (a UUID), an
``eventTime`` (whole seconds, ISO 8601 UTC, as CloudTrail writes it), the Region, and from the
request being answered (:mod:`connectfed.request_scope`) its ``requestID`` — the
``x-amzn-RequestId`` the caller got — its ``sourceIPAddress`` and ``userAgent``. The record
follows "CloudTrail record contents" (eventVersion 1.08) so that tools reading CloudTrail's
``CloudTrailEvent`` strings read ours.

Writing is off the request's path: a recorded event is stamped at once (in the request's
context) and queued; a writer thread stores the queue in one transaction every
``flush_interval_seconds`` (0.2 s), or sooner when ``batch`` events wait. A write per event on
the request's path cost GetFederationToken two thirds of its throughput (bench.federation_load,
SQLite); batched, the cost is one commit per batch. ``LookupEvents`` flushes first, so a server
always sees its own events; another server's appear within the interval. The queue is bounded
(``max_pending``: the oldest are dropped, with a warning, should the store stall) and flushed
when the server shuts down (:meth:`close`); a crash loses at most one interval of events.

Retention is bounded twice (docs/compatibility.md, "Audit trail"): events older than the
retention period (CloudTrail's event history keeps 90 days) and all but the newest
``max_events`` are deleted, at most every ``gc_interval_seconds``, by the writer. Recording
never fails the call it records: a store error is logged and the batch is lost.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections import deque
from collections.abc import Sequence
from typing import Any

from connectfed import request_scope
from connectfed.audit.events import Actor, AuditEvent, IdentityType
from connectfed.audit.log import AuditObserver
from connectfed.clock import Clock
from connectfed.store import Store
from connectfed.store.audit_records import AuditRecord, AuditResource

log = logging.getLogger("connectfed.audit")

EVENT_VERSION = "1.08"
DAY = 86400.0


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
        identity["sessionContext"] = {
            "sessionIssuer": {
                "type": "Role",
                "arn": actor.session_issuer_arn,
                "accountId": actor.session_issuer_arn.split(":")[4]
                if actor.session_issuer_arn.count(":") >= 5
                else actor.account_id,
                "userName": actor.session_issuer_arn.rsplit("/", 1)[-1],
            }
        }
    return identity


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
        self._pending: deque[AuditRecord] = deque(maxlen=max_pending)
        self._lock = threading.Lock()  # the queue
        self._write_lock = threading.Lock()  # one writer at a time, in order
        self._wake = threading.Event()
        self._stopped = False
        self._writer: threading.Thread | None = None

    def record(self, event: AuditEvent) -> None:
        try:
            stamped = self._stamp(event)
        except Exception:
            log.exception("could not record audit event %s", event.name)
        else:
            with self._lock:
                if len(self._pending) == self._pending.maxlen:
                    log.warning("audit queue full: the oldest event is dropped")
                self._pending.append(stamped)
                waiting = len(self._pending)
            scope = request_scope.current()
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
        """Store every queued event now (before a lookup, at shutdown)."""
        with self._write_lock:
            while True:
                with self._lock:
                    records = [
                        self._pending.popleft() for _ in range(min(self._batch, len(self._pending)))
                    ]
                if not records:
                    break
                try:
                    self._store.put_audit_events(records)
                except Exception:
                    log.exception("could not store %d audit events", len(records))
            self._collect()

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

    def _stamp(self, event: AuditEvent) -> AuditRecord:
        now = self._clock.now()
        scope = request_scope.current()
        event_id = str(uuid.uuid4())
        account = event.account_id or event.actor.account_id or self._account_id
        document: dict[str, Any] = {
            "eventVersion": EVENT_VERSION,
            "userIdentity": user_identity(event.actor),
            "eventTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "eventSource": event.source.value,
            "eventName": event.name,
            "awsRegion": self._region,
            "sourceIPAddress": scope.source_ip if scope else None,
            "userAgent": scope.user_agent if scope else None,
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
        document.update(
            {
                "requestID": scope.request_id if scope else None,
                "eventID": event_id,
                "readOnly": event.read_only,
                "resources": [
                    {"accountId": account, "type": r.type, "ARN": r.arn} for r in event.resources
                ],
                "eventType": event.event_type.value,
                "managementEvent": True,
                "recipientAccountId": account,
                "eventCategory": "Management",
            }
        )
        return AuditRecord(
            event_id=event_id,
            account_id=account,
            event_time=float(int(now.timestamp())),
            position=now.timestamp(),
            event_name=event.name,
            event_source=event.source.value,
            username=event.username or event.actor.lookup_name,
            access_key_id=event.actor.access_key_id,
            read_only=event.read_only,
            resources=tuple(AuditResource(r.type, r.arn) for r in event.resources),
            document=json.dumps(document, separators=(",", ":")),
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
        except Exception:
            log.exception("audit trail retention failed")

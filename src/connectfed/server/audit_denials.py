"""The edge observer that records denied API calls in the audit trail once their response is
sent (:func:`connectfed.audit.denials.denial_event` decides which). Recording only stamps the
event and queues it (the audit trail's writer thread stores it), so it runs on the event loop."""

from __future__ import annotations

from connectfed.audit.denials import denial_event
from connectfed.audit.log import AuditLog
from connectfed.request_scope import RequestScope
from connectfed.server.edge import Observer, Scope


def audit_denials(audit: AuditLog) -> Observer:
    def observe(observed: RequestScope, scope: Scope, status: int, seconds: float) -> None:
        event = denial_event(observed)
        if event is not None:
            audit.record(event)

    return observe

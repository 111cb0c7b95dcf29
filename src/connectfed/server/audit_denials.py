"""The edge middleware that records denied API calls in the audit trail once their response
is sent (:func:`connectfed.audit.denials.denial_event` decides which), off the event loop."""

from __future__ import annotations

from connectfed.audit.denials import denial_event
from connectfed.audit.log import AuditLog
from connectfed.offload import Offload
from connectfed.server.edge import ASGIApp, Receive, Scope, Send
from connectfed.server.observe import scope_of


def audit_denials(audit: AuditLog, offload: Offload) -> type:
    class AuditDenials:
        def __init__(self, app: ASGIApp) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            await self.app(scope, receive, send)
            observed = scope_of(scope) if scope["type"] == "http" else None
            event = None if observed is None else denial_event(observed)
            if event is None:
                return
            await offload.run(audit.record, event)

    return AuditDenials

"""The edge middleware that records denied API calls in the audit trail once their response
is sent (:func:`connectfed.audit.denials.denial_event` decides which), in a worker thread when
the store wants its calls off the event loop."""

from __future__ import annotations

import asyncio

from connectfed.audit.denials import denial_event
from connectfed.audit.log import AuditLog
from connectfed.server.edge import ASGIApp, Receive, Scope, Send
from connectfed.server.observe import scope_of


def audit_denials(audit: AuditLog, inline: bool) -> type:
    class AuditDenials:
        def __init__(self, app: ASGIApp) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            await self.app(scope, receive, send)
            observed = scope_of(scope) if scope["type"] == "http" else None
            event = None if observed is None else denial_event(observed)
            if event is None:
                return
            if inline:
                audit.record(event)
            else:
                await asyncio.to_thread(audit.record, event)

    return AuditDenials

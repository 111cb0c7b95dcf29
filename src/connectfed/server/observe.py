"""The edge middleware that opens each HTTP request's
:class:`~connectfed.request_scope.RequestScope` (its id, the connection's peer address, the
User-Agent) for everything after it: the dispatcher notes the operation, principal and error
there, the audit trail stamps its events with it, and the request log, metrics and denial audit
read it once the response is sent.

It must come before those in ``build_edge``'s list. The peer address is the connection's own
(uvicorn runs with proxy headers off), never a client-supplied ``X-Forwarded-For``.
"""

from __future__ import annotations

from connectfed.request_scope import STATE_KEY, RequestScope, entered
from connectfed.server.edge import ASGIApp, Receive, Scope, Send, request_id_of

MAX_USER_AGENT = 256


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return str(value.decode("latin-1"))[:MAX_USER_AGENT]
    return None


def scope_of(scope: Scope) -> RequestScope | None:
    """The request's scope, as :class:`ObserveRequest` opened it (None when it did not)."""
    found = scope.get("state", {}).get(STATE_KEY)
    return found if isinstance(found, RequestScope) else None


class ObserveRequest:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        opened = RequestScope(
            request_id_of(scope),
            source_ip=(scope.get("client") or (None, None))[0],
            user_agent=_header(scope, b"user-agent"),
        )
        scope["state"][STATE_KEY] = opened
        with entered(opened):
            await self.app(scope, receive, send)

"""The ASGI edge: a short chain of small middlewares around :class:`connectfed.app.ConnectfedApp`,
composed in one place (:func:`build_edge`), as Starlette composes its middleware.

Each middleware is a plain ASGI app wrapping the next one and does one thing for every request:
give it its request id, time it, count it, log it, inject faults. New cross-cutting concerns are
added as a module beside this one and one entry in :func:`build_edge`, never as another branch
inside the app's ``__call__``.

The request id is chosen here, first, and travels in ``scope["state"]["request_id"]``: the app
answers with it in ``x-amzn-RequestId`` (AWS's header, on every response, errors included), and
everything that records the request (logs, metrics, audit, policy explanations) uses the same id.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Middleware = Callable[[ASGIApp], ASGIApp]

REQUEST_ID_HEADER = b"x-amzn-requestid"
# An ASGI scope extension (``scope["extensions"]``) that ``connectfed serve``'s protocol
# (server/protocol.py) offers: a callable closing the connection at once, with no answer sent.
ABORT_EXTENSION = "connectfed.abort"


def request_id_of(scope: Scope) -> str:
    """The id :class:`RequestId` gave this request (a fresh one when the app runs bare)."""
    state = scope.setdefault("state", {})
    request_id = state.get("request_id")
    if request_id is None:
        request_id = state["request_id"] = str(uuid.uuid4())
    return str(request_id)


def send_with_request_id(send: Send, request_id: str) -> Send:
    """``send`` adding ``x-amzn-RequestId: <request_id>`` to a response that lacks it."""
    encoded = request_id.encode()

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            if not any(name.lower() == REQUEST_ID_HEADER for name, _ in headers):
                headers.append((b"x-amzn-RequestId", encoded))
            message["headers"] = headers
        await send(message)

    return sending


class ResponseStatus:
    """Wraps ``send`` to remember the status the response started with (500 until then: a
    request that ends without a response counts as failed), for middlewares that measure."""

    def __init__(self, send: Send) -> None:
        self.status = 500
        self._send = send

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
        await self._send(message)


class RequestId:
    """Gives each HTTP request its id before anything else sees it (the app writes the header,
    so it carries one even when run bare, as in-process tests do)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            request_id_of(scope)
        await self.app(scope, receive, send)


def build_edge(app: ASGIApp, middleware: Sequence[Middleware] = ()) -> ASGIApp:
    """``app`` wrapped in the edge chain: :class:`RequestId` outermost, then ``middleware`` in
    order (the first listed sees the request first)."""
    layers: list[Middleware] = [RequestId, *middleware]
    wrapped = app
    for layer in reversed(layers):
        wrapped = layer(wrapped)
    return wrapped

"""The ASGI edge: what every HTTP request goes through before the app, in one place.

:class:`Edge` gives each request its id and opens its :class:`~connectfed.request_scope.
RequestScope` (the id, the connection's peer address, the User-Agent), answers the few paths
that belong to the edge itself (``routes``: the metrics endpoint, the admin API's paths while
it is off), runs the request through the
middleware chain and the app, and once the response is sent hands what happened (the scope as
the dispatcher filled it in, the status, the time taken) to each **observer**: the metrics, the
structured request log, the audit trail of API calls (denials included).

Two kinds of extension, composed in :func:`build_edge`, never as branches inside the app:

* an **observer** is a plain function called after the response, on the event loop; it must not
  block (the audit trail queues, the metrics count, the log formats). Observers cost one call
  per request, where each nested ASGI middleware cost a coroutine frame and a wrapped ``send``
  for every message: four such layers took half the health endpoint's throughput.
* a **middleware** is an ASGI app wrapping the next one, for what must act around the app
  (with the admin API on: its routes, injected latency and dropped connections, the shifted
  ``Date``, the explain route).

The request id travels in ``scope["state"]["request_id"]``: the app answers with it in
``x-amzn-RequestId`` (AWS's header, on every response, errors included), and everything that
records the request (logs, metrics, audit, policy explanations) uses the same id. The peer
address is the connection's own (uvicorn runs with proxy headers off), never a client-supplied
``X-Forwarded-For``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from typing import Any

from connectfed import request_scope, uuids
from connectfed.request_scope import STATE_KEY, RequestScope

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Middleware = Callable[[ASGIApp], ASGIApp]
# (the request's scope as filled in, the ASGI scope, the status sent, seconds taken)
Observer = Callable[[RequestScope, Scope, int, float], None]

log = logging.getLogger("connectfed.edge")

REQUEST_ID_HEADER = b"x-amzn-requestid"
# An ASGI scope extension (``scope["extensions"]``) that ``connectfed serve``'s protocol
# (server/protocol.py) offers: a callable closing the connection at once, with no answer sent.
ABORT_EXTENSION = "connectfed.abort"
# Another: a callable telling whether the request's whole body has already been read from the
# connection (the app then reads it without a body timer: there is nothing left to wait for).
BODY_ARRIVED_EXTENSION = "connectfed.body_arrived"
MAX_USER_AGENT = 256


def request_id_of(scope: Scope) -> str:
    """The id the edge gave this request (a fresh one when the app runs bare)."""
    state = scope.setdefault("state", {})
    request_id = state.get("request_id")
    if request_id is None:
        request_id = state["request_id"] = uuids.uuid4()
    return str(request_id)


def send_with_request_id(send: Send, request_id: str) -> Send:
    """``send`` adding ``x-amzn-RequestId: <request_id>`` to a response that lacks it (for the
    edge's and the admin API's own answers; the app writes the header itself)."""
    encoded = request_id.encode()

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            if not any(name.lower() == REQUEST_ID_HEADER for name, _ in headers):
                headers.append((b"x-amzn-RequestId", encoded))
            message["headers"] = headers
        await send(message)

    return sending


def _user_agent(scope: Scope) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == b"user-agent" or key.lower() == b"user-agent":
            return str(value.decode("latin-1"))[:MAX_USER_AGENT]
    return None


class Edge:
    """The outermost ASGI app (see the module docstring)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        routes: Mapping[str, ASGIApp] | None = None,
        prefixes: Sequence[tuple[str, ASGIApp]] = (),
        observers: Sequence[Observer] = (),
    ) -> None:
        self.app = app
        self._routes = dict(routes or {})
        self._prefixes = tuple(prefixes)
        self._observers = tuple(observers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        opened = RequestScope(
            request_id_of(scope),
            source_ip=(scope.get("client") or (None, None))[0],
            user_agent=_user_agent(scope),
        )
        scope["state"][STATE_KEY] = opened
        app = self.app
        route = self._route(scope["path"])
        if route is not None:  # the edge's own answer: it carries the request id too
            app, send = route, send_with_request_id(send, opened.request_id)
        status = 500  # a request that ends without a response counts as failed

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        token = request_scope.enter(opened)
        try:
            await app(scope, receive, sending)
        finally:
            seconds = time.perf_counter() - started
            for observe in self._observers:  # still in the request's scope (the audit stamps)
                try:
                    observe(opened, scope, status, seconds)
                except Exception:  # an observer never fails the request it observes
                    log.exception("edge observer %r failed", observe)
            request_scope.leave(token)

    def _route(self, path: str) -> ASGIApp | None:
        route = self._routes.get(path)
        if route is None and self._prefixes:
            for prefix, app in self._prefixes:
                if path.startswith(prefix):
                    return app
        return route


def build_edge(
    app: ASGIApp,
    middleware: Sequence[Middleware] = (),
    *,
    routes: Mapping[str, ASGIApp] | None = None,
    prefixes: Sequence[tuple[str, ASGIApp]] = (),
    observers: Sequence[Observer] = (),
) -> ASGIApp:
    """``app`` inside ``middleware`` (the first listed sees the request first), inside the
    :class:`Edge` with its ``routes`` (exact paths), ``prefixes`` and ``observers``."""
    wrapped = app
    for layer in reversed(middleware):
        wrapped = layer(wrapped)
    return Edge(wrapped, routes=routes, prefixes=prefixes, observers=observers)

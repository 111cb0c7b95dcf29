"""``GET /_connectfed/explain/<request-id>``: why a request was refused (admin API).

An edge middleware (:mod:`connectfed.server.edge`), added only when the admin API is enabled
(``--admin`` or ``--demo``): it is unauthenticated and shows policies and principals. It answers
the explanation recorded under the request id (:mod:`connectfed.identity.explain`) as JSON, or
as a readable page when the client prefers ``text/html`` (a browser following the link of an
error page). Every other request goes on to the app untouched.
"""

from __future__ import annotations

import json
import re

from connectfed.identity.explain import Explanation, Explanations
from connectfed.offload import Offload
from connectfed.server.edge import (
    ASGIApp,
    Middleware,
    Receive,
    Scope,
    Send,
    request_id_of,
    send_with_request_id,
)
from connectfed.web.explain_page import CSP, explanation_page, missing_page

PREFIX = "/_connectfed/explain/"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_HEADERS = [
    (b"cache-control", b"no-store"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]
NOT_RECORDED = (
    "Nothing is recorded for this request id: the request was not refused by a "
    "policy or a federation step, the id is mistyped, or its explanation expired."
)


def _wants_html(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name.lower() == b"accept":
            accept = bytes(value).decode("latin-1").lower()
            html = accept.find("text/html")
            json_at = accept.find("application/json")
            return html >= 0 and (json_at < 0 or html < json_at)
    return False


async def _answer(
    send: Send,
    status: int,
    content_type: str,
    body: bytes,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    headers = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(body)).encode()),
        *_HEADERS,
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class ExplainRoute:
    def __init__(self, app: ASGIApp, explanations: Explanations, offload: Offload) -> None:
        self.app = app
        self._explanations = explanations
        self._offload = offload  # the store is read off the event loop

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        send = send_with_request_id(send, request_id_of(scope))
        wanted = scope["path"][len(PREFIX) :]
        html = _wants_html(scope)
        if scope["method"] != "GET":
            await _answer(
                send,
                405,
                "application/json",
                b'{"message":"Only GET is supported here."}',
                [(b"allow", b"GET")],
            )
            return
        if not _REQUEST_ID.fullmatch(wanted):
            await self._error(send, 400, wanted, "That is not a request id.", html)
            return
        found = await self._offload.run(self._explanations.get, wanted)
        if found is None:
            await self._error(send, 404, wanted, NOT_RECORDED, html)
            return
        await self._found(send, found, html)

    async def _found(self, send: Send, found: Explanation, html: bool) -> None:
        if html:
            await _answer(
                send,
                200,
                "text/html; charset=utf-8",
                explanation_page(found).encode(),
                [(b"content-security-policy", CSP.encode())],
            )
        else:
            await _answer(send, 200, "application/json", json.dumps(found.to_json()).encode())

    async def _error(self, send: Send, status: int, wanted: str, message: str, html: bool) -> None:
        if html:
            await _answer(
                send,
                status,
                "text/html; charset=utf-8",
                missing_page(wanted, message).encode(),
                [(b"content-security-policy", CSP.encode())],
            )
        else:
            await _answer(
                send, status, "application/json", json.dumps({"message": message}).encode()
            )


def explain_route(explanations: Explanations, offload: Offload) -> Middleware:
    """The middleware for :func:`~connectfed.server.edge.build_edge`'s list."""

    def make(app: ASGIApp) -> ASGIApp:
        return ExplainRoute(app, explanations, offload)

    return make

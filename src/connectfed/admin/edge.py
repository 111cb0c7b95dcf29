"""The admin API's edge middleware: the ``/_connectfed/clock`` and ``/_connectfed/faults``
routes, and, around every other request, the latency and dropped connections the fault gate
asked for, and a ``Date`` header from the shifted clock (SDKs that correct clock skew, such as
the AWS SDK for JavaScript v3, read it).

With the API off, its routes answer 404 and everything else passes through untouched.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from email.utils import format_datetime
from typing import Any

from connectfed import jsonsafe
from connectfed.admin import shapes
from connectfed.admin.access import check_authorization
from connectfed.admin.bundle import Admin
from connectfed.admin.faults import FaultNotFound, InvalidFault
from connectfed.admin.timetravel import InvalidTimeTravel
from connectfed.offload import Offload
from connectfed.server.edge import (
    ABORT_EXTENSION,
    ASGIApp,
    Message,
    Middleware,
    Receive,
    Scope,
    Send,
    request_id_of,
    send_with_request_id,
)

log = logging.getLogger("connectfed.admin")

CLOCK = "/_connectfed/clock"
FAULTS = "/_connectfed/faults"
MAX_BODY = 64 * 1024
_JSON = [(b"content-type", b"application/json")]
_DISCONNECT_WAIT_SECONDS = 5.0


def admin_middleware(admin: Admin, offload: Offload) -> Middleware:
    """The middleware for :func:`connectfed.server.edge.build_edge` while the API is on; the
    admin routes' store calls run through ``offload``."""
    return lambda app: AdminEdge(app, admin, offload)


async def _no_app(scope: Scope, receive: Receive, send: Send) -> None:
    raise AssertionError("the admin routes answer every path they are given")


def admin_off_routes() -> tuple[dict[str, ASGIApp], list[tuple[str, ASGIApp]]]:
    """While the API is off: the edge routes (exact paths, prefixes) that answer its paths with
    404 and how to turn it on; everything else never sees the admin API."""
    off = AdminEdge(_no_app, None, None)
    return {CLOCK: off, FAULTS: off}, [(FAULTS + "/", off)]


class _Refusal(Exception):
    def __init__(
        self, status: int, message: str, headers: list[tuple[bytes, bytes]] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or []


def _is_admin_path(path: str) -> bool:
    return path in (CLOCK, FAULTS) or path.startswith(FAULTS + "/")


class AdminEdge:
    def __init__(self, app: ASGIApp, admin: Admin | None, offload: Offload | None) -> None:
        self.app = app
        self.admin = admin
        self._offload = offload

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _is_admin_path(scope["path"]):
            send = send_with_request_id(self._dated(send), request_id_of(scope))
            await self._route(scope, receive, send)
        elif self.admin is None:
            await self.app(scope, receive, send)
        else:
            await self._around(scope, receive, self._dated(send))

    # -- every other request: latency, drops, the shifted Date ----------------------------------
    def _dated(self, send: Send) -> Send:
        if self.admin is None:
            return send
        clock = self.admin.clock

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                date = format_datetime(clock.now_cached(), usegmt=True).encode()
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"date"]
                message["headers"] = [*headers, (b"date", date)]
            await send(message)

        return sending

    async def _around(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.admin is not None
        gate, request_id = self.admin.gate, request_id_of(scope)
        held: list[Message] = []

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                interruption = gate.take(request_id)
                if interruption is not None:
                    if interruption.delay_seconds:
                        await asyncio.sleep(interruption.delay_seconds)
                    if interruption.drop:
                        held.append(message)
                        return
            if held:
                return  # the dropped answer's body
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            gate.take(request_id)  # an answer never sent leaves nothing behind
        if held:
            await _drop(scope, receive, send, held[0])

    # -- the admin routes -----------------------------------------------------------------------
    async def _route(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            if self.admin is None:
                raise _Refusal(
                    404,
                    "The admin API is off: start the server with --admin (or --demo), and "
                    "with --admin-token on a non-loopback --host",
                )
            headers = {
                k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]
            }
            refused = check_authorization(self.admin.access, headers.get("authorization"))
            if refused == 401:
                raise _Refusal(
                    401,
                    "The admin API needs Authorization: Bearer <token>",
                    [(b"www-authenticate", b'Bearer realm="connectfed-admin"')],
                )
            if refused is not None:
                raise _Refusal(403, "The admin token is not valid")
            body = await _read_body(receive)
            status, document = await self._run(self._answer, scope["method"], scope["path"], body)
        except _Refusal as refusal:
            await _respond(send, refusal.status, {"message": refusal.message}, refusal.headers)
            return
        except (InvalidFault, InvalidTimeTravel) as exc:
            await _respond(send, 400, {"message": str(exc)})
            return
        except Exception:
            log.exception("internal error on an admin route")
            await _respond(send, 500, {"message": "An internal error occurred."})
            return
        await _respond(send, status, document)

    async def _run(self, function: Callable[..., Any], *args: Any) -> Any:
        assert self._offload is not None  # given whenever the API is on
        return await self._offload.run(function, *args)

    def _answer(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        """(status, JSON document or None) for one admin request; runs where the store wants."""
        admin = self.admin
        assert admin is not None
        if path == CLOCK:
            if method == "GET":
                return 200, shapes.clock_json(admin.time.state())
            if method == "POST":
                kind, seconds = shapes.clock_change(_json(body, InvalidTimeTravel))
                state = (
                    admin.time.advance(seconds)
                    if kind == "advance"
                    else admin.time.set_offset(seconds)
                )
                return 200, shapes.clock_json(state)
            raise _not_allowed("GET, POST")
        if path == FAULTS:
            if method == "GET":
                return 200, {"faults": [shapes.fault_json(f) for f in admin.faults.list_faults()]}
            if method == "POST":
                fault = admin.faults.add(shapes.fault_spec(_json(body, InvalidFault)))
                return 201, shapes.fault_json(fault)
            if method == "DELETE":
                admin.faults.clear()
                return 204, None
            raise _not_allowed("GET, POST, DELETE")
        if method != "DELETE":
            raise _not_allowed("DELETE")
        fault_id = path.removeprefix(FAULTS + "/")
        try:
            admin.faults.remove(fault_id)
        except FaultNotFound:
            raise _Refusal(404, f"No fault {fault_id!r}") from None
        return 204, None


def _not_allowed(allow: str) -> _Refusal:
    return _Refusal(405, "Method not allowed here", [(b"allow", allow.encode())])


def _json(body: bytes, error: type[ValueError]) -> Any:
    try:
        return jsonsafe.loads(body) if body.strip() else {}
    except (ValueError, UnicodeDecodeError):
        raise error("the body is not valid JSON") from None


async def _read_body(receive: Receive) -> bytes:
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Refusal(400, "The client went away")
        body += message.get("body", b"")
        if len(body) > MAX_BODY:
            raise _Refusal(413, "Request Entity Too Large")
        if not message.get("more_body", False):
            return bytes(body)


async def _respond(
    send: Send, status: int, document: Any, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = b"" if document is None else json.dumps(document).encode()
    head = [
        *(_JSON if body else []),
        *(headers or []),
        (b"cache-control", b"no-store"),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": body})


async def _drop(scope: Scope, receive: Receive, send: Send, start: Message) -> None:
    """Close the connection without an answer. Under ``connectfed serve`` the protocol offers
    :data:`ABORT_EXTENSION`; elsewhere the head goes out and the connection closes before the
    body (the server closes a connection whose answer the app left unfinished)."""
    abort = (scope.get("extensions") or {}).get(ABORT_EXTENSION)
    if abort is None:
        await send(start)
        return
    abort()
    # Wait for the server to see the connection gone, so it does not answer in our place.
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(_DISCONNECT_WAIT_SECONDS):
            while (await receive())["type"] != "http.disconnect":
                pass

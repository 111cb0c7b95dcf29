"""Request heads bounded in size, in field count and in time, on uvicorn's httptools protocol.

uvicorn with httptools takes a request head of any size (httptools buffers a header line until
its end, so one 48 MiB header is held whole) and waits for it forever (its keep-alive timer
stops at the first byte; nothing bounds the head), so a client trickling one header line every
few seconds keeps its connection, and a task, for good. This subclass adds what nginx
(``client_header_timeout``, ``large_client_header_buffers``) and Node (``headersTimeout``,
``maxHeaderSize``) have:

* **Size.** The request target plus every header field (name, value, ``": "`` and CRLF) may
  take :attr:`HeadLimits.max_bytes`; beyond, ``431 Request Header Fields Too Large`` (RFC 6585
  §5) and the connection closes. Counted exactly as each line ends, and also from the raw bytes
  read while a head is incomplete, so an endless header line is cut off after at most one
  further read (≤ 256 KiB) instead of being buffered.
* **Field count.** More than :attr:`HeadLimits.max_fields` header fields: 431 likewise.
* **Time.** The head must be complete within :attr:`HeadLimits.timeout_seconds` of the
  connection opening (TLS: of the handshake ending) or, on a kept-alive connection, of the
  request's first byte; otherwise ``408 Request Timeout`` (RFC 9110 §15.5.9) and the
  connection closes. A connection that never starts a request is closed without an answer.

The body is bounded by the ASGI app (413, and 408 after ``--body-timeout``); idle kept-alive
connections by uvicorn's ``timeout_keep_alive``, which here also runs while a body the app
answered without reading is still arriving; TLS handshakes by asyncio's 60 s default.
Refusals are AWS errors in the protocol of the service the head read so far addresses (XML for
IAM and STS, see :func:`~connectfed.wire.dispatch.refusal_response`), like the app's own 413
and 408; so is the ``400`` for a request the HTTP parser cannot read
(``BadRequestException``). (uvicorn also logs "Invalid HTTP request received." for a refusal
made inside a parser callback.)

Each request's scope offers the app :data:`~connectfed.server.edge.ABORT_EXTENSION`, closing the
connection without an answer (the admin API's "drop" fault).
"""

from __future__ import annotations

import asyncio
import uuid
import weakref
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar, NoReturn, cast

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from connectfed.errors import client_error
from connectfed.server.edge import ABORT_EXTENSION, BODY_ARRIVED_EXTENSION
from connectfed.wire.dispatch import refusal_response


@dataclass(frozen=True, slots=True)
class HeadLimits:
    """From :class:`~connectfed.settings.Settings` (whose comments give the defaults' reasons)."""

    max_bytes: int
    max_fields: int
    timeout_seconds: float


LINGER_SECONDS = 2.0


class _Corked:
    """The connection's transport, with the writes of one event-loop step sent together.

    uvicorn writes a response's head and its body apart, two system calls and (on a fresh
    connection) two TCP segments for a few hundred bytes; here they are held until the end of
    the step (``call_soon``) and leave in one write. Order is kept, nothing waits longer than
    the step, and closing (``close``, ``write_eof``) sends what is held first. Measured with wrk
    against the health endpoint and GetCallerIdentity (alternating runs, 32 connections):
    +19-32 % and +8-16 % requests/s. Everything but writing and closing is the transport's own.
    """

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: list[bytes] = []
        # Asked after every response: the transport's own, without __getattr__'s Python call.
        self.is_closing = transport.is_closing

    def write(self, data: bytes) -> None:
        if not self._held:
            self._loop.call_soon(self.flush)
        self._held.append(data)

    def flush(self) -> None:
        if not self._held:
            return
        data = self._held[0] if len(self._held) == 1 else b"".join(self._held)
        self._held.clear()
        if not self._transport.is_closing():  # the peer went away meanwhile: nobody to tell
            self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def _body_arrived(cycle: weakref.ref[Any]) -> bool:
    """Whether the whole body of the request ``cycle`` answers has been read (False once the
    cycle is gone: nobody asks then, and False only costs a timer)."""
    alive = cycle()
    return alive is not None and not alive.more_body


class _Refused(Exception):
    """Raised inside a parser callback to stop parsing; the answer has already been sent."""


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with :class:`HeadLimits` (see the module docstring); made
    with its limits by :func:`bounded_protocol`."""

    limits: ClassVar[HeadLimits]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_deadline = 0.0  # loop time by which the head under way must be complete
        self._began = False  # a request has begun on this connection
        self._in_head = False
        self._head_bytes = 0  # exact: the request target and every completed header line
        self._head_fields = 0
        self._head_reads = 0  # raw bytes read while this head was incomplete
        self._began_in_read = False
        self._reading = False
        self._refused = False
        # Read for every header field: plain attributes, not the class's limits, each a lookup.
        self._max_bytes = self.limits.max_bytes
        self._max_fields = self.limits.max_fields

    # -- connection --------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # uvicorn (and its request cycles) write through this one: see _Corked.
        self.transport = _Corked(transport, self.loop)  # type: ignore[assignment]
        self._head_deadline = self.loop.time() + self.limits.timeout_seconds
        self._arm(self.limits.timeout_seconds)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        self._began_in_read, self._reading = False, True
        try:
            HttpToolsProtocol.data_received(self, data)
        finally:
            self._reading = False
        # Still inside a head after parsing this read: all of it belonged to the head, except
        # in the read where the head began, which may also end the previous request.
        if self._in_head and not self._refused and not self._began_in_read:
            self._head_reads += len(data)
            if self._head_reads > self.limits.max_bytes:
                self._refuse(
                    431, "RequestHeaderFieldsTooLargeException", "Request Header Fields Too Large"
                )

    def _unset_keepalive_if_required(self) -> None:
        # uvicorn stops the keep-alive timer at any byte read, so a body trickled on after its
        # answer (a 413 or 408 the app sent without reading it) would hold the connection
        # forever. Here bytes alone do not stop it; a new request does (on_message_begin).
        if not self._reading:
            HttpToolsProtocol._unset_keepalive_if_required(self)

    def send_400_response(self, msg: str) -> None:
        # A request the parser refuses (no such method, a control character in a header, two
        # Content-Lengths, a bad chunk size) is answered like every other refusal, not with
        # uvicorn's plain text. Nothing when it is our own refusal, raised inside a callback.
        self._refuse(400, "BadRequestException", msg)

    # -- parser callbacks --------------------------------------------------------------------
    # Called for every request (on_header for each of its fields): uvicorn's own are named
    # directly rather than through super(), and the counting is inline, each a Python call
    # fewer. (This subclass cost an 8-field request ~74k instructions on top of uvicorn's
    # ~124k; ~41k since.)
    def on_message_begin(self) -> None:
        # The keep-alive wait is over: a request begins.
        HttpToolsProtocol._unset_keepalive_if_required(self)
        HttpToolsProtocol.on_message_begin(self)
        # Let the app drop the connection without an answer (the admin API's "drop" fault).
        extensions = dict(cast(dict[str, Any], self.scope).get("extensions") or {})
        extensions[ABORT_EXTENSION] = self.transport.close
        cast(dict[str, Any], self.scope)["extensions"] = extensions
        self._in_head, self._began_in_read = True, True
        self._head_bytes = self._head_fields = self._head_reads = 0
        # The first head is timed from the connection's opening, a later one from its first
        # byte. The timer is not cancelled when a head completes (a timer armed and cancelled
        # for every request cost ~3k instructions of it): once it fires it looks at the head
        # under way, if any, and waits again for what is left of that head's time.
        if self._began:
            self._head_deadline = self.loop.time() + self.limits.timeout_seconds
        self._began = True
        if self._head_timer is None:
            self._arm(self.limits.timeout_seconds)

    def on_url(self, url: bytes) -> None:
        self._head_bytes += len(url)
        if self._head_bytes > self._max_bytes:
            self._too_large()
        HttpToolsProtocol.on_url(self, url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._head_bytes += len(name) + len(value) + 4
        self._head_fields += 1
        if self._head_bytes > self._max_bytes or self._head_fields > self._max_fields:
            self._too_large()
        HttpToolsProtocol.on_header(self, name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        HttpToolsProtocol.on_headers_complete(self)
        cycle = self.cycle
        if cycle is not None and cycle.scope is self.scope:
            # Read by the app before it starts a body timer: a body that arrived with its head
            # (the usual small request) needs none. The cycle is held weakly: it holds the scope,
            # so a strong reference from the scope would make every request a reference cycle,
            # its whole object graph (scope, state, principal, headers: ~19 tracked objects)
            # left for the garbage collector instead of freed when the response is sent. Those
            # collections, each rescanning every request in flight, took ~10 µs of a
            # GetCallerIdentity's ~150 µs of server CPU over the wire (bench.wire_cpu).
            extensions = cast(dict[str, Any], self.scope)["extensions"]
            extensions[BODY_ARRIVED_EXTENSION] = partial(_body_arrived, weakref.ref(cycle))

    # -- limits ------------------------------------------------------------------------------
    def _too_large(self) -> NoReturn:
        self._refuse(431, "RequestHeaderFieldsTooLargeException", "Request Header Fields Too Large")
        raise _Refused

    def _arm(self, seconds: float) -> None:
        self._head_timer = self.loop.call_later(seconds, self._timed_out)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        if not self._in_head:
            if not self._began:  # no request begun since the connection opened: nothing to answer
                self.transport.close()
            return  # (else the last head completed in time; the next one arms the timer again)
        left = self._head_deadline - self.loop.time()
        if left > 0:  # this head began after the timer was armed (for an earlier one)
            self._arm(left)
            return
        self._refuse(408, "RequestTimeoutException", "Request header not received in time")

    def _refuse(self, status: int, code: str, message: str) -> None:
        """Answer ``status`` with an AWS-shaped JSON error and close the connection."""
        if self._refused:
            return
        self._refused = True
        self._disarm()
        self.logger.info("%s (%d), closing the connection", message, status)
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            if self._in_head or cycle.response_started:
                # A pipelined head, or a response under way: an answer now would interleave
                # with (or be taken for) the response in progress.
                self.transport.close()
                return
            # The request's own body is unreadable (a bad chunk) before the app answered: the
            # app is told the client left (its receive gets http.disconnect, its answer is
            # dropped) and this refusal is the answer.
            cycle.disconnected = True
            cycle.message_event.set()
        answer = refusal_response(
            *self._head_so_far(),
            client_error(code, message, status),
            str(uuid.uuid4()),
        )
        fields = [
            name.lower().encode("latin-1") + b": " + value.encode("latin-1") + b"\r\n"
            for name, value in answer.headers.items()
        ]
        head = b"".join(
            [
                STATUS_LINE[status],
                *fields,
                b"content-length: " + str(len(answer.body)).encode() + b"\r\n",
                b"connection: close\r\n\r\n",
            ]
        )
        self.transport.write(head + answer.body)
        self._linger()

    def _head_so_far(self) -> tuple[str, str, list[tuple[str, str]]]:
        """The method, path and header fields of the request head read so far (what the
        refusal's protocol is chosen by: an IAM or STS client reads only XML errors)."""
        try:
            method = self.parser.get_method().decode("latin-1")
        except Exception:  # the parser has not read a method (or cannot: a malformed line)
            method = ""
        url = (getattr(self, "url", None) or b"").decode("latin-1")
        fields = [
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, value in (getattr(self, "headers", None) or [])
        ]
        return method, url.split("?", 1)[0], fields

    def _linger(self) -> None:
        """Close without destroying the answer (RFC 9112 §9.6): closing with unread input makes
        the kernel reset the connection, and the client loses the answer before reading it. So
        half-close, keep reading and discarding (``data_received`` ignores everything now) until
        the client closes or :data:`LINGER_SECONDS` pass. TLS cannot half-close; its closing
        handshake (close_notify, bounded by asyncio's ``ssl_shutdown_timeout``) lingers alike."""
        self.flow.resume_reading()
        if not self.transport.can_write_eof():
            self.transport.close()
            return
        self.transport.write_eof()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)


def bounded_protocol(limits: HeadLimits) -> type[BoundedHttpToolsProtocol]:
    """A protocol class with ``limits``, for uvicorn's ``http=`` option."""
    return cast(
        type[BoundedHttpToolsProtocol],
        type("BoundedHttpToolsProtocol", (BoundedHttpToolsProtocol,), {"limits": limits}),
    )

"""The ASGI application inside the edge: it reads a request and routes it to what answers it.

Deliberately thin: it reads the request (bounded body), then hands it to one of four answerers,
tried in this order: the CCP's pages and assets (:mod:`connectfed.web.ccp`), the CTI API that
Streams' worker posts to (:mod:`connectfed.wire.json10`), the browser routes (sign-in, sign-out,
the federation pages: :mod:`connectfed.web.routes`), and the AWS APIs
(:class:`~connectfed.wire.dispatch.Dispatcher`: STS and IAM over awsQuery, Connect over
restJson1, CloudTrail over awsJson). Requests that must read or write the store are answered in
the store's threads (:mod:`connectfed.offload`), so the event loop never waits for storage; the
few answered from memory alone (a storeless operation signed with cached credentials, the health
endpoint) are answered on the event loop, sparing them the hop.

What every request goes through before this (request id, limits, timing, metrics, logs, the admin
API) is the edge's middleware chain (:mod:`connectfed.server.edge`); the composition root
(:mod:`connectfed.app`) builds the services this application is given.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import connectfed.api  # noqa: F401  (registers every operation handler)
from connectfed.api.cti import authenticator
from connectfed.audit.calls import AuditedCalls
from connectfed.auth.verify import (
    ReceivedRequest,
    SignatureClaim,
    SigningKeyCache,
    check_scope,
    verify,
)
from connectfed.errors import ServiceError, client_error
from connectfed.identity.principal import Origin, Principal
from connectfed.server.edge import BODY_ARRIVED_EXTENSION, Receive, Scope, Send, request_id_of
from connectfed.store import Unavailable, deferred
from connectfed.web.ccp import MISSING, CcpOptions, CcpSite, default_streams_dir
from connectfed.web.cookies import SESSION_COOKIE
from connectfed.web.routes import WebRoutes
from connectfed.web.testidp_site import TestIdpSite
from connectfed.wire import cti_model
from connectfed.wire.dispatch import Dispatcher, Response
from connectfed.wire.json10 import CtiDispatcher
from connectfed.wire.registry import REGISTRY

if TYPE_CHECKING:
    from connectfed.admin.bundle import Admin
    from connectfed.app import Services


def make_authenticate(services: Services) -> Any:
    keys = SigningKeyCache()
    skew = timedelta(seconds=services.settings.clock_skew_seconds)
    region = services.settings.region

    def authenticate(
        request: ReceivedRequest,
        claim: SignatureClaim,
        service: str,
        request_id: str,
        cached_only: bool = False,
    ) -> Principal:
        # IAM is a global service: clients sign it for us-east-1 whatever the Region.
        regions = (region, "us-east-1") if service == "iam" else (region,)
        check_scope(claim, service=service, regions=regions)
        secret, principal = services.resolver.resolve(claim, cached_only=cached_only)
        verify(request, claim, secret, now=services.clock.now(), keys=keys, skew=skew)
        return principal.signing(Origin(request.source_ip, request.secure, request_id))

    return authenticate


log = logging.getLogger("connectfed.app")

_HEALTH = b'{"status":"ok"}'
# What an HTTP field value may not hold (RFC 9110 §5.5: no CR, LF, NUL or other controls).
_BAD_FIELD_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_INTERNAL_PAGE = (
    b"<!doctype html><html lang=en><head><meta charset=utf-8><title>Error</title>"
    b"</head><body><h1>Something went wrong</h1></body></html>"
)


_UNAVAILABLE_PAGE = (
    b"<!doctype html><html lang=en><head><meta charset=utf-8><title>Service unavailable</title>"
    b"</head><body><h1>Service unavailable</h1><p>Please try again in a moment.</p></body></html>"
)


def _page_error(where: str, error: Exception) -> Response:
    """The page answering a browser whose request raised ``error``: 503 when the database
    cannot be reached (the browser may simply try again), else 500 (logged: our bug)."""
    headers = {"Content-Type": "text/html; charset=utf-8"}
    if isinstance(error, Unavailable):
        log.error("%s: %s", where, error)
        return Response(503, {**headers, "Retry-After": "1"}, _UNAVAILABLE_PAGE)
    log.error("internal error on %s", where, exc_info=error)
    return Response(500, headers, _INTERNAL_PAGE)


def _plain_error(status: int, code: str, message: str) -> Response:
    body = json.dumps({"message": message}).encode()
    return Response(status, {"Content-Type": "application/json", "x-amzn-ErrorType": code}, body)


class ConnectfedApp:
    """The ASGI application."""

    def __init__(self, services: Services, idp: TestIdpSite | None = None) -> None:
        self.services = services
        self.web = WebRoutes(
            services.signin, idp, secure=services.settings.public_url.startswith("https:")
        )
        gate = services.admin.gate if services.admin is not None else None
        audited = AuditedCalls(reads=services.settings.audit_reads)
        self.dispatcher = Dispatcher(
            REGISTRY,
            make_authenticate(services),
            services,
            gate,
            unavailable=(Unavailable,),
            noted=audited.records,
        )
        self._max_body = services.settings.max_body_bytes
        self._body_timeout = services.settings.body_timeout_seconds
        self._offload = services.offload
        self._admin = services.admin
        settings = services.settings
        streams = Path(settings.streams_dir) if settings.streams_dir else default_streams_dir()
        try:
            model = cti_model.load(streams)
            missing = ""
        except cti_model.ModelNotFound as exc:
            log.warning("CTI API and CCP unavailable: %s", exc)
            model, missing = None, str(exc) if str(exc).startswith(MISSING) else MISSING
        self.cti = CtiDispatcher(
            model,
            missing,
            authenticator(services),
            services,
            self._run,
            gate,
            unavailable=(Unavailable,),
        )
        self.ccp = CcpSite(
            CcpOptions(
                region=settings.region,
                streams_dir=streams if model else None,
                frame_ancestors=settings.ccp_frame_ancestors,
                test_idp=idp is not None,
                cookie_name=SESSION_COOKIE,
                instance_exists=self._instance_exists,
            )
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        request_id = request_id_of(scope)
        if scope["path"] == "/_connectfed/health":
            await self._send(
                send, request_id, Response(200, {"Content-Type": "application/json"}, _HEALTH)
            )
            return
        body = (
            b"" if _without_body(scope) else await self._read_body(scope, receive, send, request_id)
        )
        if body is None:
            return
        try:
            raw_path = scope.get("raw_path", scope["path"].encode())
            request = ReceivedRequest(
                method=scope["method"],
                raw_path=raw_path.decode("utf-8"),
                raw_query=scope.get("query_string", b"").decode("utf-8"),
                headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]],
                body=bytes(body),
                # The connection's own peer and scheme (uvicorn runs with proxy_headers off, so
                # a client cannot claim another address with X-Forwarded-For).
                source_ip=(scope.get("client") or (None, None))[0],
                secure=scope.get("scheme") == "https",
            )
        except UnicodeDecodeError:
            refused = client_error("SerializationException", "The request URI is not valid UTF-8")
            await self._send(send, request_id, self._refusal(scope, refused, request_id))
            return
        await self._send(send, request_id, await self._answer(request, scope["path"], request_id))

    async def _answer(self, request: ReceivedRequest, path: str, request_id: str) -> Response:
        """The answer of the first answerer the request is for (the module's docstring)."""
        if self.ccp.handles(request.method, path):
            try:
                return await self._run(self.ccp.handle, path)  # type: ignore[no-any-return]
            except Exception as exc:
                return _page_error("the CCP", exc)
        cti = cti_model.PATH.match(path) if request.method == "POST" else None
        if cti is not None:
            return await self.cti.handle(cti.group(1), request.headers, request.body, request_id)
        if self.web.handles(request.method, path, request.headers, request.raw_query):
            return await self._browser(request, path, request_id)
        return await self._api(request, request_id)

    async def _browser(self, request: ReceivedRequest, path: str, request_id: str) -> Response:
        """A browser route's page or redirect; an error page, never a traceback, if it fails."""
        try:
            web = await self._run(
                self.web.handle,
                request.method,
                path,
                request.raw_query,
                request.headers,
                request.body,
                request_id,
            )
        except Exception as exc:
            return _page_error("a browser route", exc)
        return Response(web.status, web.headers, web.body)

    async def _api(self, request: ReceivedRequest, request_id: str) -> Response:
        """An AWS API call's answer. Answered here on the event loop when nothing must be read
        from the store (a storeless operation signed with cached credentials); otherwise in the
        store's threads."""
        if self._admin is None:  # (the admin API's clock and faults are read per request)
            response = self.dispatcher.answer_inline(request, request_id)
            if response is not None:
                return response
        # Writes the handler deferred are committed before the reply (store/deferred.py).
        with deferred.collecting() as writes:
            response = await self._run(self.dispatcher.handle, request, request_id)
        if writes and not await deferred.all_durable(writes):
            return self.dispatcher.not_durable(request_id, [w.error for w in writes])
        return response  # type: ignore[no-any-return]

    def _instance_exists(self, instance_id: str) -> bool:
        return self.services.store.get_instance(instance_id) is not None

    async def _read_body(
        self, scope: Scope, receive: Any, send: Any, request_id: str
    ) -> bytes | None:
        """The request body, bounded in size and in time; None when already answered."""
        arrived = (scope.get("extensions") or {}).get(BODY_ARRIVED_EXTENSION)
        if arrived is not None and arrived():
            # All of it came with the head (the usual small request): nothing to wait for, so
            # no timer (an asyncio.timeout costs ~3 % of a GetCallerIdentity).
            return await self._collect_body(scope, receive, send, request_id)
        try:
            async with asyncio.timeout(self._body_timeout):
                return await self._collect_body(scope, receive, send, request_id)
        except TimeoutError:
            refused = client_error(
                "RequestTimeoutException", "Request body not received in time", 408
            )
            await self._send(send, request_id, self._refusal(scope, refused, request_id))
            return None

    async def _collect_body(
        self, scope: Scope, receive: Any, send: Any, request_id: str
    ) -> bytes | None:
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self._max_body:
                refused = client_error(
                    "RequestEntityTooLargeException", "Request Entity Too Large", 413
                )
                await self._send(send, request_id, self._refusal(scope, refused, request_id))
                return None
        return bytes(body)

    def _refusal(self, scope: Scope, error: ServiceError, request_id: str) -> Response:
        """``error`` for a request refused before it was read whole, in the protocol of the
        service its head addresses (the dispatcher's :meth:`~Dispatcher.refusal`)."""
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        return self.dispatcher.refusal(scope["method"], scope["path"], headers, error, request_id)

    async def _run(self, function: Any, *args: Any) -> Any:
        """``function(*args)`` off the event loop, in the request's context (offload.py)."""
        if self._admin is not None:
            return await self._offload.run(self._synced, self._admin, function, *args)
        return await self._offload.run(function, *args)

    @staticmethod
    def _synced(admin: Admin, function: Any, *args: Any) -> Any:
        # The admin clock and faults as the database has them now (when it cannot be reached:
        # as last read, and the request's own store calls answer for the database).
        with contextlib.suppress(Unavailable):
            admin.sync()
        return function(*args)

    async def _send(self, send: Any, request_id: str, response: Response) -> None:
        """Send ``response`` with ``x-amzn-RequestId`` (the dispatcher's answers carry it;
        pages and the app's own refusals get it here)."""
        headers = _encode_headers(response.headers)
        if headers is None:
            # A value we built cannot travel as an HTTP field (inputs are checked before use,
            # so this is our bug): answer 500 rather than let the connection fail mid-response.
            log.error(
                "response to send had a header that is not a valid HTTP field value: %s",
                ", ".join(response.headers),
            )
            response = _plain_error(500, "InternalFailure", "An internal error occurred.")
            headers = _encode_headers(response.headers) or []
        if not any(name.lower() == b"x-amzn-requestid" for name, _ in headers):
            headers.append((b"x-amzn-RequestId", request_id.encode()))
        headers.append((b"content-length", str(len(response.body)).encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": response.body})

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.services.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


def _without_body(scope: Scope) -> bool:
    """The request has no body: neither Content-Length nor Transfer-Encoding (RFC 9112 §6.3),
    or a Content-Length of 0. Nothing to wait for, so no timer to set (most GETs)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            return bool(value.strip() == b"0")
        if name == b"transfer-encoding":
            return False
    return True


def _encode_headers(headers: dict[str, str]) -> list[tuple[bytes, bytes]] | None:
    """The headers as ASGI wants them, or None when one cannot be sent (not latin-1, or
    holding a control character that would end or corrupt the field)."""
    try:
        encoded = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    except UnicodeEncodeError:
        return None
    # One search over every name and value (joined by a space, which is allowed).
    if _BAD_FIELD_VALUE.search(" ".join(f"{k} {v}" for k, v in headers.items())):
        return None
    return encoded

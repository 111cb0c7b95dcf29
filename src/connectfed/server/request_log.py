"""One structured log line per request (``--log-format json``): on the ``connectfed.request``
logger, at INFO, once the response has been sent.

Fields: ``request_id`` (the ``x-amzn-RequestId`` the client got), ``method``, ``path`` (never
the query string, which may carry a sign-in code or a presigned signature), ``service`` and
``operation`` (as the dispatcher routed it, null for pages), ``principal`` (the caller's ARN
once authenticated), ``status``, ``error_code``, ``duration_ms``, ``client_ip``. The JSON
formatter of :mod:`connectfed.server.logs` writes them, each string through the redactor.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from connectfed.server.edge import ASGIApp, Receive, ResponseStatus, Scope, Send
from connectfed.server.observe import scope_of

log = logging.getLogger("connectfed.request")


class RequestLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        response = ResponseStatus(send)
        try:
            await self.app(scope, receive, response.send)
        finally:
            if log.isEnabledFor(logging.INFO):
                fields = _fields(scope, response.status, (time.perf_counter() - started) * 1000)
                log.info(
                    "%s %s %s",
                    scope["method"],
                    scope["path"],
                    response.status,
                    extra={"fields": fields},
                )


def _fields(scope: Scope, status: int, milliseconds: float) -> dict[str, Any]:
    observed = scope_of(scope)
    return {
        "request_id": observed.request_id if observed else None,
        "method": scope["method"],
        "path": scope["path"],
        "service": observed.service if observed else None,
        "operation": observed.operation if observed else None,
        "principal": observed.principal_arn if observed else None,
        "status": status,
        "error_code": observed.error_code if observed else None,
        "duration_ms": round(milliseconds, 3),
        "client_ip": observed.source_ip if observed else None,
    }

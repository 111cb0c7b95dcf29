"""One structured log line per request (``--log-format json``): on the ``connectfed.request``
logger, at INFO, once the response has been sent (an edge observer).

Fields: ``request_id`` (the ``x-amzn-RequestId`` the client got), ``method``, ``path`` (never
the query string, which may carry a sign-in code or a presigned signature), ``service`` and
``operation`` (as the dispatcher routed it, null for pages), ``principal`` (the caller's ARN
once authenticated), ``status``, ``error_code``, ``duration_ms``, ``client_ip``. The JSON
formatter of :mod:`connectfed.server.logs` writes them, each string through the redactor.
"""

from __future__ import annotations

import logging
from typing import Any

from connectfed.request_scope import RequestScope
from connectfed.server.edge import Scope

log = logging.getLogger("connectfed.request")


def request_log(observed: RequestScope, scope: Scope, status: int, seconds: float) -> None:
    if log.isEnabledFor(logging.INFO):
        fields = _fields(observed, scope, status, seconds * 1000)
        log.info("%s %s %s", scope["method"], scope["path"], status, extra={"fields": fields})


def _fields(
    observed: RequestScope, scope: Scope, status: int, milliseconds: float
) -> dict[str, Any]:
    return {
        "request_id": observed.request_id,
        "method": scope["method"],
        "path": scope["path"],
        "service": observed.service,
        "operation": observed.operation,
        "principal": observed.principal_arn,
        "status": status,
        "error_code": observed.error_code,
        "duration_ms": round(milliseconds, 3),
        "client_ip": observed.source_ip,
    }

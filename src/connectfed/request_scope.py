"""What is known about the HTTP request being answered, as the server learns it.

The edge (``server/edge.py``) opens one :class:`RequestScope` per request before the app
runs: its id (the edge's ``x-amzn-RequestId``), the connection's peer address and the client's
User-Agent. The parts that route the request fill in the rest as they learn it: the dispatcher
names the operation and the authenticated principal, the AWS error code it answered with, and
for the calls the audit trail records, their input and output.
The edge reads it back once the response is sent, for the structured request log, the metrics
and the audit trail; the audit trail reads it while recording, to stamp each event with the
request's id and source address.

The scope is found two ways, both pointing at the same object: ``scope["state"]["request"]``
for ASGI middlewares, and :func:`current` (a :mod:`contextvars` variable) for code deeper in,
which may run in a worker thread (``asyncio.to_thread`` carries the context there). Outside a
request :func:`current` is None and every ``note_*`` function does nothing, so code that notes
runs unchanged in unit tests.

Nothing here is a secret: the principal is kept as the object the authenticator returned, and
only its ARN and key id are ever written out.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Any

STATE_KEY = "request"


@dataclass(slots=True)
class RequestScope:
    """One HTTP request, filled in as it goes through the server (mutable on purpose)."""

    request_id: str
    source_ip: str | None = None
    user_agent: str | None = None
    # The operation, once routed: the signing name / service ("connect", "sts", "iam",
    # "cloudtrail", "connect-cti") and the model's operation name.
    service: str | None = None
    operation: str | None = None
    principal: Any = None  # what the authenticator returned (identity.Principal), if anything
    error_code: str | None = None  # the AWS error code of the answer, if it was an error
    error_message: str | None = None
    audited: bool = False  # the audit trail recorded an event for this request
    # The call as the audit trail records it (wire.trail_view.NotedCall), noted by the
    # dispatcher only for the operations the trail records: its input, then its output.
    call: Any = None

    @property
    def principal_arn(self) -> str | None:
        arn = getattr(self.principal, "arn", None)
        return arn if isinstance(arn, str) else None


_CURRENT: ContextVar[RequestScope | None] = ContextVar("connectfed_request", default=None)


def current() -> RequestScope | None:
    """The scope of the request being handled here, or None outside any request."""
    return _CURRENT.get()


def enter(scope: RequestScope) -> Token[RequestScope | None]:
    """Make ``scope`` :func:`current` until :func:`leave` (the edge's cheaper :func:`entered`)."""
    return _CURRENT.set(scope)


def leave(token: Token[RequestScope | None]) -> None:
    _CURRENT.reset(token)


@contextmanager
def entered(scope: RequestScope) -> Iterator[RequestScope]:
    """Make ``scope`` :func:`current` for the code run inside (and the threads it hands work to
    with ``asyncio.to_thread``)."""
    token = _CURRENT.set(scope)
    try:
        yield scope
    finally:
        _CURRENT.reset(token)


def note_service(service: str) -> None:
    """The service a request is for, known before its operation (from the signature's scope)."""
    scope = _CURRENT.get()
    if scope is not None:
        scope.service = service


def note_operation(service: str, operation: str) -> None:
    scope = _CURRENT.get()
    if scope is not None:
        scope.service, scope.operation = service, operation


def note_principal(principal: Any) -> None:
    scope = _CURRENT.get()
    if scope is not None:
        scope.principal = principal


def note_call(call: Any) -> None:
    scope = _CURRENT.get()
    if scope is not None:
        scope.call = call


def note_error(code: str, message: str) -> None:
    scope = _CURRENT.get()
    if scope is not None:
        scope.error_code, scope.error_message = code, message

"""The dispatcher: route, authenticate, parse, validate, call, serialise, map errors — once.

Requests are routed by the SigV4 credential scope's service (``connect`` → restJson1, ``sts`` and
``iam`` → awsQuery, ``cloudtrail`` → AWS JSON 1.1), as moto's server does; unsigned requests by
their shape (an awsQuery form with ``Action``, an ``X-Amz-Target`` of a JSON service, else
restJson1). Authentication is injected (:data:`Authenticate`) so this module knows no IAM rule.
Every response carries ``x-amzn-RequestId``; an unexpected exception is logged with its request
id and answered with a 500 in the protocol's form, never a traceback. What it learns of each
request (operation, principal, error code) it notes in the request's
:mod:`~connectfed.request_scope`, for the edge's logs, metrics and audit trail.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from botocore.model import OperationModel

from connectfed import request_scope, uuids
from connectfed.auth.verify import ReceivedRequest, SignatureClaim, read_claim
from connectfed.cache import NotCached
from connectfed.errors import (
    AccessDenied,
    AuthError,
    InvalidSignature,
    MissingAuthenticationToken,
    ServiceError,
    ServiceUnavailable,
    client_error,
)
from connectfed.wire import awsjson, cti_model, query, restjson
from connectfed.wire.faults import FaultGate
from connectfed.wire.model import service_model
from connectfed.wire.registry import Registry, RequestContext
from connectfed.wire.trail_view import NotedCall
from connectfed.wire.validate import validation_message

log = logging.getLogger("connectfed.wire")

PROTOCOL = {"connect": "rest-json", "sts": "query", "iam": "query", "cloudtrail": "json"}
JSON_SERVICES = tuple(name for name, protocol in PROTOCOL.items() if protocol == "json")

# awsQuery services name the auth-layer errors differently from restJson1 services. An expired
# session token is 403 there too ("ExpiredToken ... Status Code: 403" in SDK issue threads for
# STS and IAM); the 400 ExpiredTokenException of STS's model is an expired SAML assertion.
_QUERY_ERRORS = {
    "UnrecognizedClientException": ("InvalidClientTokenId", 403),
    "InvalidSignatureException": ("SignatureDoesNotMatch", 403),
    "IncompleteSignatureException": ("IncompleteSignature", 403),
    "MissingAuthenticationTokenException": ("MissingAuthenticationToken", 403),
    "ExpiredTokenException": ("ExpiredToken", 403),
    "AccessDeniedException": ("AccessDenied", 403),
}


def denial_code(code: str) -> str:
    """The code a policy denial coded ``code`` (a domain error's code) reaches the caller of
    the request being handled as: ``AccessDeniedException`` is ``AccessDenied`` on the awsQuery
    services (IAM, STS), as :meth:`Dispatcher._error` writes it; any other code, or outside a
    request of an awsQuery service, as it is. For records of a denial written before the answer
    is (the explanation of a refused call names the code the caller saw)."""
    scope = request_scope.current()
    service = scope.service if scope is not None else None
    if service is not None and PROTOCOL.get(service) == "query" and code == AccessDenied.code:
        return _QUERY_ERRORS[code][0]
    return code


# (request, claim, service, request id, cached only) -> the principal; the request id travels
# with the principal to where authorisation decides, so a denial can be explained under it.
# With "cached only", the credentials are looked up in memory alone, or NotCached is raised.
Authenticate = Callable[[ReceivedRequest, SignatureClaim, str, str, bool], Any]


class _NotInline(Exception):
    """This request cannot be answered inline (see :meth:`Dispatcher.answer_inline`)."""


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


def _form(request: ReceivedRequest) -> dict[str, str] | None:
    """The awsQuery parameters of a request, or None when it is not an awsQuery request."""
    content_type = (request.header("content-type") or "").split(";")[0].strip().lower()
    if request.method == "POST" and content_type == "application/x-www-form-urlencoded":
        # A byte that is not UTF-8 spoils its own value (U+FFFD, as a %FF escape does), not
        # the whole form.
        pairs = parse_qsl(
            request.body.decode("utf-8", "replace"), keep_blank_values=True, strict_parsing=False
        )
    elif request.method == "GET" and "Action=" in request.raw_query:
        pairs = parse_qsl(request.raw_query, keep_blank_values=True)
    else:
        return None
    params = {k: v for k, v in pairs if not k.startswith("X-Amz-")}
    return params if "Action" in params else None


class Dispatcher:
    def __init__(
        self,
        registry: Registry,
        authenticate: Authenticate,
        services: Any,
        faults: FaultGate | None = None,
        unavailable: tuple[type[Exception], ...] = (),
        noted: Callable[[str, str], bool] = lambda service, name: False,
    ) -> None:
        self._registry = registry
        # The operations whose input and output are noted for the audit trail (decided once:
        # on every other call, GetCallerIdentity's with reads unaudited, one set lookup).
        self._noted = frozenset(op for op in registry.all() if noted(*op))
        # Exceptions meaning the service cannot answer now (the store's Unavailable: its
        # database is down), answered 503 ServiceUnavailable rather than as internal errors.
        self._unavailable = unavailable
        self._authenticate = authenticate
        self._services = services
        self._faults = faults  # the admin API's fault injection, when it is on
        self._storeless_actions = {name for _, name in registry.storeless}
        connect = service_model("connect")
        self._router = restjson.Router(
            connect.operation_model(name) for name in registry.operations("connect")
        )

    def handle(self, request: ReceivedRequest, request_id: str | None = None) -> Response:
        """Answer one request; ``request_id`` is the edge's id for it (a new one if absent)."""
        response = self._handle(request, request_id or uuids.uuid4(), inline=False)
        assert response is not None  # only an inline attempt declines
        return response

    def answer_inline(self, request: ReceivedRequest, request_id: str) -> Response | None:
        """The answer, when it needs nothing from the store: a ``storeless`` operation (see the
        registry) signed with credentials the authenticator holds in memory. Computed on the
        caller's thread (the server's event loop: no hop to the store's threads, which costs a
        cached read most of its time); None for any other request, which :meth:`handle` then
        answers where the store may be read. Never with the admin API's faults on."""
        if self._faults is not None or not self._registry.storeless:
            return None
        return self._handle(request, request_id, inline=True)

    def _handle(self, request: ReceivedRequest, request_id: str, inline: bool) -> Response | None:
        form = _form(request)
        if inline and (form is None or form.get("Action") not in self._storeless_actions):
            return None  # a cheap first look: no storeless operation has that name
        service = _query_service(form) if form is not None else _json_service(request) or "connect"
        try:
            claim = read_claim(request)
            if claim is not None and claim.service in PROTOCOL:
                service = claim.service
            elif claim is not None:
                # The auth layer's refusal, in the addressed service's own spelling.
                raise InvalidSignature(
                    f"Credential should be scoped to correct service: '{service}'. "
                )
            request_scope.note_service(service)
            if PROTOCOL[service] == "query":
                return self._query(request, request_id, service, claim, form or {}, inline)
            if inline:
                return None
            if PROTOCOL[service] == "json":
                return self._json(request, request_id, service, claim)
            return self._restjson(request, request_id, claim)
        except ServiceError as error:
            return self._error(service, error, request_id)
        except (NotCached, _NotInline):
            if inline:
                return None
            raise
        except Exception as exc:
            return self.failed(service, exc, request_id)

    def failed(self, service: str, error: BaseException, request_id: str) -> Response:
        """The answer to a request that raised ``error``, an exception no operation answers
        for: ``503 ServiceUnavailable`` when it means the service cannot answer now, else an
        internal error (logged with its traceback), in the protocol's form."""
        if isinstance(error, self._unavailable):
            log.error("request %s: %s", request_id, error)
            return self._error(service, ServiceUnavailable(), request_id)
        log.error("internal error handling request %s", request_id, exc_info=error)
        return self._internal(service, request_id)

    def not_durable(self, request_id: str, errors: Sequence[BaseException | None] = ()) -> Response:
        """The answer to a request whose deferred writes were not committed (the store's
        ``deferred`` module; ``errors``: theirs): a 503 or an internal error (see
        :meth:`failed`), in its protocol's form, instead of the operation's own answer."""
        scope = request_scope.current()
        service = (scope.service if scope else None) or "connect"
        for error in errors:
            if isinstance(error, self._unavailable):
                log.error("request %s: %s", request_id, error)
                return self._error(service, ServiceUnavailable(), request_id)
        return self._internal(service, request_id)

    def refusal(
        self,
        method: str,
        path: str,
        headers: Sequence[tuple[str, str]],
        error: ServiceError,
        request_id: str,
    ) -> Response:
        """``error`` answered to a request refused before it was read whole (a body too large
        or too slow, a path that is not UTF-8), in the protocol of the service its head
        addresses: its signature's service, else its content type or ``X-Amz-Target``
        (an awsQuery client cannot read restJson1's JSON error, nor a JSON one without
        ``__type``)."""
        return refusal_response(method, path, headers, error, request_id)

    def _internal(self, service: str, request_id: str) -> Response:
        internal = ServiceError(
            "An internal error occurred. Request id " + request_id,
            code="InternalServiceException" if service == "connect" else "InternalFailure",
            status=500,
        )
        return self._error(service, internal, request_id)

    def _error(self, service: str, error: ServiceError, request_id: str) -> Response:
        return error_response(service, error, request_id)

    def _context(
        self, request: ReceivedRequest, request_id: str, service: str, name: str, principal: Any
    ) -> RequestContext:
        return RequestContext(
            request_id,
            service,
            name,
            principal,
            self._services,
            source_ip=request.source_ip,
            secure=request.secure,
        )

    def _call(
        self,
        handler: Callable[[RequestContext, dict[str, Any]], Any],
        context: RequestContext,
        operation: OperationModel,
        params: dict[str, Any],
    ) -> Any:
        """The handler's answer; for an operation the audit trail records, its input (before)
        and output (after) noted in the request's scope."""
        if (context.service, context.operation) not in self._noted:
            return handler(context, params)
        call = NotedCall(context.service, operation, params)
        request_scope.note_call(call)
        call.result = handler(context, params)
        return call.result

    def _validate(
        self,
        operation: OperationModel,
        params: dict[str, Any],
        make_error: Callable[[str], ServiceError],
    ) -> None:
        shape = operation.input_shape
        if shape is not None:
            message = validation_message(shape, params)
            if message is not None:
                raise make_error(message)

    def _restjson(
        self, request: ReceivedRequest, request_id: str, claim: SignatureClaim | None
    ) -> Response:
        query_params: dict[str, list[str]] = {}
        for key, value in parse_qsl(request.raw_query, keep_blank_values=True):
            query_params.setdefault(key, []).append(value)
        if claim is None:
            raise MissingAuthenticationToken()
        principal = self._authenticate(request, claim, "connect", request_id, False)
        request_scope.note_principal(principal)
        found = self._router.match(request.method, request.raw_path, query_params)
        if found is None:
            raise client_error(
                "UnknownOperationException",
                "The requested operation is not supported by this endpoint.",
                404,
            )
        operation, labels = found
        request_scope.note_operation("connect", operation.name)
        if self._faults is not None:
            self._faults.before("connect", operation.name, request_id)
        headers = {name.lower(): value for name, value in request.headers}
        params = restjson.parse_input(operation, labels, query_params, headers, request.body)
        self._validate(operation, params, lambda m: restjson.validation_error(operation, m))
        handler = self._registry.get("connect", operation.name)
        assert handler is not None
        context = self._context(request, request_id, "connect", operation.name, principal)
        result = self._call(handler, context, operation, params)
        status, out_headers, body = restjson.serialize_output(operation, result)
        out_headers["x-amzn-RequestId"] = request_id
        return Response(status, out_headers, body)

    def _query(
        self,
        request: ReceivedRequest,
        request_id: str,
        service: str,
        claim: SignatureClaim | None,
        form: dict[str, str],
        inline: bool = False,
    ) -> Response:
        action = form.get("Action", "")
        if inline and (claim is None or (service, action) not in self._registry.storeless):
            raise _NotInline
        model = service_model(service)
        handler = self._registry.get(service, action)
        if handler is not None and action in model.operation_names:
            request_scope.note_operation(service, action)
        if claim is None and (service, action) not in self._registry.unsigned:
            raise MissingAuthenticationToken(
                "Request is missing Authentication Token"
                if action
                else "Missing Authentication Token"
            )
        principal = (
            None
            if claim is None
            else self._authenticate(request, claim, service, request_id, inline)
        )
        request_scope.note_principal(principal)
        if handler is None or action not in model.operation_names:
            raise client_error(
                "InvalidAction",
                f"Could not find operation {action} for version {model.api_version}",
            )
        if self._faults is not None:
            self._faults.before(service, action, request_id)
        operation = model.operation_model(action)
        params = query.parse_input(operation, form)
        self._validate(operation, params, lambda m: client_error("ValidationError", m))
        context = self._context(request, request_id, service, action, principal)
        result = self._call(handler, context, operation, params)
        namespace = model.metadata["xmlNamespace"]
        status, headers, body = query.serialize_output(operation, namespace, result, request_id)
        headers["x-amzn-RequestId"] = request_id
        return Response(status, headers, body)

    def _json(
        self,
        request: ReceivedRequest,
        request_id: str,
        service: str,
        claim: SignatureClaim | None,
    ) -> Response:
        model = service_model(service)
        name = awsjson.operation_name(model, request.header("x-amz-target"))
        if claim is None:
            raise MissingAuthenticationToken()
        principal = self._authenticate(request, claim, service, request_id, False)
        request_scope.note_principal(principal)
        handler = None if name is None else self._registry.get(service, name)
        if name is None or handler is None:
            raise client_error(
                "UnknownOperationException",
                "The requested operation is not supported by this endpoint.",
            )
        operation = model.operation_model(name)
        request_scope.note_operation(service, name)
        if self._faults is not None:
            self._faults.before(service, name, request_id)
        params = awsjson.parse_input(operation, request.body)
        self._validate(operation, params, lambda m: awsjson.validation_error(operation, m))
        context = self._context(request, request_id, service, name, principal)
        result = self._call(handler, context, operation, params)
        version = model.metadata.get("jsonVersion", "1.0")
        status, headers, body = awsjson.serialize_output(operation, result, version)
        headers["x-amzn-RequestId"] = request_id
        return Response(status, headers, body)


def error_response(service: str, error: ServiceError, request_id: str) -> Response:
    """``error`` answered in ``service``'s protocol, noted in the request's scope."""
    if PROTOCOL[service] == "json":
        version = service_model(service).metadata.get("jsonVersion", "1.0")
        status, headers, body = awsjson.serialize_error(error, version)
    elif PROTOCOL[service] == "query":
        # Only the auth layer's errors (and policy denials) take the query spellings; an
        # operation's own modelled error such as STS's ExpiredTokenException keeps its code.
        if error.code in _QUERY_ERRORS and isinstance(error, AuthError | AccessDenied):
            code, status = _QUERY_ERRORS[error.code]
            error = ServiceError(error.message, code=code, status=status, sender_fault=True)
        namespace = service_model(service).metadata["xmlNamespace"]
        status, headers, body = query.serialize_error(error, namespace, request_id)
    else:
        status, headers, body = restjson.serialize_error(error)
    request_scope.note_error(error.code, error.message)
    headers["x-amzn-RequestId"] = request_id
    return Response(status, headers, body)


def refusal_response(
    method: str,
    path: str,
    headers: Sequence[tuple[str, str]],
    error: ServiceError,
    request_id: str,
) -> Response:
    """``error`` for a request refused before it was read whole (see
    :meth:`Dispatcher.refusal`), in the protocol of the service its head (as far as it was
    read) addresses. In restJson1 its message is ``message``, as the auth layer's: AWS's
    front ends answer these, not the service."""
    if method == "POST" and cti_model.PATH.match(path):
        # The CTI API's (Streams' AWS SDK reads JSON 1.0 with ``__type``), as its other errors.
        status, fields, body = awsjson.serialize_error(error, "1.0")
        request_scope.note_error(error.code, error.message)
        fields["x-amzn-RequestId"] = request_id
        return Response(status, fields, body)
    error.message_key = "message"
    return error_response(_head_service(method, path, headers), error, request_id)


_SCOPE_SERVICE = re.compile(r"Credential=[^/,\s]*/[0-9]{8}/[^/,\s]*/([^/,\s]+)/aws4_request")


def _head_service(method: str, path: str, headers: Sequence[tuple[str, str]]) -> str:
    """The service a request addresses, from its head alone (an unsigned form posted anywhere
    but ``/`` is a browser's, answered as restJson1 as before)."""
    found = {name.lower(): value for name, value in headers}
    scoped = _SCOPE_SERVICE.search(found.get("authorization", ""))
    if scoped is not None and scoped.group(1) in PROTOCOL:
        return scoped.group(1)
    content_type = found.get("content-type", "").split(";")[0].strip().lower()
    if method == "POST" and path == "/" and content_type == "application/x-www-form-urlencoded":
        return "sts"
    target = found.get("x-amz-target")
    if method == "POST" and target:
        for name in JSON_SERVICES:
            if awsjson.targets(service_model(name), target):
                return name
    return "connect"


def _query_service(form: dict[str, str]) -> str:
    """The awsQuery service a form addresses when its signature does not say: IAM by its API
    version, else STS."""
    return "iam" if form.get("Version") == service_model("iam").api_version else "sts"


def _json_service(request: ReceivedRequest) -> str | None:
    """The JSON-protocol service an (unsigned) request's ``X-Amz-Target`` addresses, if any."""
    target = request.header("x-amz-target")
    if request.method != "POST" or not target:
        return None
    for name in JSON_SERVICES:
        if awsjson.targets(service_model(name), target):
            return name
    return None

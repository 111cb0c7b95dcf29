"""JSON 1.0 for Streams' ``AmazonConnectCTIService``: route, authenticate, parse, validate, call,
serialise, map errors — once, driven by the model read from the installed Streams package.

A request is ``POST <base>/api`` (or ``/connect/api``, ``/api``) with ``X-Amz-Target:
AmazonConnectCTIService.<Op>`` and a JSON body; the agent's access token travels in the
``X-Amz-Bearer`` header (Streams' ``AWSClient`` sets it on every call) and/or in the body's
``authentication.authToken`` member. Errors are answered as the AWS SDK for JavaScript v2's JSON
protocol reads them: ``x-amzn-ErrorType`` and a body ``{"__type": <code>, "message": …}``;
Streams then branches on ``err.code`` / ``err.statusCode`` (401 ``UnauthorizedException``
→ re-authorise, 403 ``AccessDeniedException`` → access denied).

A handler may return an awaitable (``GetAgentSnapshot``'s long poll): the synchronous steps run
off the event loop (connectfed.offload), the wait runs on the event loop itself, so a
waiting agent holds no thread. Authentication is injected (:data:`BearerAuthenticate`): this
module knows no token rule.
"""

from __future__ import annotations

import inspect
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from botocore.model import OperationModel, ServiceModel

from connectfed import jsonsafe, request_scope
from connectfed.errors import ServiceError, ServiceUnavailable, client_error
from connectfed.wire import awsjson, restjson
from connectfed.wire.dispatch import Response
from connectfed.wire.faults import FaultGate
from connectfed.wire.registry import Params, RequestContext
from connectfed.wire.validate import validation_message

log = logging.getLogger("connectfed.wire.cti")

SERVICE = "connect-cti"
CONTENT_TYPE = "application/x-amz-json-1.0"

CtiResult = dict[str, Any] | None | Awaitable[dict[str, Any] | None]
CtiHandler = Callable[[RequestContext, Params], CtiResult]
# (token, instance id named by the URL or None) -> principal; raises ServiceError when refused.
BearerAuthenticate = Callable[[str, str | None], Any]
Runner = Callable[..., Awaitable[Any]]

HANDLERS: dict[str, CtiHandler] = {}
H = TypeVar("H", bound=CtiHandler)


def cti_operation(name: str) -> Callable[[H], H]:
    """Registers the handler of one CTI operation."""

    def register(handler: H) -> H:
        HANDLERS[name] = handler
        return handler

    return register


def unauthorized(message: str) -> ServiceError:
    return client_error("UnauthorizedException", message, 401)


def serialize_error(error: ServiceError) -> tuple[int, dict[str, str], bytes]:
    return awsjson.serialize_error(error, "1.0")


@dataclass(frozen=True, slots=True)
class _Prepared:
    operation: OperationModel
    result: CtiResult


def _header(headers: Sequence[tuple[str, str]], name: str) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def _token(headers: Sequence[tuple[str, str]], document: dict[str, Any]) -> str:
    bearer = _header(headers, "x-amz-bearer")
    authentication = document.get("authentication")
    if authentication is not None and not isinstance(authentication, dict):
        raise restjson.SerializationError("Value of 'authentication' has the wrong type")
    in_body = (authentication or {}).get("authToken")
    if in_body is not None and not isinstance(in_body, str):
        raise restjson.SerializationError("Value of 'authentication.authToken' has the wrong type")
    if bearer and in_body and bearer != in_body:
        raise unauthorized("The X-Amz-Bearer header and authentication.authToken differ.")
    token = bearer or in_body
    if not token:
        raise unauthorized("Missing access token: send it in the X-Amz-Bearer header.")
    return token


class CtiDispatcher:
    """Answers CTI requests. ``model`` is None when Streams is not installed (``missing`` says
    what to do), and then every request gets that message as a 503."""

    def __init__(
        self,
        model: ServiceModel | None,
        missing: str,
        authenticate: BearerAuthenticate,
        services: Any,
        run: Runner,
        faults: FaultGate | None = None,
        unavailable: tuple[type[Exception], ...] = (),
    ) -> None:
        self._faults = faults  # the admin API's fault injection, when it is on
        self._unavailable = unavailable  # answered 503 ServiceUnavailable (see Dispatcher)
        self._model = model
        self._missing = missing
        self._authenticate = authenticate
        self._services = services
        self._run = run

    @property
    def available(self) -> bool:
        return self._model is not None

    async def handle(
        self,
        instance_id: str | None,
        headers: Sequence[tuple[str, str]],
        body: bytes,
        request_id: str | None = None,
    ) -> Response:
        """Answer one request; ``request_id`` is the edge's id for it (a new one if absent)."""
        scope = request_scope.current()
        request_id = request_id or (scope.request_id if scope is not None else str(uuid.uuid4()))
        try:
            prepared = await self._run(self._prepare, request_id, instance_id, headers, body)
            result = prepared.result
            if inspect.isawaitable(result):
                result = await result
            return self._output(prepared.operation, result, request_id)
        except ServiceError as error:
            request_scope.note_error(error.code, error.message)
            return self._error(error, request_id)
        except self._unavailable as error:
            log.error("CTI request %s: %s", request_id, error)
            request_scope.note_error(ServiceUnavailable.code, "unavailable")
            return self._error(ServiceUnavailable(), request_id)
        except Exception:
            log.exception("internal error handling CTI request %s", request_id)
            request_scope.note_error("InternalServiceException", "internal error")
            return self._error(
                ServiceError(
                    "An internal error occurred. Request id " + request_id,
                    code="InternalServiceException",
                    status=500,
                ),
                request_id,
            )

    def _prepare(
        self,
        request_id: str,
        instance_id: str | None,
        headers: Sequence[tuple[str, str]],
        body: bytes,
    ) -> _Prepared:
        if self._model is None:
            raise ServiceError(self._missing, code="ServiceUnavailableException", status=503)
        target = _header(headers, "x-amz-target") or ""
        prefix, _, name = target.partition(".")
        if prefix != self._model.metadata["targetPrefix"] or not name:
            raise client_error("UnknownOperationException", f"Unknown target: {target!r}")
        if name in self._model.operation_names:
            request_scope.note_operation(SERVICE, name)
        try:
            document = jsonsafe.loads(body) if body.strip() else {}
        except (ValueError, UnicodeDecodeError):
            raise restjson.SerializationError("Request body is not valid JSON") from None
        if not isinstance(document, dict):
            raise restjson.SerializationError("Request body must be a JSON object")
        token = _token(headers, document)
        principal = self._authenticate(token, instance_id)
        request_scope.note_principal(principal)
        handler = HANDLERS.get(name)
        if handler is None or name not in self._model.operation_names:
            raise client_error("UnknownOperationException", f"Unknown operation: {name!r}")
        if self._faults is not None:
            self._faults.before("cti", name, request_id)
        operation = self._model.operation_model(name)
        params: dict[str, Any] = {}
        shape = operation.input_shape
        if shape is not None:
            params = restjson.read_json(shape, document)
            if "authentication" in shape.members:
                params.setdefault("authentication", {})
                params["authentication"].setdefault("authToken", token)
            message = validation_message(shape, params)
            if message is not None:
                raise client_error("ValidationException", message)
        context = RequestContext(request_id, SERVICE, name, principal, self._services)
        return _Prepared(operation, handler(context, params))

    def _output(
        self, operation: OperationModel, result: dict[str, Any] | None, request_id: str
    ) -> Response:
        shape = operation.output_shape
        document = {} if shape is None or result is None else restjson.write_json(shape, result)
        headers = {"Content-Type": CONTENT_TYPE, "x-amzn-RequestId": request_id}
        return Response(200, headers, json.dumps(document, separators=(",", ":")).encode())

    def _error(self, error: ServiceError, request_id: str) -> Response:
        status, headers, body = serialize_error(error)
        headers["x-amzn-RequestId"] = request_id
        return Response(status, headers, body)

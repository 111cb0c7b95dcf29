"""Typed errors for GetFederationToken, and one parser for JSON (restJson1) and XML (query)
error bodies.

The closed set: the operation's modelled errors (plus ``ThrottlingException``), the auth-layer
errors (with the awsQuery spellings mapped onto them), and :class:`UnknownServiceError` for any
other code, carrying code, message, status and request id.
"""

from __future__ import annotations

from collections.abc import Mapping

from connectfed import jsonsafe


class ConnectfedError(Exception):
    """Root of every error the client raises."""

    attempts = 1  # the requests made, retries included
    max_attempts_reached = False  # retryable, but every allowed attempt was made
    retryable = False  # whether the client's retry mode tries again after this error


class ServiceError(ConnectfedError):
    """An error response from the service."""

    code = "Unknown"
    _retryable: bool | None = None

    def __init__(
        self, message: str, *, status: int, request_id: str | None, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.request_id = request_id
        if code is not None:
            self.code = code

    @property
    def retryable(self) -> bool:
        """Whether the retry mode tries again after this error: the mode of the client that
        raised it (which set this), else boto3's default mode, ``standard``."""
        if self._retryable is None:
            from connectfed.client.retries import retryable  # retries imports this module

            return retryable(self, "standard")
        return self._retryable

    @retryable.setter
    def retryable(self, value: bool) -> None:
        self._retryable = value

    def __str__(self) -> str:
        return f"{self.code} ({self.status}): {self.message}"


class DuplicateResourceException(ServiceError):
    code = "DuplicateResourceException"


class InternalServiceException(ServiceError):
    code = "InternalServiceException"


class InvalidParameterException(ServiceError):
    code = "InvalidParameterException"


class InvalidRequestException(ServiceError):
    code = "InvalidRequestException"


class ResourceNotFoundException(ServiceError):
    code = "ResourceNotFoundException"


class UserNotFoundException(ServiceError):
    code = "UserNotFoundException"


class ThrottlingException(ServiceError):
    code = "ThrottlingException"


class AuthenticationError(ServiceError):
    """Raised by the service's authentication layer, before the operation runs."""


class AccessDeniedException(AuthenticationError):
    code = "AccessDeniedException"


class MissingAuthenticationTokenException(AuthenticationError):
    code = "MissingAuthenticationTokenException"


class UnrecognizedClientException(AuthenticationError):
    code = "UnrecognizedClientException"


class InvalidSignatureException(AuthenticationError):
    code = "InvalidSignatureException"


class IncompleteSignatureException(AuthenticationError):
    code = "IncompleteSignatureException"


class ExpiredTokenException(AuthenticationError):
    code = "ExpiredTokenException"


class UnknownServiceError(ServiceError):
    """Any error code outside the closed set; ``code`` is what the service said."""

    def __init__(
        self, message: str, *, status: int, request_id: str | None, code: str | None = None
    ) -> None:
        super().__init__(message, status=status, request_id=request_id, code=code or "Unknown")


class ClientClosedError(ConnectfedError):
    """The client was closed (``close()``, or the end of its ``with``/``async with`` block): it
    makes no more requests."""

    def __init__(self) -> None:
        super().__init__(
            "This client is closed (close() was called or its with block ended): make a new one"
        )


class TransportError(ConnectfedError):
    """The request did not get an HTTP response (connection, TLS, timeout)."""

    retryable = True  # in every retry mode


class ConnectTimeout(TransportError):
    pass


class ReadTimeout(TransportError):
    pass


_CLASSES: dict[str, type[ServiceError]] = {
    cls.code: cls
    for cls in (
        DuplicateResourceException,
        InternalServiceException,
        InvalidParameterException,
        InvalidRequestException,
        ResourceNotFoundException,
        UserNotFoundException,
        ThrottlingException,
        AccessDeniedException,
        MissingAuthenticationTokenException,
        UnrecognizedClientException,
        InvalidSignatureException,
        IncompleteSignatureException,
        ExpiredTokenException,
    )
}
# awsQuery services spell the same errors differently (and throttling has several names).
_ALIASES = {
    "AccessDenied": "AccessDeniedException",
    "MissingAuthenticationToken": "MissingAuthenticationTokenException",
    "InvalidClientTokenId": "UnrecognizedClientException",
    "SignatureDoesNotMatch": "InvalidSignatureException",
    "IncompleteSignature": "IncompleteSignatureException",
    "ExpiredToken": "ExpiredTokenException",
    "Throttling": "ThrottlingException",
    "TooManyRequestsException": "ThrottlingException",
    "InternalFailure": "InternalServiceException",
}


def _clean_code(code: str) -> str:
    # "Name:http://internal.amazon.com/coral/..." and "aws.protocoltests#Name" both mean Name.
    return code.split(":", 1)[0].rsplit("#", 1)[-1].strip()


def _strip_ns(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def error_from_json(status: int, headers: Mapping[str, str], body: bytes) -> ServiceError:
    request_id = headers.get("x-amzn-requestid")
    code = headers.get("x-amzn-errortype") or ""
    message = ""
    try:
        document = jsonsafe.loads(body) if body.strip() else {}
    except ValueError:
        document = {}
    if isinstance(document, dict):
        code = code or str(
            document.get("__type") or document.get("code") or document.get("Code") or ""
        )
        message = str(document.get("message") or document.get("Message") or "")
    return make_error(_clean_code(code), message, status, request_id)


def error_from_xml(status: int, headers: Mapping[str, str], body: bytes) -> ServiceError:
    from xml.etree import ElementTree  # only error bodies of query services need it

    request_id = headers.get("x-amzn-requestid")
    code = message = ""
    try:
        # Error bodies come from the endpoint the user chose; the stdlib parser does not fetch
        # external entities.
        root = ElementTree.fromstring(body)  # noqa: S314
    except ElementTree.ParseError:
        return make_error("", body.decode("utf-8", "replace")[:200], status, request_id)
    for element in root.iter():
        name = _strip_ns(element.tag)
        if name == "Code" and not code:
            code = (element.text or "").strip()
        elif name == "Message" and not message:
            message = (element.text or "").strip()
        elif name == "RequestId" and not request_id:
            request_id = (element.text or "").strip()
    return make_error(_clean_code(code), message, status, request_id)


def parse_error(status: int, headers: Mapping[str, str], body: bytes) -> ServiceError:
    """Read an error response in whichever form it came (JSON or XML). A 5xx answer with no
    body or an HTML page (a proxy's, a load balancer's) is, as botocore reads it, the status
    as its code and the status's reason phrase as its message (unless an ``x-amzn-ErrorType``
    header names the error: botocore would still say the status, the Smithy protocol tests the
    header's code)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    stripped = body.strip()
    generic = not stripped or stripped.startswith(b"<html>")
    if status >= 500 and generic and "x-amzn-errortype" not in lowered:
        from http import HTTPStatus  # on this error only: the CLI starts fast

        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = ""
        return make_error(str(status), phrase, status, lowered.get("x-amzn-requestid"))
    content_type = lowered.get("content-type", "")
    if "xml" in content_type or body.lstrip().startswith(b"<"):
        return error_from_xml(status, lowered, body)
    return error_from_json(status, lowered, body)


def make_error(code: str, message: str, status: int, request_id: str | None) -> ServiceError:
    """The typed error for ``code``, which keeps the service's spelling (an awsQuery
    ``AccessDenied`` is an :class:`AccessDeniedException` whose ``code`` is "AccessDenied", as
    botocore reports it and decides retries by it); with no code, botocore's: the HTTP status (a
    429 with no code is still a :class:`ThrottlingException` to catch, its ``code`` "429")."""
    if not code:
        if status == 429:
            return ThrottlingException(message, status=status, request_id=request_id, code="429")
        return UnknownServiceError(message, status=status, request_id=request_id, code=str(status))
    cls = _CLASSES.get(_ALIASES.get(code, code))
    if cls is None:
        return UnknownServiceError(message, status=status, request_id=request_id, code=code)
    return cls(message, status=status, request_id=request_id, code=code)

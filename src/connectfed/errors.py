"""The one root of every error the service reports to a caller.

A :class:`ServiceError` carries what every AWS protocol needs to render it: the error code
(``x-amzn-ErrorType`` / ``<Code>``), the HTTP status, whether the sender or the receiver is at
fault (awsQuery's ``<Type>``), and the message. The wire layer renders them. Nothing here knows
about HTTP transports.

Domain services refuse with exceptions in their own terms (``connectfed.identity.errors``,
``connectfed.connect.errors``…), which :mod:`connectfed.api.errors` turns into these. Only what
cuts across every operation is raised as a ServiceError directly: the authentication layer's
errors below, and :class:`AccessDenied` from policy evaluation.
"""

from __future__ import annotations

from collections.abc import Callable


class ServiceError(Exception):
    """An error with an AWS error code, meant to be shown to the caller."""

    code: str = "InternalFailure"
    status: int = 500
    sender_fault: bool = False
    # restJson1 auth-layer errors use {"message": ...}; modelled exceptions use {"Message": ...}.
    message_key: str = "Message"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        sender_fault: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        if sender_fault is not None:
            self.sender_fault = sender_fault
        elif status is not None:
            self.sender_fault = status < 500

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.status}, {self.message!r})"


def client_error(code: str, message: str, status: int = 400) -> ServiceError:
    """A sender-fault error with the given AWS code."""
    return ServiceError(message, code=code, status=status, sender_fault=True)


class ServiceUnavailable(ServiceError):
    """The service cannot answer now (its database cannot be reached); the caller may try again.
    AWS's common error of every service and protocol: ``503 ServiceUnavailable``, which the SDKs
    retry."""

    code = "ServiceUnavailable"
    status = 503
    sender_fault = False

    def __init__(self, message: str = "Service unavailable. Please try again later.") -> None:
        super().__init__(message)


# The error a caller is told of an exception (:func:`connectfed.api.errors.aws_error`), handed
# by the wire side to the domain flows that record it (audit events, explanations).
AwsErrorOf = Callable[[Exception], ServiceError]


class AuthError(ServiceError):
    """Errors raised by the authentication layer, before any operation runs.

    On restJson1 services AWS renders these with a lower-case ``message`` key.
    """

    status = 403
    sender_fault = True
    message_key = "message"


class MissingAuthenticationToken(AuthError):
    code = "MissingAuthenticationTokenException"

    def __init__(self, message: str = "Missing Authentication Token") -> None:
        super().__init__(message)


class UnrecognizedClient(AuthError):
    code = "UnrecognizedClientException"

    def __init__(
        self, message: str = "The security token included in the request is invalid."
    ) -> None:
        super().__init__(message)


class InvalidSignature(AuthError):
    code = "InvalidSignatureException"
    DEFAULT = (
        "The request signature we calculated does not match the signature you provided. "
        "Check your AWS Secret Access Key and signing method. "
        "Consult the service documentation for details."
    )

    def __init__(self, message: str = DEFAULT) -> None:
        super().__init__(message)


class IncompleteSignature(AuthError):
    code = "IncompleteSignatureException"


class ExpiredToken(AuthError):
    code = "ExpiredTokenException"

    def __init__(
        self, message: str = "The security token included in the request is expired"
    ) -> None:
        super().__init__(message)


class AccessDenied(ServiceError):
    """A policy evaluation said no. The code differs per protocol family."""

    status = 403
    sender_fault = True
    code = "AccessDeniedException"

"""Domain exceptions as AWS errors: the one table of their error codes and HTTP statuses.

Domain services refuse with exceptions in their own terms (:mod:`connectfed.identity.errors`,
:mod:`connectfed.connect.errors`, :mod:`connectfed.audit.history`, …) whose ``str()`` is the
message the caller gets; this table gives each the AWS code and status it is answered with
(every one a sender fault). Handlers are registered with :func:`operation`, which applies the
table to every operation; the browser's routes, declared worlds and the flows that record the
error a caller got (GetFederationToken's and AssumeRoleWithSAML's audit events and
explanations) call :func:`aws_error`.

A :class:`~connectfed.errors.ServiceError` passes as it is: the authentication layer's errors
and policy denials (``AccessDenied``) are the same for every operation and stay ServiceErrors.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from connectfed.audit import history
from connectfed.connect import errors as connect
from connectfed.connect.federation import ConnectUserNotFound, RoleAlreadyBound
from connectfed.connect.throttle import Throttled
from connectfed.errors import ServiceError
from connectfed.identity import errors as identity
from connectfed.identity.policy import MalformedPolicy
from connectfed.identity.saml_refusal import SamlExpired, SamlRefusal
from connectfed.identity.session_tags import InvalidSessionTags, PackedPolicyTooLarge
from connectfed.wire import registry
from connectfed.wire.registry import Handler, Params, RequestContext

# A class stands for its subclasses too (the nearest class in the table wins).
_CODES: dict[type[Exception], tuple[str, int]] = {
    # IAM and STS
    identity.EntityNotFound: ("NoSuchEntity", 404),
    identity.EntityExists: ("EntityAlreadyExists", 409),
    identity.EntityInUse: ("DeleteConflict", 409),
    identity.QuotaExceeded: ("LimitExceeded", 409),
    identity.PoliciesTooLarge: ("LimitExceeded", 409),
    MalformedPolicy: ("MalformedPolicyDocument", 400),
    identity.InvalidRequest: ("InvalidInput", 400),
    identity.UserNameRequired: ("ValidationError", 400),
    identity.InvalidRoleArn: ("ValidationError", 400),
    identity.DurationTooLong: ("ValidationError", 400),
    SamlRefusal: ("InvalidIdentityToken", 400),
    InvalidSessionTags: ("InvalidParameterValue", 400),
    PackedPolicyTooLarge: ("PackedPolicyTooLarge", 400),
    SamlExpired: ("ExpiredTokenException", 400),
    # Amazon Connect
    connect.ResourceNotFound: ("ResourceNotFoundException", 404),
    connect.AlreadyExists: ("DuplicateResourceException", 409),
    connect.InvalidReference: ("InvalidParameterException", 400),
    connect.InvalidParameter: ("InvalidParameterException", 400),
    connect.InvalidRequest: ("InvalidRequestException", 400),
    Throttled: ("ThrottlingException", 429),
    ConnectUserNotFound: ("UserNotFoundException", 404),
    RoleAlreadyBound: ("DuplicateResourceException", 409),
    # CloudTrail
    history.InvalidTimeRange: ("InvalidTimeRangeException", 400),
    history.InvalidMaxResults: ("InvalidMaxResultsException", 400),
    history.InvalidLookupAttributes: ("InvalidLookupAttributesException", 400),
    history.InvalidNextToken: ("InvalidNextTokenException", 400),
}
DOMAIN_ERRORS = tuple(_CODES)
# Every refusal :func:`aws_error` tells: the domain's, and ServiceErrors as they are.
REFUSALS: tuple[type[Exception], ...] = (ServiceError, *DOMAIN_ERRORS)


def aws_error(error: Exception) -> ServiceError:
    """The AWS error a caller is told of ``error``: a ServiceError as it is, a domain exception
    by the table (TypeError for an exception the table does not know: a bug)."""
    if isinstance(error, ServiceError):
        return error
    for kind in type(error).__mro__:
        if kind in _CODES:
            code, status = _CODES[kind]
            return ServiceError(str(error), code=code, status=status, sender_fault=True)
    raise TypeError(f"no AWS error for {type(error).__name__}") from error


def operation(
    service: str, name: str, *, unsigned: bool = False, storeless: bool = False
) -> Callable[[Handler], Handler]:
    """:func:`connectfed.wire.registry.operation`, answering domain exceptions with their AWS
    errors."""

    def register(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def run(ctx: RequestContext, params: Params) -> dict[str, Any] | None:
            try:
                return handler(ctx, params)
            except DOMAIN_ERRORS as error:
                raise aws_error(error) from None

        return registry.operation(service, name, unsigned=unsigned, storeless=storeless)(run)

    return register

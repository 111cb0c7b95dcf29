"""The table of AWS errors for the domain's exceptions (connectfed.api.errors): every exception
has one, and each is answered with AWS's code, status and message."""

from __future__ import annotations

import pytest

import connectfed.api  # noqa: F401  (every module defining domain exceptions)
from connectfed.api.errors import DOMAIN_ERRORS, aws_error
from connectfed.audit.history import LookupRefused
from connectfed.connect.errors import (
    AlreadyExists,
    ConnectError,
    InvalidReference,
    NameTaken,
    ResourceKind,
    ResourceNotFound,
)
from connectfed.connect.federation import ConnectUserNotFound
from connectfed.connect.throttle import Throttled
from connectfed.errors import AccessDenied
from connectfed.identity.errors import (
    Dependent,
    DurationLimit,
    DurationTooLong,
    Entity,
    EntityExists,
    EntityInUse,
    EntityNotFound,
    IdentityError,
    PoliciesTooLarge,
    Quota,
    QuotaExceeded,
    UserNameRequired,
)
from connectfed.identity.policy import MalformedPolicy
from connectfed.identity.saml_refusal import SamlExpired, SamlRefusal

ARN = "arn:aws:iam::111122223333:saml-provider/Okta"


def _all_subclasses(root: type[Exception]) -> set[type[Exception]]:
    found = set(root.__subclasses__())
    for kind in list(found):
        found |= _all_subclasses(kind)
    return found


@pytest.mark.parametrize(
    "kind",
    sorted(
        _all_subclasses(IdentityError)
        | _all_subclasses(ConnectError)
        | _all_subclasses(LookupRefused),
        key=str,
    ),
    ids=lambda k: k.__name__,
)
def test_every_domain_exception_has_an_aws_error(kind: type[Exception]) -> None:
    assert any(issubclass(kind, mapped) for mapped in DOMAIN_ERRORS)


@pytest.mark.parametrize(
    ("error", "code", "status", "message"),
    [
        (
            EntityNotFound(Entity.USER, "bob"),
            "NoSuchEntity",
            404,
            "The user with name bob cannot be found.",
        ),
        (
            EntityNotFound(Entity.ROLE_POLICY, "p"),
            "NoSuchEntity",
            404,
            "The role policy with name p cannot be found.",
        ),
        (
            EntityNotFound(Entity.ACCESS_KEY, "AKIA1"),
            "NoSuchEntity",
            404,
            "The Access Key with id AKIA1 cannot be found.",
        ),
        (
            EntityNotFound(Entity.SAML_PROVIDER, ARN),
            "NoSuchEntity",
            404,
            f"SAMLProvider {ARN} does not exist.",
        ),
        (
            EntityExists(Entity.ROLE, "Agent"),
            "EntityAlreadyExists",
            409,
            "Role with name Agent already exists.",
        ),
        (
            EntityExists(Entity.ACCESS_KEY, "AKIA1"),
            "EntityAlreadyExists",
            409,
            "The access key AKIA1 already exists.",
        ),
        (
            EntityInUse(Entity.USER, "bob", Dependent.ACCESS_KEYS),
            "DeleteConflict",
            409,
            "Cannot delete entity, must delete access keys first.",
        ),
        (
            EntityInUse(Entity.ROLE, "Agent"),
            "DeleteConflict",
            409,
            "Cannot delete entity, must delete policies first.",
        ),
        (
            QuotaExceeded(Quota.TRUST_POLICY_SIZE, 2048),
            "LimitExceeded",
            409,
            "Cannot exceed quota for ACLSizePerRole: 2048",
        ),
        (
            PoliciesTooLarge(Entity.USER, "bob", 2048),
            "LimitExceeded",
            409,
            "Maximum policy size of 2048 bytes exceeded for user bob",
        ),
        (
            MalformedPolicy("Syntax errors in policy."),
            "MalformedPolicyDocument",
            400,
            "Syntax errors in policy.",
        ),
        (
            UserNameRequired(),
            "ValidationError",
            400,
            "Must specify userName when calling with non-User credentials",
        ),
        (
            DurationTooLong(DurationLimit.ROLE_CHAINING),
            "ValidationError",
            400,
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed "
            "by role chaining.",
        ),
        (
            SamlRefusal("The SAML assertion has already been used", "replayed"),
            "InvalidIdentityToken",
            400,
            "The SAML assertion has already been used",
        ),
        (
            SamlExpired("The SAML session has ended (SessionNotOnOrAfter)", "session_ended"),
            "ExpiredTokenException",
            400,
            "The SAML session has ended (SessionNotOnOrAfter)",
        ),
        (
            ResourceNotFound(ResourceKind.INSTANCE, "i-1"),
            "ResourceNotFoundException",
            404,
            "Instance not found: i-1",
        ),
        (
            ResourceNotFound(ResourceKind.USER, "u-1"),
            "ResourceNotFoundException",
            404,
            "User not found for UserId: u-1",
        ),
        (
            AlreadyExists(ResourceKind.USER, "username", "agent1"),
            "DuplicateResourceException",
            409,
            "User with username agent1 already exists.",
        ),
        (
            NameTaken(ResourceKind.QUEUE, "Sales"),
            "DuplicateResourceException",
            409,
            "Queue with name Sales already exists.",
        ),
        (
            InvalidReference(ResourceKind.SECURITY_PROFILE, "sp-1"),
            "InvalidParameterException",
            400,
            "Security profile sp-1 does not exist in this instance.",
        ),
        (Throttled(), "ThrottlingException", 429, "Rate exceeded"),
        (
            ConnectUserNotFound(),
            "UserNotFoundException",
            404,
            "No user with the specified credentials was found in the Amazon Connect instance.",
        ),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else None,
)
def test_a_domain_exception_is_told_as_aws_says_it(
    error: Exception, code: str, status: int, message: str
) -> None:
    told = aws_error(error)
    assert (told.code, told.status, told.message, told.sender_fault) == (
        code,
        status,
        message,
        True,
    )


def test_a_service_error_passes_as_it_is() -> None:
    denied = AccessDenied("no")
    assert aws_error(denied) is denied


def test_an_exception_outside_the_table_is_a_bug() -> None:
    with pytest.raises(TypeError):
        aws_error(KeyError("x"))

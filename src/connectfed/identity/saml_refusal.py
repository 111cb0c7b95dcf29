"""Why AssumeRoleWithSAML (or the browser's SAML sign-in) refused an assertion, each refusal
carrying a short ``reason`` for the audit trail and the metrics."""

from __future__ import annotations

from connectfed.errors import AccessDenied
from connectfed.identity.errors import IdentityError


class SamlRefusal(IdentityError):
    """An assertion refused by a SAML rule (STS's ``InvalidIdentityToken``); ``reason`` is a
    short kind for the audit trail and the metrics (an :class:`AssertionRejected` reason, or one
    of this module's rules)."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class SamlExpired(SamlRefusal):
    """The assertion, or the SAML session it grants, has ended (STS's
    ``ExpiredTokenException``)."""


class SamlDenied(AccessDenied):
    """The assertion is valid but does not let its subject have the role (``reason`` as in
    :class:`SamlRefusal`): a policy denial, so an ``AccessDenied`` like every other."""

    def __init__(self, reason: str) -> None:
        super().__init__("Not authorized to perform sts:AssumeRoleWithSAML")
        self.reason = reason


def refusal_reason(error: Exception) -> str | None:
    """Why a SAML assertion was refused, when ``error`` says it was."""
    return error.reason if isinstance(error, SamlRefusal | SamlDenied) else None


def not_authorized(reason: str = "not_authorized") -> AccessDenied:
    return SamlDenied(reason)

"""Why AssumeRoleWithSAML (or the browser's SAML sign-in) refused an assertion: STS's errors,
each carrying a short ``reason`` for the audit trail and the metrics."""

from __future__ import annotations

from connectfed.errors import AccessDenied, ServiceError


class SamlRefusal(ServiceError):
    """An assertion refused by a SAML rule; ``reason`` is a short kind for the audit trail and
    the metrics (an :class:`AssertionRejected` reason, or one of this module's rules)."""

    sender_fault = True

    def __init__(self, message: str, reason: str, code: str = "InvalidIdentityToken") -> None:
        super().__init__(message, code=code, status=400)
        self.reason = reason


class SamlDenied(AccessDenied):
    """The assertion is valid but does not let its subject have the role (``reason`` as in
    :class:`SamlRefusal`)."""

    def __init__(self, reason: str) -> None:
        super().__init__("Not authorized to perform sts:AssumeRoleWithSAML")
        self.reason = reason


def refusal_reason(error: ServiceError) -> str | None:
    """Why a SAML assertion was refused, when ``error`` says it was."""
    return error.reason if isinstance(error, SamlRefusal | SamlDenied) else None


def invalid_token(message: str, reason: str = "invalid") -> ServiceError:
    return SamlRefusal(message, reason)


def not_authorized(reason: str = "not_authorized") -> AccessDenied:
    return SamlDenied(reason)

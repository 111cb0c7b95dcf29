"""Denials of API calls as audit events: a request answered ``AccessDenied`` (awsQuery) or
``AccessDeniedException`` (restJson1, JSON) that no service recorded itself is recorded under
the operation's own name, from its source, with the error the caller got — as CloudTrail
records a denied call. The request's :mod:`~connectfed.request_scope` says all of it.
"""

from __future__ import annotations

from connectfed.audit.actors import actor_of
from connectfed.audit.calls import is_read_only
from connectfed.audit.events import UNKNOWN_ACTOR, AuditEvent, EventSource, Failure
from connectfed.identity.principal import Principal
from connectfed.request_scope import RequestScope

DENIAL_CODES = frozenset({"AccessDenied", "AccessDeniedException"})


def denial_event(scope: RequestScope) -> AuditEvent | None:
    """The event of a denied API call, or None when the request was not one (or a service
    already recorded an event for it)."""
    if scope.audited or scope.error_code not in DENIAL_CODES or not scope.operation:
        return None
    source = EventSource.of_service(scope.service or "")
    if source is None:
        return None
    principal = scope.principal
    actor = actor_of(principal) if isinstance(principal, Principal) else UNKNOWN_ACTOR
    return AuditEvent(
        scope.operation,
        source,
        actor,
        failure=Failure(scope.error_code or "AccessDenied", scope.error_message or ""),
        read_only=is_read_only(scope.operation),
    )

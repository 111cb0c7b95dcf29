"""CloudTrail ``LookupEvents`` over the audit trail (AWS CloudTrail API Reference,
"LookupEvents").

Rules kept from the API: at most one lookup attribute; ``ReadOnly`` takes ``true`` or
``false``; a start time after the end time is refused; both ends are inclusive; 1 to 50 results
a page (default 50), newest first; a ``NextToken`` is only valid with the parameters it was
issued for; ``EventCategory insight`` finds nothing (there are no Insights events here).
Authorisation: the action ``cloudtrail:LookupEvents`` on resource ``*`` (it supports no
resource-level permissions). A caller sees its own account's events. Refusals are the
:class:`LookupRefused` exceptions below, in CloudTrail's words; :mod:`connectfed.api.errors`
gives each its code.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from connectfed import jsonsafe
from connectfed.identity.authorize import Authorizer
from connectfed.identity.principal import Principal
from connectfed.store import Store
from connectfed.store.audit_records import AuditAttribute, AuditCursor, AuditQuery, AuditRecord

ACTION = "cloudtrail:LookupEvents"
DEFAULT_RESULTS = 50


@dataclass(frozen=True, slots=True)
class LookupRequest:
    attributes: tuple[tuple[str, str], ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    insights: bool = False  # EventCategory "insight"
    max_results: int | None = None
    next_token: str | None = None


@dataclass(frozen=True, slots=True)
class LookupPage:
    events: tuple[AuditRecord, ...]
    next_token: str | None


class LookupRefused(Exception):
    """The root of LookupEvents' refusals."""


class InvalidTimeRange(LookupRefused):
    def __init__(self) -> None:
        super().__init__("The start time must not be after the end time.")


class InvalidMaxResults(LookupRefused):
    def __init__(self) -> None:
        super().__init__("MaxResults must be between 1 and 50.")


class InvalidLookupAttributes(LookupRefused):
    """``reason`` says what is wrong with the lookup attributes."""


class InvalidNextToken(LookupRefused):
    def __init__(self) -> None:
        super().__init__(
            "Invalid NextToken: it is malformed or was issued for other lookup parameters."
        )


class AuditHistory:
    """``flush`` stores the events this server has queued (the trail's), so that a lookup
    always sees them."""

    def __init__(
        self, store: Store, authz: Authorizer, flush: Callable[[], None] = lambda: None
    ) -> None:
        self._store = store
        self._authz = authz
        self._flush = flush

    def lookup(self, caller: Principal, request: LookupRequest) -> LookupPage:
        self._authz.require(caller, ACTION, "*")
        attribute = _attribute(request.attributes)
        if request.start and request.end and request.start > request.end:
            raise InvalidTimeRange()
        limit = request.max_results or DEFAULT_RESULTS
        if not 1 <= limit <= 50:
            raise InvalidMaxResults()
        fingerprint = _fingerprint(attribute, request)
        cursor = (
            None if request.next_token is None else _read_token(request.next_token, fingerprint)
        )
        if request.insights:
            return LookupPage((), None)
        self._flush()
        found = self._store.lookup_audit_events(
            AuditQuery(
                account_id=caller.account_id,
                limit=limit + 1,
                attribute=attribute,
                start=_seconds(request.start),
                end=_seconds(request.end),
                cursor=cursor,
            )
        )
        page = tuple(found[:limit])
        more = len(found) > limit
        token = _make_token(page[-1], fingerprint) if more else None
        return LookupPage(page, token)


def _attribute(attributes: tuple[tuple[str, str], ...]) -> tuple[AuditAttribute, str] | None:
    if not attributes:
        return None
    if len(attributes) > 1:
        raise InvalidLookupAttributes("You can specify only one lookup attribute.")
    key, value = attributes[0]
    try:
        known = AuditAttribute(key)
    except ValueError:
        raise InvalidLookupAttributes(f"Invalid attribute key: {key}") from None
    if known is AuditAttribute.READ_ONLY and value not in ("true", "false"):
        raise InvalidLookupAttributes("The value of ReadOnly must be true or false.")
    return known, value


def _seconds(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()


def _fingerprint(attribute: tuple[AuditAttribute, str] | None, request: LookupRequest) -> str:
    basis = json.dumps(
        [attribute, _seconds(request.start), _seconds(request.end), request.insights]
    )
    return hashlib.sha256(basis.encode()).hexdigest()[:16]


def _make_token(last: AuditRecord, fingerprint: str) -> str:
    data = json.dumps(
        {"p": last.position, "i": last.event_id, "q": fingerprint}, separators=(",", ":")
    )
    return base64.urlsafe_b64encode(data.encode()).decode()


def _read_token(token: str, fingerprint: str) -> AuditCursor:
    try:
        data = jsonsafe.loads(base64.urlsafe_b64decode(token.encode("ascii")))
        position, event_id, issued_for = data["p"], data["i"], data["q"]
    except (ValueError, UnicodeError, binascii.Error, KeyError, TypeError):
        raise InvalidNextToken() from None
    if (
        issued_for != fingerprint
        or not isinstance(event_id, str)
        or isinstance(position, bool)
        or not isinstance(position, int | float)
    ):
        raise InvalidNextToken()
    return AuditCursor(float(position), event_id)

"""Frozen records of the audit trail (CloudTrail's event history), and a lookup over them.

Times are epoch seconds (float, UTC), as in :mod:`connectfed.store.records`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class AuditAttribute(StrEnum):
    """What a lookup may filter on: CloudTrail ``LookupAttribute.AttributeKey``'s values."""

    EVENT_ID = "EventId"
    EVENT_NAME = "EventName"
    READ_ONLY = "ReadOnly"
    USERNAME = "Username"
    RESOURCE_TYPE = "ResourceType"
    RESOURCE_NAME = "ResourceName"
    EVENT_SOURCE = "EventSource"
    ACCESS_KEY_ID = "AccessKeyId"


@dataclass(frozen=True, slots=True)
class AuditResource:
    resource_type: str
    resource_name: str


@dataclass(frozen=True, slots=True)
class AuditRecord:
    event_id: str
    account_id: str
    event_time: float  # whole seconds, as CloudTrail's eventTime; what time filters compare
    position: float  # the precise time, newest first: the order of the history
    event_name: str
    event_source: str
    username: str | None
    access_key_id: str | None
    read_only: bool
    resources: tuple[AuditResource, ...]
    document: str  # the CloudTrail record, JSON (CloudTrailEvent)


@dataclass(frozen=True, slots=True)
class AuditCursor:
    """Where a page ended: the last record's (position, event_id)."""

    position: float
    event_id: str


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """One account's events, newest first, matching at most one attribute and a time range
    (both ends inclusive), after ``cursor``, at most ``limit`` of them."""

    account_id: str
    limit: int
    attribute: tuple[AuditAttribute, str] | None = None
    start: float | None = None
    end: float | None = None
    cursor: AuditCursor | None = None

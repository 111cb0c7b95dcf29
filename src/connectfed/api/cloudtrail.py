"""AWS CloudTrail operations (AWS JSON 1.1): the audit trail's event history."""

from __future__ import annotations

from typing import Any

from connectfed.api.context import services
from connectfed.api.errors import operation
from connectfed.audit.history import LookupRequest
from connectfed.clock import utc
from connectfed.store.audit_records import AuditRecord
from connectfed.wire.registry import Params, RequestContext


@operation("cloudtrail", "LookupEvents")
def lookup_events(ctx: RequestContext, params: Params) -> dict[str, Any]:
    page = services(ctx).audit_history.lookup(
        ctx.principal,
        LookupRequest(
            attributes=tuple(
                (a["AttributeKey"], a["AttributeValue"]) for a in params.get("LookupAttributes", ())
            ),
            start=params.get("StartTime"),
            end=params.get("EndTime"),
            insights=params.get("EventCategory") == "insight",
            max_results=params.get("MaxResults"),
            next_token=params.get("NextToken"),
        ),
    )
    return {"Events": [_event(record) for record in page.events], "NextToken": page.next_token}


def _event(record: AuditRecord) -> dict[str, Any]:
    """One ``Event`` of the output shape."""
    return {
        "EventId": record.event_id,
        "EventName": record.event_name,
        "ReadOnly": "true" if record.read_only else "false",
        "AccessKeyId": record.access_key_id,
        "EventTime": utc(record.event_time),
        "EventSource": record.event_source,
        "Username": record.username,
        "Resources": [
            {"ResourceType": r.resource_type, "ResourceName": r.resource_name}
            for r in record.resources
        ],
        "CloudTrailEvent": record.document,
    }

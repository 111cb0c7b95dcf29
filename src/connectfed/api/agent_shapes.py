"""Agent data between the wire and the domain: request members to typed values, and typed
values to the botocore model's output shapes (the domain's errors become Connect's in
:mod:`connectfed.api.errors`).
"""

from __future__ import annotations

from typing import Any

from connectfed.connect.agent_values import (
    AgentSnapshot,
    AgentStatus,
    AgentStatusChange,
    AgentStatusType,
    Channel,
    Queue,
    QueueConfig,
    QueueType,
    RoutingProfile,
    RoutingProfileQueue,
    UserDataFilter,
)
from connectfed.connect.errors import InvalidReference, ResourceKind
from connectfed.connect.resource_tags import Tag, checked_tags, tag_map
from connectfed.errors import client_error
from connectfed.wire.registry import Params


def unsupported(member: str) -> Exception:
    return client_error("InvalidParameterException", f"{member} is not supported by connectfed.")


# -- requests ------------------------------------------------------------------------------------
def new_agent_status(
    params: Params,
) -> tuple[str, str, str | None, bool, int | None, tuple[Tag, ...]]:
    return (
        params["InstanceId"],
        params["Name"],
        params.get("Description"),
        params["State"] == "ENABLED",
        params.get("DisplayOrder"),
        checked_tags(params.get("Tags")),
    )


def status_types(params: Params) -> list[AgentStatusType]:
    return [AgentStatusType(t) for t in params.get("AgentStatusTypes", [])]


def status_change(params: Params) -> AgentStatusChange:
    state = params.get("State")
    return AgentStatusChange(
        name=params.get("Name"),
        description=params.get("Description"),
        enabled=None if state is None else state == "ENABLED",
        display_order=params.get("DisplayOrder"),
        reset_order=bool(params.get("ResetOrderNumber")),
    )


_UNSUPPORTED_QUEUE = ("OutboundCallerConfig", "OutboundEmailConfig", "EmailAddressesConfig")


def new_queue(params: Params) -> tuple[str, str, str | None, str, int | None, tuple[Tag, ...]]:
    for name in _UNSUPPORTED_QUEUE:
        if params.get(name):
            raise unsupported(name)
    if params.get("QuickConnectIds"):
        raise InvalidReference(ResourceKind.QUICK_CONNECT, params["QuickConnectIds"][0])
    return (
        params["InstanceId"],
        params["Name"],
        params.get("Description"),
        params["HoursOfOperationId"],
        params.get("MaxContacts"),
        checked_tags(params.get("Tags")),
    )


def queue_types(params: Params) -> list[QueueType]:
    return [QueueType(t) for t in params.get("QueueTypes", [])]


def new_routing_profile(
    params: Params,
) -> tuple[str, str, str, str, list[QueueConfig], list[tuple[Channel, int]], tuple[Tag, ...]]:
    if params.get("ManualAssignmentQueueConfigs"):
        raise unsupported("ManualAssignmentQueueConfigs")
    queues = [
        QueueConfig(
            c["QueueReference"]["QueueId"],
            Channel(c["QueueReference"]["Channel"]),
            c["Priority"],
            c["Delay"],
        )
        for c in params.get("QueueConfigs", [])
    ]
    concurrencies = [
        (Channel(m["Channel"]), int(m.get("Concurrency", 1))) for m in params["MediaConcurrencies"]
    ]
    return (
        params["InstanceId"],
        params["Name"],
        params["Description"],
        params["DefaultOutboundQueueId"],
        queues,
        concurrencies,
        checked_tags(params.get("Tags")),
    )


def user_data_filter(filters: dict[str, Any]) -> UserDataFilter:
    contact = filters.get("ContactFilter")
    states = contact.get("ContactStates") if contact else None
    return UserDataFilter(
        queues=tuple(filters.get("Queues", ())),
        routing_profiles=tuple(filters.get("RoutingProfiles", ())),
        agents=tuple(filters.get("Agents", ())),
        hierarchy_groups=tuple(filters.get("UserHierarchyGroups", ())),
        contact_states=tuple(states) if states else None,
    )


# -- responses -----------------------------------------------------------------------------------
def status_summary(status: AgentStatus, region: str) -> dict[str, Any]:
    return {
        "Id": status.status_id,
        "Arn": status.arn,
        "Name": status.name,
        "Type": status.type.value,
        "LastModifiedTime": status.last_modified,
        "LastModifiedRegion": region,
    }


def status_out(status: AgentStatus, region: str) -> dict[str, Any]:
    return {
        "AgentStatusARN": status.arn,
        "AgentStatusId": status.status_id,
        "Name": status.name,
        "Description": status.description,
        "Type": status.type.value,
        "DisplayOrder": status.display_order,
        "State": "ENABLED" if status.enabled else "DISABLED",
        "Tags": tag_map(status.tags),
        "LastModifiedTime": status.last_modified,
        "LastModifiedRegion": region,
    }


def queue_summary(queue: Queue, region: str) -> dict[str, Any]:
    return {
        "Id": queue.queue_id,
        "Arn": queue.arn,
        "Name": queue.name,
        "QueueType": queue.queue_type.value,
        "LastModifiedTime": queue.last_modified,
        "LastModifiedRegion": region,
    }


def queue_out(queue: Queue, region: str) -> dict[str, Any]:
    return {
        "Name": queue.name,
        "QueueArn": queue.arn,
        "QueueId": queue.queue_id,
        "Description": queue.description,
        "HoursOfOperationId": queue.hours_of_operation_id,
        "MaxContacts": queue.max_contacts,
        "Status": "ENABLED" if queue.enabled else "DISABLED",
        "Tags": tag_map(queue.tags),
        "LastModifiedTime": queue.last_modified,
        "LastModifiedRegion": region,
    }


def routing_out(profile: RoutingProfile, instance_id: str, region: str) -> dict[str, Any]:
    queue_ids = sorted({m.queue.queue_id for m in profile.queues})
    return {
        "InstanceId": instance_id,
        "Name": profile.name,
        "RoutingProfileArn": profile.arn,
        "RoutingProfileId": profile.routing_profile_id,
        "Description": profile.description,
        "MediaConcurrencies": [
            {
                "Channel": channel.value,
                "Concurrency": concurrency,
                "CrossChannelBehavior": {"BehaviorType": "ROUTE_CURRENT_CHANNEL_ONLY"},
            }
            for channel, concurrency in profile.media_concurrencies
        ],
        "DefaultOutboundQueueId": profile.default_outbound_queue_id,
        "NumberOfAssociatedQueues": len(queue_ids),
        "AssociatedQueueIds": queue_ids,
        "AgentAvailabilityTimer": "TIME_SINCE_LAST_ACTIVITY",
        "Tags": tag_map(profile.tags),
        "LastModifiedTime": profile.last_modified,
        "LastModifiedRegion": region,
    }


def member_key(member: RoutingProfileQueue) -> str:
    return f"{member.queue.queue_id}/{member.channel.value}"


def member_out(member: RoutingProfileQueue) -> dict[str, Any]:
    return {
        "QueueId": member.queue.queue_id,
        "QueueArn": member.queue.arn,
        "QueueName": member.queue.name,
        "Priority": member.priority,
        "Delay": member.delay,
        "Channel": member.channel.value,
    }


def _slots(slots: tuple[tuple[Channel, int], ...]) -> dict[str, int]:
    return {channel.value: count for channel, count in slots}


def user_data_out(data: AgentSnapshot) -> dict[str, Any]:
    return {
        "User": {"Id": data.user_id, "Arn": data.user_arn},
        "RoutingProfile": {
            "Id": data.routing_profile.routing_profile_id,
            "Arn": data.routing_profile.arn,
        },
        "Status": {
            "StatusStartTimestamp": data.state.started,
            "StatusArn": data.state.status.arn,
            "StatusName": data.state.status.name,
        },
        "AvailableSlotsByChannel": _slots(data.available_slots),
        "MaxSlotsByChannel": _slots(data.max_slots),
        "ActiveSlotsByChannel": _slots(data.active_slots),
        "Contacts": [],
    }

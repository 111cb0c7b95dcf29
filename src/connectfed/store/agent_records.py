"""Frozen records of Connect's agent data: statuses, queues, routing profiles, live agent state.

Times are epoch seconds (float, UTC), as in :mod:`connectfed.store.records`.
"""

from __future__ import annotations

from dataclasses import dataclass

from connectfed.store.records import Tag


@dataclass(frozen=True, slots=True)
class AgentStatusRecord:
    instance_id: str
    status_id: str
    arn: str
    name: str
    description: str | None
    type: str  # "ROUTABLE" | "CUSTOM" | "OFFLINE"
    enabled: bool
    display_order: int | None
    modified: float
    tags: tuple[Tag, ...] = ()


@dataclass(frozen=True, slots=True)
class QueueRecord:
    instance_id: str
    queue_id: str
    arn: str
    name: str
    description: str | None
    queue_type: str  # "STANDARD" | "AGENT"
    hours_of_operation_id: str
    max_contacts: int | None
    enabled: bool
    modified: float
    tags: tuple[Tag, ...] = ()


@dataclass(frozen=True, slots=True)
class RoutingProfileRecord:
    """A routing profile: its name and ARN (the ``profiles`` row) with its settings."""

    instance_id: str
    profile_id: str
    name: str
    arn: str
    description: str
    default_outbound_queue_id: str
    media_concurrencies: tuple[tuple[str, int], ...]  # (channel, concurrency)
    modified: float
    tags: tuple[Tag, ...] = ()


@dataclass(frozen=True, slots=True)
class RoutingQueueRecord:
    """One queue of a routing profile for one channel."""

    instance_id: str
    profile_id: str
    queue_id: str
    channel: str
    priority: int
    delay: int


@dataclass(frozen=True, slots=True)
class AgentStateRecord:
    """A user's current agent status; ``version`` grows by one with every change."""

    instance_id: str
    user_id: str
    status_id: str
    started: float
    version: int


@dataclass(frozen=True, slots=True)
class ConnectDefaults:
    """What every instance starts with: default statuses, queue and routing profile settings."""

    instance_id: str
    hours_of_operation_id: str
    offline_status_id: str
    statuses: tuple[AgentStatusRecord, ...]
    queues: tuple[QueueRecord, ...]
    routing_profiles: tuple[RoutingProfileRecord, ...]
    routing_queues: tuple[RoutingQueueRecord, ...]


@dataclass(frozen=True, slots=True)
class InstanceDefaultsInfo:
    """The marker that an instance's defaults exist, with the ids the service needs."""

    hours_of_operation_id: str
    offline_status_id: str

"""Typed values of Connect's agent data (re-exported by ``agents``, with the errors of
:mod:`connectfed.connect.errors` they raise).

Amazon Connect API Reference: AgentStatus, Queue, RoutingProfile, RoutingProfileQueueConfig,
UserData (https://docs.aws.amazon.com/connect/latest/APIReference/). The names here are the
domain's, not the wire's; ``connectfed.api`` maps them to AWS members and error codes.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from connectfed.clock import utc
from connectfed.connect.errors import InvalidParameter, InvalidReference, ResourceKind
from connectfed.store.agent_records import AgentStatusRecord, QueueRecord
from connectfed.store.records import Tag


class AgentStatusType(enum.StrEnum):
    ROUTABLE = "ROUTABLE"
    CUSTOM = "CUSTOM"
    OFFLINE = "OFFLINE"


class QueueType(enum.StrEnum):
    STANDARD = "STANDARD"
    AGENT = "AGENT"


class Channel(enum.StrEnum):
    VOICE = "VOICE"
    CHAT = "CHAT"
    TASK = "TASK"
    EMAIL = "EMAIL"


@dataclass(frozen=True, slots=True)
class AgentStatus:
    status_id: str
    arn: str
    name: str
    description: str | None
    type: AgentStatusType
    enabled: bool
    display_order: int | None
    last_modified: datetime
    tags: tuple[Tag, ...] = ()


@dataclass(frozen=True, slots=True)
class AgentStatusChange:
    """UpdateAgentStatus: None leaves a field as it is; an empty description clears it."""

    name: str | None = None
    description: str | None = None
    enabled: bool | None = None
    display_order: int | None = None
    reset_order: bool = False


@dataclass(frozen=True, slots=True)
class Queue:
    queue_id: str
    arn: str
    name: str
    description: str | None
    queue_type: QueueType
    hours_of_operation_id: str
    max_contacts: int | None
    enabled: bool
    last_modified: datetime
    tags: tuple[Tag, ...] = ()


@dataclass(frozen=True, slots=True)
class RoutingProfileQueue:
    queue: Queue
    channel: Channel
    priority: int
    delay: int


@dataclass(frozen=True, slots=True)
class QueueConfig:
    """A queue to put into a routing profile (CreateRoutingProfile's QueueConfigs)."""

    queue_id: str
    channel: Channel
    priority: int
    delay: int


@dataclass(frozen=True, slots=True)
class RoutingProfile:
    routing_profile_id: str
    arn: str
    name: str
    description: str
    default_outbound_queue_id: str
    queues: tuple[RoutingProfileQueue, ...]
    media_concurrencies: tuple[tuple[Channel, int], ...]
    last_modified: datetime
    tags: tuple[Tag, ...] = ()


@dataclass(frozen=True, slots=True)
class AgentState:
    status: AgentStatus
    started: datetime
    version: int  # 0 until the first change; every change adds one


@dataclass(frozen=True, slots=True)
class UserDataFilter:
    """GetCurrentUserData's filter: ids or ARNs; exactly one of the four lists is non-empty."""

    queues: tuple[str, ...] = ()
    routing_profiles: tuple[str, ...] = ()
    agents: tuple[str, ...] = ()
    hierarchy_groups: tuple[str, ...] = ()
    contact_states: tuple[str, ...] | None = None  # None: no contact filter


@dataclass(frozen=True, slots=True)
class AgentSnapshot:
    """One agent's real-time data: who, routed how, in which state, with which slots."""

    user_id: str
    user_arn: str
    routing_profile: RoutingProfile
    state: AgentState
    max_slots: tuple[tuple[Channel, int], ...]
    active_slots: tuple[tuple[Channel, int], ...]
    available_slots: tuple[tuple[Channel, int], ...]


class StatusDisabled(InvalidParameter):
    def __init__(self, status: AgentStatus) -> None:
        super().__init__(f"Agent status {status.status_id} ({status.name}) is disabled.")
        self.status = status


# -- from records, and Connect's rules on values ------------------------------------------------
def status_from(record: AgentStatusRecord) -> AgentStatus:
    return AgentStatus(
        record.status_id,
        record.arn,
        record.name,
        record.description,
        AgentStatusType(record.type),
        record.enabled,
        record.display_order,
        utc(record.modified),
        record.tags,
    )


def queue_from(record: QueueRecord) -> Queue:
    return Queue(
        record.queue_id,
        record.arn,
        record.name,
        record.description,
        QueueType(record.queue_type),
        record.hours_of_operation_id,
        record.max_contacts,
        record.enabled,
        utc(record.modified),
        record.tags,
    )


def check_routing_config(
    known_queues: Collection[str],
    default_outbound_queue_id: str,
    queues: Sequence[QueueConfig],
    media_concurrencies: Sequence[tuple[Channel, int]],
) -> None:
    """CreateRoutingProfile's rules: known queues, no duplicate (queue, channel) or channel,
    concurrency 1 for VOICE and 1-10 for the other channels (RoutingProfile, MediaConcurrency)."""
    for queue_id in [default_outbound_queue_id, *(q.queue_id for q in queues)]:
        if queue_id not in known_queues:
            raise InvalidReference(ResourceKind.QUEUE, queue_id)
    if len({(q.queue_id, q.channel) for q in queues}) != len(queues):
        raise InvalidParameter("A queue is configured twice for the same channel.")
    channels = [c for c, _ in media_concurrencies]
    if len(set(channels)) != len(channels):
        raise InvalidParameter("A channel appears more than once in MediaConcurrencies.")
    for channel, concurrency in media_concurrencies:
        top = 1 if channel is Channel.VOICE else 10
        if not 1 <= concurrency <= top:
            raise InvalidParameter(f"Concurrency for {channel} must be between 1 and {top}.")

"""GetCurrentUserData's selection and slots (Amazon Connect API Reference, GetCurrentUserData,
UserDataFilters, UserData).

Filters name resources by id or ARN; exactly one of queues, routing profiles, agents and user
hierarchy groups is given. No contacts are ever routed here, so every agent has no active slot,
and a routable agent has every slot of its routing profile available.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from connectfed import arns
from connectfed.arns import ConnectResource
from connectfed.clock import utc
from connectfed.connect.agent_values import (
    AgentSnapshot,
    AgentState,
    AgentStatus,
    AgentStatusType,
    RoutingProfile,
    UserDataFilter,
)
from connectfed.connect.errors import InvalidParameter
from connectfed.store import Store
from connectfed.store.agent_records import AgentStateRecord
from connectfed.store.records import ConnectUser, Instance


def _ids(instance: Instance, values: Sequence[str], kind: ConnectResource) -> set[str]:
    """Ids from ids or ARNs; an ARN of another instance or kind names nothing here."""
    prefix = arns.connect_resource(instance.arn, kind, "")
    out = set()
    for value in values:
        if not value.startswith("arn:"):
            out.add(value)
        elif value.startswith(prefix):
            out.add(value.removeprefix(prefix))
    return out


def select_users(
    store: Store, instance: Instance, users: Sequence[ConnectUser], wanted: UserDataFilter
) -> list[ConnectUser]:
    given = [
        bool(wanted.queues),
        bool(wanted.routing_profiles),
        bool(wanted.agents),
        bool(wanted.hierarchy_groups),
    ]
    if sum(given) != 1:
        raise InvalidParameter(
            "Filters must contain exactly one of Queues, RoutingProfiles, Agents or "
            "UserHierarchyGroups."
        )
    if wanted.queues:
        queues = _ids(instance, wanted.queues, ConnectResource.QUEUE)
        profiles = {
            r.profile_id
            for r in store.list_routing_queues(instance.instance_id)
            if r.queue_id in queues
        }
        return [u for u in users if u.routing_profile_id in profiles]
    if wanted.routing_profiles:
        profiles = _ids(instance, wanted.routing_profiles, ConnectResource.ROUTING_PROFILE)
        return [u for u in users if u.routing_profile_id in profiles]
    if wanted.agents:
        agents = _ids(instance, wanted.agents, ConnectResource.AGENT)
        return [u for u in users if u.user_id in agents]
    groups = _ids(instance, wanted.hierarchy_groups, ConnectResource.HIERARCHY_GROUP)
    return [u for u in users if u.hierarchy_group_id in groups]


def snapshot(user: ConnectUser, profile: RoutingProfile, state: AgentState) -> AgentSnapshot:
    routable = state.status.type is AgentStatusType.ROUTABLE
    maximum = profile.media_concurrencies
    return AgentSnapshot(
        user_id=user.user_id,
        user_arn=user.arn,
        routing_profile=profile,
        state=state,
        max_slots=maximum,
        active_slots=tuple((channel, 0) for channel, _ in maximum),
        available_slots=tuple((channel, n if routable else 0) for channel, n in maximum),
    )


def snapshots(
    users: Sequence[ConnectUser],
    states: Mapping[str, AgentStateRecord],
    statuses: Mapping[str, AgentStatus],
    offline_status_id: str,
    routing_profile: Callable[[str], RoutingProfile],
) -> list[AgentSnapshot]:
    """The users' snapshots by user id; a user never changed is Offline since creation."""
    out = []
    for user in sorted(users, key=lambda u: u.user_id):
        record = states.get(user.user_id)
        state = (
            AgentState(statuses[offline_status_id], utc(user.created), 0)
            if record is None
            else AgentState(statuses[record.status_id], utc(record.started), record.version)
        )
        out.append(snapshot(user, routing_profile(user.routing_profile_id), state))
    return out

"""The public API over agent data: an IAM decision for the caller, then :class:`AgentService`.

Actions are ``connect:<Operation>``; resources follow the Service Authorization Reference for
Amazon Connect (``…:instance/<id>/agent-state/<status-id>``, ``…/queue/<id>``,
``…/routing-profile/<id>``, ``…/agent/<user-id>``; ``*`` in place of the id for List/Create).
Operations acting on two resources (PutUserStatus: the user and the status;
UpdateUserRoutingProfile: the user and the routing profile) need both allowed. Every decision
carries ``connect:InstanceId``; one on a resource its tags (``aws:ResourceTag/<key>``), a
Create its request's (``aws:RequestTag/<key>``, ``aws:TagKeys``). "Not found" is said only after
the decision, so another account's instance is "not found", as for the existing operations.
"""

from __future__ import annotations

from collections.abc import Sequence

from connectfed import arns
from connectfed.arns import ConnectResource
from connectfed.connect.agent_values import (
    AgentSnapshot,
    AgentState,
    AgentStatus,
    AgentStatusChange,
    AgentStatusType,
    Channel,
    Queue,
    QueueConfig,
    QueueType,
    RoutingProfile,
    UserDataFilter,
)
from connectfed.connect.agents import AgentService
from connectfed.connect.instances import InstanceService
from connectfed.connect.resource_tags import (
    ConnectTags,
    Tag,
    request_context,
    resource_context,
)
from connectfed.identity.authorize import Authorizer
from connectfed.identity.policy.conditions import ContextValue
from connectfed.identity.principal import Principal

AGENT = ConnectResource.AGENT
STATUS = ConnectResource.AGENT_STATUS
QUEUE = ConnectResource.QUEUE
ROUTING = ConnectResource.ROUTING_PROFILE


class AgentAdministration:
    def __init__(
        self,
        authz: Authorizer,
        instances: InstanceService,
        agents: AgentService,
        tags: ConnectTags,
    ) -> None:
        self._authz = authz
        self._instances = instances
        self._agents = agents
        self._tags = tags

    def _allow(
        self,
        caller: Principal,
        action: str,
        instance_id: str,
        *resources: tuple[ConnectResource, str],
        request: tuple[Tag, ...] = (),
    ) -> None:
        """``action`` allowed on each of ``resources`` of the instance (none: on the instance
        itself), each with its tags (``request``: the tags a Create passes), then the caller's
        instance looked up."""
        base = self._instances.instance_arn(caller.account_id, instance_id)
        targets: list[tuple[str, dict[str, ContextValue]]] = []
        for kind, rid in resources:
            context: dict[str, ContextValue] = {"connect:InstanceId": instance_id}
            if rid == "*":
                context.update(request_context(request))
            else:
                context.update(
                    resource_context(self._tags.held(caller, instance_id, kind, rid) or ())
                )
            targets.append((arns.connect_resource(base, kind, rid), context))
        for target, context in targets or [(base, {"connect:InstanceId": instance_id})]:
            self._authz.require(caller, f"connect:{action}", target, context)
        self._instances.lookup(caller, instance_id)

    # -- agent statuses ---------------------------------------------------------------------------
    def create_agent_status(
        self,
        caller: Principal,
        instance_id: str,
        name: str,
        description: str | None,
        enabled: bool,
        display_order: int | None,
        tags: tuple[Tag, ...] = (),
    ) -> AgentStatus:
        self._allow(caller, "CreateAgentStatus", instance_id, (STATUS, "*"), request=tags)
        return self._agents.create_status(
            instance_id, name, description, enabled, display_order, tags
        )

    def list_agent_statuses(
        self, caller: Principal, instance_id: str, types: Sequence[AgentStatusType]
    ) -> list[AgentStatus]:
        self._allow(caller, "ListAgentStatuses", instance_id, (STATUS, "*"))
        statuses = self._agents.statuses(instance_id)
        return [s for s in statuses if not types or s.type in types]

    def describe_agent_status(
        self, caller: Principal, instance_id: str, status_id: str
    ) -> AgentStatus:
        self._allow(caller, "DescribeAgentStatus", instance_id, (STATUS, status_id))
        return self._agents.status(instance_id, status_id)

    def update_agent_status(
        self, caller: Principal, instance_id: str, status_id: str, change: AgentStatusChange
    ) -> AgentStatus:
        self._allow(caller, "UpdateAgentStatus", instance_id, (STATUS, status_id))
        return self._agents.update_status(instance_id, status_id, change)

    # -- queues -----------------------------------------------------------------------------------
    def create_queue(
        self,
        caller: Principal,
        instance_id: str,
        name: str,
        description: str | None,
        hours_of_operation_id: str,
        max_contacts: int | None,
        tags: tuple[Tag, ...] = (),
    ) -> Queue:
        self._allow(caller, "CreateQueue", instance_id, (QUEUE, "*"), request=tags)
        return self._agents.create_queue(
            instance_id, name, description, hours_of_operation_id, max_contacts, tags
        )

    def list_queues(
        self, caller: Principal, instance_id: str, types: Sequence[QueueType]
    ) -> list[Queue]:
        self._allow(caller, "ListQueues", instance_id, (QUEUE, "*"))
        return [q for q in self._agents.queues(instance_id) if not types or q.queue_type in types]

    def describe_queue(self, caller: Principal, instance_id: str, queue_id: str) -> Queue:
        self._allow(caller, "DescribeQueue", instance_id, (QUEUE, queue_id))
        return self._agents.queue(instance_id, queue_id)

    # -- routing profiles -------------------------------------------------------------------------
    def create_routing_profile(
        self,
        caller: Principal,
        instance_id: str,
        name: str,
        description: str,
        default_outbound_queue_id: str,
        queues: Sequence[QueueConfig],
        media_concurrencies: Sequence[tuple[Channel, int]],
        tags: tuple[Tag, ...] = (),
    ) -> RoutingProfile:
        self._allow(caller, "CreateRoutingProfile", instance_id, (ROUTING, "*"), request=tags)
        return self._agents.create_routing_profile(
            instance_id,
            name,
            description,
            default_outbound_queue_id,
            queues,
            media_concurrencies,
            tags,
        )

    def describe_routing_profile(
        self, caller: Principal, instance_id: str, routing_profile_id: str, action: str
    ) -> RoutingProfile:
        """DescribeRoutingProfile and ListRoutingProfileQueues (``action``) read one profile."""
        self._allow(caller, action, instance_id, (ROUTING, routing_profile_id))
        return self._agents.routing_profile(instance_id, routing_profile_id)

    def update_user_routing_profile(
        self, caller: Principal, instance_id: str, user_id: str, routing_profile_id: str
    ) -> None:
        self._allow(
            caller,
            "UpdateUserRoutingProfile",
            instance_id,
            (AGENT, user_id),
            (ROUTING, routing_profile_id),
        )
        self._agents.set_routing_profile(instance_id, user_id, routing_profile_id)

    # -- the agents' live state -------------------------------------------------------------------
    def put_user_status(
        self, caller: Principal, instance_id: str, user_id: str, status_id: str
    ) -> AgentState:
        self._allow(
            caller,
            "PutUserStatus",
            instance_id,
            (AGENT, user_id),
            (STATUS, status_id),
        )
        return self._agents.set_state(instance_id, user_id, status_id)

    def get_current_user_data(
        self, caller: Principal, instance_id: str, wanted: UserDataFilter
    ) -> list[AgentSnapshot]:
        self._allow(caller, "GetCurrentUserData", instance_id)
        return self._agents.user_data(instance_id, wanted)

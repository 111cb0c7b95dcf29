"""Amazon Connect agent-data operations (restJson1): agent statuses, queues, routing profiles,
PutUserStatus and GetCurrentUserData. One line per handler; the shapes are in ``agent_shapes``.
"""

from __future__ import annotations

from typing import Any

from connectfed.api import agent_shapes as shapes
from connectfed.api.context import services
from connectfed.api.errors import operation
from connectfed.api.paging import page
from connectfed.connect.agent_admin import AgentAdministration
from connectfed.wire.registry import Params, RequestContext


def admin(ctx: RequestContext) -> AgentAdministration:
    return services(ctx).agent_admin


def region(ctx: RequestContext) -> str:
    return services(ctx).settings.region


@operation("connect", "CreateAgentStatus")
def create_agent_status(ctx: RequestContext, params: Params) -> dict[str, Any]:
    status = admin(ctx).create_agent_status(ctx.principal, *shapes.new_agent_status(params))
    return {"AgentStatusARN": status.arn, "AgentStatusId": status.status_id}


@operation("connect", "ListAgentStatuses")
def list_agent_statuses(ctx: RequestContext, params: Params) -> dict[str, Any]:
    found = admin(ctx).list_agent_statuses(
        ctx.principal, params["InstanceId"], shapes.status_types(params)
    )
    chosen, token = page(ctx, found, lambda s: s.name, params, 100)
    summaries = [shapes.status_summary(s, region(ctx)) for s in chosen]
    return {"AgentStatusSummaryList": summaries, "NextToken": token}


@operation("connect", "DescribeAgentStatus")
def describe_agent_status(ctx: RequestContext, params: Params) -> dict[str, Any]:
    status = admin(ctx).describe_agent_status(
        ctx.principal, params["InstanceId"], params["AgentStatusId"]
    )
    return {"AgentStatus": shapes.status_out(status, region(ctx))}


@operation("connect", "UpdateAgentStatus")
def update_agent_status(ctx: RequestContext, params: Params) -> None:
    admin(ctx).update_agent_status(
        ctx.principal, params["InstanceId"], params["AgentStatusId"], shapes.status_change(params)
    )


@operation("connect", "CreateQueue")
def create_queue(ctx: RequestContext, params: Params) -> dict[str, Any]:
    queue = admin(ctx).create_queue(ctx.principal, *shapes.new_queue(params))
    return {"QueueArn": queue.arn, "QueueId": queue.queue_id}


@operation("connect", "ListQueues")
def list_queues(ctx: RequestContext, params: Params) -> dict[str, Any]:
    found = admin(ctx).list_queues(ctx.principal, params["InstanceId"], shapes.queue_types(params))
    chosen, token = page(ctx, found, lambda q: q.name, params, 100)
    return {
        "QueueSummaryList": [shapes.queue_summary(q, region(ctx)) for q in chosen],
        "NextToken": token,
    }


@operation("connect", "DescribeQueue")
def describe_queue(ctx: RequestContext, params: Params) -> dict[str, Any]:
    queue = admin(ctx).describe_queue(ctx.principal, params["InstanceId"], params["QueueId"])
    return {"Queue": shapes.queue_out(queue, region(ctx))}


@operation("connect", "CreateRoutingProfile")
def create_routing_profile(ctx: RequestContext, params: Params) -> dict[str, Any]:
    profile = admin(ctx).create_routing_profile(ctx.principal, *shapes.new_routing_profile(params))
    return {"RoutingProfileArn": profile.arn, "RoutingProfileId": profile.routing_profile_id}


@operation("connect", "DescribeRoutingProfile")
def describe_routing_profile(ctx: RequestContext, params: Params) -> dict[str, Any]:
    profile = admin(ctx).describe_routing_profile(
        ctx.principal, params["InstanceId"], params["RoutingProfileId"], "DescribeRoutingProfile"
    )
    return {"RoutingProfile": shapes.routing_out(profile, params["InstanceId"], region(ctx))}


@operation("connect", "ListRoutingProfileQueues")
def list_routing_profile_queues(ctx: RequestContext, params: Params) -> dict[str, Any]:
    profile = admin(ctx).describe_routing_profile(
        ctx.principal, params["InstanceId"], params["RoutingProfileId"], "ListRoutingProfileQueues"
    )
    members = sorted(profile.queues, key=shapes.member_key)
    chosen, token = page(ctx, members, shapes.member_key, params, 100)
    return {
        "RoutingProfileQueueConfigSummaryList": [shapes.member_out(m) for m in chosen],
        "NextToken": token,
        "LastModifiedTime": profile.last_modified,
        "LastModifiedRegion": region(ctx),
    }


@operation("connect", "UpdateUserRoutingProfile")
def update_user_routing_profile(ctx: RequestContext, params: Params) -> None:
    admin(ctx).update_user_routing_profile(
        ctx.principal, params["InstanceId"], params["UserId"], params["RoutingProfileId"]
    )


@operation("connect", "PutUserStatus")
def put_user_status(ctx: RequestContext, params: Params) -> None:
    admin(ctx).put_user_status(
        ctx.principal, params["InstanceId"], params["UserId"], params["AgentStatusId"]
    )


@operation("connect", "GetCurrentUserData")
def get_current_user_data(ctx: RequestContext, params: Params) -> dict[str, Any]:
    found = admin(ctx).get_current_user_data(
        ctx.principal, params["InstanceId"], shapes.user_data_filter(params["Filters"])
    )
    chosen, token = page(ctx, found, lambda s: s.user_id, params, 100)
    return {
        "UserDataList": [shapes.user_data_out(s) for s in chosen],
        "NextToken": token,
        "ApproximateTotalCount": len(found),
    }

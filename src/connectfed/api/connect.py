"""Amazon Connect operations (restJson1): GetFederationToken, instances, their profiles and
users, and the tags of every taggable resource. One call per handler; the shapes are in
``connect_shapes``."""

from __future__ import annotations

from typing import Any

from connectfed.api import connect_shapes as shapes
from connectfed.api.context import services
from connectfed.api.errors import operation
from connectfed.api.paging import next_token, page_request
from connectfed.connect.instances import InstanceService, ProfileKind
from connectfed.connect.resource_tags import checked_tags, tag_map
from connectfed.wire.registry import Params, RequestContext


def instances(ctx: RequestContext) -> InstanceService:
    return services(ctx).instances


def region(ctx: RequestContext) -> str:
    return services(ctx).settings.region


@operation("connect", "GetFederationToken")
def get_federation_token(ctx: RequestContext, params: Params) -> dict[str, Any]:
    token = services(ctx).federation.federate(ctx.principal, params["InstanceId"])
    return shapes.federation_token(token)


# -- instances -----------------------------------------------------------------------------------
@operation("connect", "CreateInstance")
def create_instance(ctx: RequestContext, params: Params) -> dict[str, Any]:
    created = instances(ctx).create_instance(ctx.principal, shapes.new_instance(params))
    return {"Id": created.instance_id, "Arn": created.arn}


@operation("connect", "DescribeInstance")
def describe_instance(ctx: RequestContext, params: Params) -> dict[str, Any]:
    found = instances(ctx).describe_instance(ctx.principal, params["InstanceId"])
    return {"Instance": shapes.instance(found)}


@operation("connect", "ListInstances")
def list_instances(ctx: RequestContext, params: Params) -> dict[str, Any]:
    found = instances(ctx).list_instances(ctx.principal, page_request(ctx, params, 10))
    return {
        "InstanceSummaryList": [shapes.instance(i) for i in found.items],
        "NextToken": next_token(ctx, params, found),
    }


@operation("connect", "DeleteInstance")
def delete_instance(ctx: RequestContext, params: Params) -> dict[str, Any]:
    instances(ctx).delete_instance(ctx.principal, params["InstanceId"])
    return {}


# -- profiles ------------------------------------------------------------------------------------
def _profiles(ctx: RequestContext, params: Params, kind: ProfileKind) -> dict[str, Any]:
    found = instances(ctx).list_profiles(
        ctx.principal, params["InstanceId"], kind, page_request(ctx, params, 100)
    )
    key = (
        "SecurityProfileSummaryList"
        if kind is ProfileKind.SECURITY
        else "RoutingProfileSummaryList"
    )
    return {
        key: [shapes.profile_summary(p) for p in found.items],
        "NextToken": next_token(ctx, params, found),
    }


@operation("connect", "ListSecurityProfiles")
def list_security_profiles(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return _profiles(ctx, params, ProfileKind.SECURITY)


@operation("connect", "ListRoutingProfiles")
def list_routing_profiles(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return _profiles(ctx, params, ProfileKind.ROUTING)


# -- users ---------------------------------------------------------------------------------------
@operation("connect", "CreateUser")
def create_user(ctx: RequestContext, params: Params) -> dict[str, Any]:
    user = instances(ctx).create_user(ctx.principal, params["InstanceId"], shapes.new_user(params))
    return {"UserId": user.user_id, "UserArn": user.arn}


@operation("connect", "DescribeUser")
def describe_user(ctx: RequestContext, params: Params) -> dict[str, Any]:
    user = instances(ctx).describe_user(ctx.principal, params["InstanceId"], params["UserId"])
    return {"User": shapes.user(user, region(ctx))}


@operation("connect", "ListUsers")
def list_users(ctx: RequestContext, params: Params) -> dict[str, Any]:
    found = instances(ctx).list_users(
        ctx.principal, params["InstanceId"], page_request(ctx, params, 100)
    )
    return {
        "UserSummaryList": [shapes.user_summary(u, region(ctx)) for u in found.items],
        "NextToken": next_token(ctx, params, found),
    }


@operation("connect", "DeleteUser")
def delete_user(ctx: RequestContext, params: Params) -> dict[str, Any]:
    instances(ctx).delete_user(ctx.principal, params["InstanceId"], params["UserId"])
    return {}


@operation("connect", "UpdateUserIdentityInfo")
def update_user_identity_info(ctx: RequestContext, params: Params) -> dict[str, Any]:
    instances(ctx).update_identity_info(
        ctx.principal, params["InstanceId"], params["UserId"], params["IdentityInfo"]
    )
    return {}


# -- tags ----------------------------------------------------------------------------------------
@operation("connect", "TagResource")
def tag_resource(ctx: RequestContext, params: Params) -> dict[str, Any]:
    tags = checked_tags(params["tags"])
    services(ctx).connect_tags.tag(ctx.principal, params["resourceArn"], tags)
    return {}


@operation("connect", "UntagResource")
def untag_resource(ctx: RequestContext, params: Params) -> dict[str, Any]:
    services(ctx).connect_tags.untag(ctx.principal, params["resourceArn"], params["tagKeys"])
    return {}


@operation("connect", "ListTagsForResource")
def list_tags_for_resource(ctx: RequestContext, params: Params) -> dict[str, Any]:
    found = services(ctx).connect_tags.listed(ctx.principal, params["resourceArn"])
    return {"tags": tag_map(found)}

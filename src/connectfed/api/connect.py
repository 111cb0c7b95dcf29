"""Amazon Connect operations (restJson1)."""

from __future__ import annotations

from typing import Any

from connectfed.api.context import services
from connectfed.wire.registry import Params, RequestContext, operation


@operation("connect", "GetFederationToken")
def get_federation_token(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return services(ctx).federation.federate(ctx.principal, params["InstanceId"])


@operation("connect", "CreateInstance")
def create_instance(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return services(ctx).instances.create_instance(ctx.principal, params)


@operation("connect", "DescribeInstance")
def describe_instance(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return services(ctx).instances.describe_instance(ctx.principal, params)


@operation("connect", "ListInstances")
def list_instances(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return services(ctx).instances.list_instances(ctx.principal, params)


@operation("connect", "DeleteInstance")
def delete_instance(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return services(ctx).instances.delete_instance(ctx.principal, params)


@operation("connect", "ListSecurityProfiles")
def list_security_profiles(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return services(ctx).instances.list_profiles(ctx.principal, "security", params)


@operation("connect", "ListRoutingProfiles")
def list_routing_profiles(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return services(ctx).instances.list_profiles(ctx.principal, "routing", params)


@operation("connect", "CreateUser")
def create_user(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return services(ctx).instances.create_user(ctx.principal, params)


@operation("connect", "DescribeUser")
def describe_user(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return services(ctx).instances.describe_user(ctx.principal, params)


@operation("connect", "ListUsers")
def list_users(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return services(ctx).instances.list_users(ctx.principal, params)


@operation("connect", "DeleteUser")
def delete_user(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return services(ctx).instances.delete_user(ctx.principal, params)


@operation("connect", "UpdateUserIdentityInfo")
def update_user_identity_info(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return services(ctx).instances.update_identity_info(ctx.principal, params)

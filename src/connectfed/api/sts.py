"""AWS STS operations (awsQuery)."""

from __future__ import annotations

from typing import Any

from connectfed.api.context import services
from connectfed.identity.principal import Origin
from connectfed.wire.registry import Params, RequestContext, operation


@operation("sts", "GetCallerIdentity")
def get_caller_identity(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return services(ctx).sts.get_caller_identity(ctx.principal)


@operation("sts", "AssumeRole")
def assume_role(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return services(ctx).sts.assume_role(ctx.principal, params)


@operation("sts", "AssumeRoleWithSAML", unsigned=True)
def assume_role_with_saml(ctx: RequestContext, params: Params) -> dict[str, Any]:
    origin = Origin(source_ip=ctx.source_ip, secure=ctx.secure, request_id=ctx.request_id)
    return services(ctx).assume_saml.assume(params, origin)

"""AWS IAM operations (awsQuery): the subset needed to set up federation."""

from __future__ import annotations

from typing import Any

from connectfed.api.context import services
from connectfed.wire.registry import Params, RequestContext, operation


@operation("iam", "CreateUser")
def create_user(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return services(ctx).iam.create_user(ctx.principal, params)


@operation("iam", "GetUser")
def get_user(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return services(ctx).iam.get_user(ctx.principal, params)


@operation("iam", "ListUsers")
def list_users(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return services(ctx).iam.list_users(ctx.principal, params)


@operation("iam", "DeleteUser")
def delete_user(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return services(ctx).iam.delete_user(ctx.principal, params)


@operation("iam", "CreateAccessKey")
def create_access_key(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return services(ctx).iam.create_access_key(ctx.principal, params)


@operation("iam", "ListAccessKeys")
def list_access_keys(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return services(ctx).iam.list_access_keys(ctx.principal, params)


@operation("iam", "DeleteAccessKey")
def delete_access_key(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return services(ctx).iam.delete_access_key(ctx.principal, params)


@operation("iam", "CreateRole")
def create_role(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return services(ctx).iam.create_role(ctx.principal, params)


@operation("iam", "GetRole")
def get_role(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return services(ctx).iam.get_role(ctx.principal, params)


@operation("iam", "ListRoles")
def list_roles(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return services(ctx).iam.list_roles(ctx.principal, params)


@operation("iam", "DeleteRole")
def delete_role(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return services(ctx).iam.delete_role(ctx.principal, params)


@operation("iam", "UpdateAssumeRolePolicy")
def update_assume_role_policy(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return services(ctx).iam.update_assume_role_policy(ctx.principal, params)


@operation("iam", "PutUserPolicy")
def put_user_policy(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return services(ctx).iam.put_policy(ctx.principal, "user", params)


@operation("iam", "GetUserPolicy")
def get_user_policy(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return services(ctx).iam.get_policy(ctx.principal, "user", params)


@operation("iam", "DeleteUserPolicy")
def delete_user_policy(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return services(ctx).iam.delete_policy(ctx.principal, "user", params)


@operation("iam", "ListUserPolicies")
def list_user_policies(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return services(ctx).iam.list_policies(ctx.principal, "user", params)


@operation("iam", "PutRolePolicy")
def put_role_policy(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return services(ctx).iam.put_policy(ctx.principal, "role", params)


@operation("iam", "GetRolePolicy")
def get_role_policy(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return services(ctx).iam.get_policy(ctx.principal, "role", params)


@operation("iam", "DeleteRolePolicy")
def delete_role_policy(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return services(ctx).iam.delete_policy(ctx.principal, "role", params)


@operation("iam", "ListRolePolicies")
def list_role_policies(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return services(ctx).iam.list_policies(ctx.principal, "role", params)


@operation("iam", "CreateSAMLProvider")
def create_saml_provider(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return services(ctx).providers.create(ctx.principal, params)


@operation("iam", "GetSAMLProvider")
def get_saml_provider(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return services(ctx).providers.get(ctx.principal, params)


@operation("iam", "ListSAMLProviders")
def list_saml_providers(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return services(ctx).providers.list(ctx.principal, params)


@operation("iam", "UpdateSAMLProvider")
def update_saml_provider(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return services(ctx).providers.update(ctx.principal, params)


@operation("iam", "DeleteSAMLProvider")
def delete_saml_provider(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return services(ctx).providers.delete(ctx.principal, params)

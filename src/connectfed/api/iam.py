"""AWS IAM operations (awsQuery): the subset needed to set up federation. One call per
handler; the shapes are in ``iam_shapes``."""

from __future__ import annotations

from typing import Any

from connectfed.api import iam_shapes as shapes
from connectfed.api.context import services
from connectfed.api.errors import operation
from connectfed.api.paging import marked_page
from connectfed.identity.iam import IamService, OwnerKind
from connectfed.identity.providers import ProviderChange
from connectfed.wire.registry import Params, RequestContext

USER, ROLE = OwnerKind.USER, OwnerKind.ROLE


def iam(ctx: RequestContext) -> IamService:
    return services(ctx).iam


# -- users ---------------------------------------------------------------------------------------
@operation("iam", "CreateUser")
def create_user(ctx: RequestContext, params: Params) -> dict[str, Any]:
    shapes.refuse_permissions_boundary(params)
    user = iam(ctx).create_user(
        ctx.principal, params["UserName"], path=params.get("Path", "/"), tags=shapes.tags(params)
    )
    return {"User": shapes.user(user)}


@operation("iam", "GetUser")
def get_user(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return {"User": shapes.user(iam(ctx).get_user(ctx.principal, params.get("UserName")))}


@operation("iam", "ListUsers")
def list_users(ctx: RequestContext, params: Params) -> dict[str, Any]:
    users = iam(ctx).list_users(ctx.principal, path_prefix=params.get("PathPrefix", "/"))
    chosen, more = marked_page(ctx, users, lambda u: u.user_name.lower(), params)
    return {"Users": [shapes.user(u, with_tags=False) for u in chosen], **more}


@operation("iam", "DeleteUser")
def delete_user(ctx: RequestContext, params: Params) -> dict[str, Any]:
    iam(ctx).delete_user(ctx.principal, params["UserName"])
    return {}


# -- access keys ---------------------------------------------------------------------------------
@operation("iam", "CreateAccessKey")
def create_access_key(ctx: RequestContext, params: Params) -> dict[str, Any]:
    key = iam(ctx).create_access_key(ctx.principal, params.get("UserName"))
    return {"AccessKey": shapes.new_access_key(key)}


@operation("iam", "ListAccessKeys")
def list_access_keys(ctx: RequestContext, params: Params) -> dict[str, Any]:
    keys = iam(ctx).list_access_keys(ctx.principal, params.get("UserName"))
    chosen, more = marked_page(ctx, keys, lambda k: k.access_key_id, params)
    return {"AccessKeyMetadata": [shapes.access_key_metadata(k) for k in chosen], **more}


@operation("iam", "DeleteAccessKey")
def delete_access_key(ctx: RequestContext, params: Params) -> dict[str, Any]:
    iam(ctx).delete_access_key(ctx.principal, params["AccessKeyId"], params.get("UserName"))
    return {}


@operation("iam", "UpdateAccessKey")
def update_access_key(ctx: RequestContext, params: Params) -> dict[str, Any]:
    iam(ctx).update_access_key(
        ctx.principal, params["AccessKeyId"], params["Status"], params.get("UserName")
    )
    return {}


# -- roles ---------------------------------------------------------------------------------------
@operation("iam", "CreateRole")
def create_role(ctx: RequestContext, params: Params) -> dict[str, Any]:
    shapes.refuse_permissions_boundary(params)
    role = iam(ctx).create_role(
        ctx.principal,
        params["RoleName"],
        params["AssumeRolePolicyDocument"],
        path=params.get("Path", "/"),
        max_session_duration=params.get("MaxSessionDuration", 3600),
        description=params.get("Description"),
        tags=shapes.tags(params),
    )
    return {"Role": shapes.role(role)}


@operation("iam", "GetRole")
def get_role(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return {"Role": shapes.role(iam(ctx).get_role(ctx.principal, params["RoleName"]))}


@operation("iam", "ListRoles")
def list_roles(ctx: RequestContext, params: Params) -> dict[str, Any]:
    roles = iam(ctx).list_roles(ctx.principal, path_prefix=params.get("PathPrefix", "/"))
    chosen, more = marked_page(ctx, roles, lambda r: r.role_name.lower(), params)
    return {"Roles": [shapes.role(r, with_tags=False) for r in chosen], **more}


@operation("iam", "DeleteRole")
def delete_role(ctx: RequestContext, params: Params) -> dict[str, Any]:
    iam(ctx).delete_role(ctx.principal, params["RoleName"])
    return {}


@operation("iam", "UpdateAssumeRolePolicy")
def update_assume_role_policy(ctx: RequestContext, params: Params) -> dict[str, Any]:
    iam(ctx).update_assume_role_policy(ctx.principal, params["RoleName"], params["PolicyDocument"])
    return {}


# -- tags of users and roles ---------------------------------------------------------------------
def _tag(ctx: RequestContext, params: Params, kind: OwnerKind) -> dict[str, Any]:
    iam(ctx).tag(ctx.principal, kind, shapes.owner_name(kind, params), shapes.tags(params))
    return {}


def _untag(ctx: RequestContext, params: Params, kind: OwnerKind) -> dict[str, Any]:
    iam(ctx).untag(ctx.principal, kind, shapes.owner_name(kind, params), params["TagKeys"])
    return {}


def _list_tags(ctx: RequestContext, params: Params, kind: OwnerKind) -> dict[str, Any]:
    held = iam(ctx).list_tags(ctx.principal, kind, shapes.owner_name(kind, params))
    chosen, more = marked_page(ctx, held, lambda tag: tag.key, params)
    return {"Tags": shapes.tag_list(tuple(chosen)), **more}


@operation("iam", "TagUser")
def tag_user(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return _tag(ctx, params, USER)


@operation("iam", "UntagUser")
def untag_user(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return _untag(ctx, params, USER)


@operation("iam", "ListUserTags")
def list_user_tags(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return _list_tags(ctx, params, USER)


@operation("iam", "TagRole")
def tag_role(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return _tag(ctx, params, ROLE)


@operation("iam", "UntagRole")
def untag_role(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return _untag(ctx, params, ROLE)


@operation("iam", "ListRoleTags")
def list_role_tags(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return _list_tags(ctx, params, ROLE)


# -- inline policies -----------------------------------------------------------------------------
def _put_policy(ctx: RequestContext, params: Params, kind: OwnerKind) -> dict[str, Any]:
    iam(ctx).put_policy(
        ctx.principal,
        kind,
        shapes.owner_name(kind, params),
        params["PolicyName"],
        params["PolicyDocument"],
    )
    return {}


def _get_policy(ctx: RequestContext, params: Params, kind: OwnerKind) -> dict[str, Any]:
    policy = iam(ctx).get_policy(
        ctx.principal, kind, shapes.owner_name(kind, params), params["PolicyName"]
    )
    return shapes.inline_policy(policy)


def _delete_policy(ctx: RequestContext, params: Params, kind: OwnerKind) -> dict[str, Any]:
    iam(ctx).delete_policy(
        ctx.principal, kind, shapes.owner_name(kind, params), params["PolicyName"]
    )
    return {}


def _list_policies(ctx: RequestContext, params: Params, kind: OwnerKind) -> dict[str, Any]:
    names = iam(ctx).list_policies(ctx.principal, kind, shapes.owner_name(kind, params))
    chosen, more = marked_page(ctx, names, str, params)
    return {"PolicyNames": chosen, **more}


@operation("iam", "PutUserPolicy")
def put_user_policy(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return _put_policy(ctx, params, USER)


@operation("iam", "GetUserPolicy")
def get_user_policy(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return _get_policy(ctx, params, USER)


@operation("iam", "DeleteUserPolicy")
def delete_user_policy(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return _delete_policy(ctx, params, USER)


@operation("iam", "ListUserPolicies")
def list_user_policies(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return _list_policies(ctx, params, USER)


@operation("iam", "PutRolePolicy")
def put_role_policy(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return _put_policy(ctx, params, ROLE)


@operation("iam", "GetRolePolicy")
def get_role_policy(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return _get_policy(ctx, params, ROLE)


@operation("iam", "DeleteRolePolicy")
def delete_role_policy(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return _delete_policy(ctx, params, ROLE)


@operation("iam", "ListRolePolicies")
def list_role_policies(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return _list_policies(ctx, params, ROLE)


# -- SAML providers ------------------------------------------------------------------------------
@operation("iam", "CreateSAMLProvider")
def create_saml_provider(ctx: RequestContext, params: Params) -> dict[str, Any]:
    tags = shapes.tags(params)
    arn = services(ctx).providers.create(
        ctx.principal,
        params["Name"],
        params["SAMLMetadataDocument"],
        shapes.encryption_mode(params),
        params.get("AddPrivateKey"),
        tags,
    )
    return {"SAMLProviderArn": arn, **({"Tags": shapes.tag_list(tags)} if tags else {})}


@operation("iam", "GetSAMLProvider")
def get_saml_provider(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return shapes.saml_provider(
        services(ctx).providers.describe(ctx.principal, params["SAMLProviderArn"])
    )


@operation("iam", "ListSAMLProviders")
def list_saml_providers(ctx: RequestContext, params: Params) -> dict[str, Any]:
    found = services(ctx).providers.list(ctx.principal)
    return {"SAMLProviderList": [shapes.saml_provider_entry(p) for p in found]}


@operation("iam", "UpdateSAMLProvider")
def update_saml_provider(ctx: RequestContext, params: Params) -> dict[str, Any]:
    change = ProviderChange(
        params.get("SAMLMetadataDocument"),
        shapes.encryption_mode(params),
        params.get("AddPrivateKey"),
        params.get("RemovePrivateKey"),
    )
    return {
        "SAMLProviderArn": services(ctx).providers.update(
            ctx.principal, params["SAMLProviderArn"], change
        )
    }


@operation("iam", "DeleteSAMLProvider")
def delete_saml_provider(ctx: RequestContext, params: Params) -> dict[str, Any]:
    services(ctx).providers.delete(ctx.principal, params["SAMLProviderArn"])
    return {}


@operation("iam", "TagSAMLProvider")
def tag_saml_provider(ctx: RequestContext, params: Params) -> dict[str, Any]:
    services(ctx).providers.tag(ctx.principal, params["SAMLProviderArn"], shapes.tags(params))
    return {}


@operation("iam", "UntagSAMLProvider")
def untag_saml_provider(ctx: RequestContext, params: Params) -> dict[str, Any]:
    services(ctx).providers.untag(ctx.principal, params["SAMLProviderArn"], params["TagKeys"])
    return {}


@operation("iam", "ListSAMLProviderTags")
def list_saml_provider_tags(ctx: RequestContext, params: Params) -> dict[str, Any]:
    held = services(ctx).providers.list_tags(ctx.principal, params["SAMLProviderArn"])
    chosen, more = marked_page(ctx, held, lambda tag: tag.key, params)
    return {"Tags": shapes.tag_list(tuple(chosen)), **more}

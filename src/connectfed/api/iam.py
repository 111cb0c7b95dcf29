"""AWS IAM operations (awsQuery): the subset needed to set up federation."""

from __future__ import annotations

from typing import Any

from connectfed.api.context import services
from connectfed.identity.providers import EncryptionMode, ProviderChange, ProviderDescription
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


def _mode(params: Params) -> EncryptionMode | None:
    value = params.get("AssertionEncryptionMode")
    return EncryptionMode(value) if value is not None else None  # the model's enum validated it


def _provider_shape(p: ProviderDescription) -> dict[str, Any]:
    out: dict[str, Any] = {"SAMLMetadataDocument": p.metadata_document, "CreateDate": p.created}
    if p.uuid is not None:
        out["SAMLProviderUUID"] = p.uuid
    if p.valid_until is not None:
        out["ValidUntil"] = p.valid_until
    if p.encryption_mode is not None:
        out["AssertionEncryptionMode"] = p.encryption_mode.value
    if p.private_keys:
        out["PrivateKeyList"] = [
            {"KeyId": k.key_id, "Timestamp": k.created} for k in p.private_keys
        ]
    return out


@operation("iam", "CreateSAMLProvider")
def create_saml_provider(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return {
        "SAMLProviderArn": services(ctx).providers.create(
            ctx.principal,
            params["Name"],
            params["SAMLMetadataDocument"],
            _mode(params),
            params.get("AddPrivateKey"),
        )
    }


@operation("iam", "GetSAMLProvider")
def get_saml_provider(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return _provider_shape(
        services(ctx).providers.describe(ctx.principal, params["SAMLProviderArn"])
    )


@operation("iam", "ListSAMLProviders")
def list_saml_providers(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return {
        "SAMLProviderList": [
            {
                "Arn": p.arn,
                "CreateDate": p.created,
                **({"ValidUntil": p.valid_until} if p.valid_until is not None else {}),
            }
            for p in services(ctx).providers.list(ctx.principal)
        ]
    }


@operation("iam", "UpdateSAMLProvider")
def update_saml_provider(ctx: RequestContext, params: Params) -> dict[str, Any]:
    change = ProviderChange(
        params.get("SAMLMetadataDocument"),
        _mode(params),
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

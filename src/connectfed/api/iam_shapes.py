"""IAM between the wire and the domain: the records :class:`~connectfed.identity.iam.IamService`
and :class:`~connectfed.identity.providers.SamlProviderService` return, as the botocore model's
output shapes (member names, ``datetime`` timestamps, the optional members left out)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from connectfed.clock import utc
from connectfed.identity.errors import InvalidRequest
from connectfed.identity.iam import OwnedPolicy, OwnerKind
from connectfed.identity.iam_tags import sorted_tags
from connectfed.identity.providers import EncryptionMode, ProviderDescription
from connectfed.store.records import AccessKey, IamUser, Role, Tag
from connectfed.wire.registry import Params


# -- requests ------------------------------------------------------------------------------------
def owner_name(kind: OwnerKind, params: Params) -> str:
    """``UserName`` or ``RoleName``: who owns the inline policy a request is about."""
    return str(params[f"{kind.title}Name"])


def refuse_permissions_boundary(params: Params) -> None:
    """A ``PermissionsBoundary`` would cap the user's or role's permissions; connectfed has no
    managed policies and evaluates no boundaries, so taking it and ignoring it would grant more
    than the caller set: refused instead (fail closed), as ``PolicyArns`` are on AssumeRole."""
    if params.get("PermissionsBoundary") is not None:
        raise InvalidRequest(
            "PermissionsBoundary is not supported by connectfed (permissions boundaries are "
            "not evaluated)."
        )


def tags(params: Params) -> tuple[Tag, ...]:
    """A request's ``Tags`` (CreateUser, CreateRole, TagUser, TagRole), as given."""
    return tuple(Tag(t["Key"], t["Value"]) for t in params.get("Tags") or ())


def encryption_mode(params: Params) -> EncryptionMode | None:
    value = params.get("AssertionEncryptionMode")
    return EncryptionMode(value) if value is not None else None  # the model's enum validated it


# -- responses -----------------------------------------------------------------------------------
def policy_text(document: str) -> str:
    """A policy document as IAM answers it: percent-encoded (RFC 3986, every character but the
    unreserved ones), as the API reference says and AWS's wire shows. botocore unquotes and
    parses it (``json_decode_policies``); the JavaScript and Go SDKs hand it over as it is, for
    the caller to ``decodeURIComponent``. Sent plain, a ``%41`` in a condition value came back
    to boto3 as ``A``."""
    return quote(document, safe="")


def tag_list(held: tuple[Tag, ...]) -> list[dict[str, str]]:
    return [{"Key": tag.key, "Value": tag.value} for tag in held]


def user(record: IamUser, *, with_tags: bool = True) -> dict[str, Any]:
    """A User; ListUsers leaves its Tags out (as the API reference says it does)."""
    out: dict[str, Any] = {
        "Path": record.path,
        "UserName": record.user_name,
        "UserId": record.user_id,
        "Arn": record.arn,
        "CreateDate": utc(record.created),
    }
    if with_tags and record.tags:
        out["Tags"] = tag_list(sorted_tags(record.tags))
    return out


def role(record: Role, *, with_tags: bool = True) -> dict[str, Any]:
    """A Role; ListRoles leaves its Tags out (as the API reference says it does)."""
    out: dict[str, Any] = {
        "Path": record.path,
        "RoleName": record.role_name,
        "RoleId": record.role_id,
        "Arn": record.arn,
        "CreateDate": utc(record.created),
        "AssumeRolePolicyDocument": policy_text(record.trust_policy),
        "MaxSessionDuration": record.max_session_duration,
    }
    if record.description is not None:
        out["Description"] = record.description
    if with_tags and record.tags:
        out["Tags"] = tag_list(sorted_tags(record.tags))
    return out


def new_access_key(key: AccessKey) -> dict[str, Any]:
    """CreateAccessKey's AccessKey: the only answer that carries the secret."""
    return {
        "UserName": key.user_name or "root",
        "AccessKeyId": key.access_key_id,
        "Status": key.status,
        "SecretAccessKey": key.secret_access_key,
        "CreateDate": utc(key.created),
    }


def access_key_metadata(key: AccessKey) -> dict[str, Any]:
    return {
        "UserName": key.user_name or "root",
        "AccessKeyId": key.access_key_id,
        "Status": key.status,
        "CreateDate": utc(key.created),
    }


def inline_policy(policy: OwnedPolicy) -> dict[str, Any]:
    return {
        f"{policy.owner_kind.title}Name": policy.owner_name,
        "PolicyName": policy.policy_name,
        # As stored, re-serialised compactly (whitespace as the caller sent it is not kept).
        "PolicyDocument": policy_text(json.dumps(json.loads(policy.document))),
    }


def saml_provider(p: ProviderDescription) -> dict[str, Any]:
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
    if p.tags:
        out["Tags"] = tag_list(p.tags)
    return out


def saml_provider_entry(p: ProviderDescription) -> dict[str, Any]:
    """An entry of ListSAMLProviders' SAMLProviderList."""
    out: dict[str, Any] = {"Arn": p.arn, "CreateDate": p.created}
    if p.valid_until is not None:
        out["ValidUntil"] = p.valid_until
    return out

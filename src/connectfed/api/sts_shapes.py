"""STS between the wire and the domain: AssumeRoleWithSAML's request as a typed value, and the
typed sessions :mod:`connectfed.identity.sts` issues as the botocore model's output shapes."""

from __future__ import annotations

from typing import Any

from connectfed.identity.session_tags import TagRequest
from connectfed.identity.sts_values import (
    AssumeRoleRequest,
    CallerIdentity,
    RoleSession,
    SamlRequest,
    SamlSession,
    SessionCredentials,
)
from connectfed.wire.registry import Params


# -- requests ------------------------------------------------------------------------------------
def tag_request(params: Params) -> TagRequest:
    """AssumeRole's ``Tags`` and ``TransitiveTagKeys`` (already checked against the model)."""
    return TagRequest(
        tuple((tag["Key"], tag["Value"]) for tag in params.get("Tags") or ()),
        tuple(params.get("TransitiveTagKeys") or ()),
    )


def assume_role_request(params: Params) -> AssumeRoleRequest:
    return AssumeRoleRequest(
        role_arn=params["RoleArn"],
        session_name=params["RoleSessionName"],
        duration_seconds=params.get("DurationSeconds", 3600),
        policy=params.get("Policy"),
        external_id=params.get("ExternalId"),
        tags=tag_request(params),
        source_identity=params.get("SourceIdentity"),
    )


def saml_request(params: Params) -> SamlRequest:
    return SamlRequest(
        role_arn=params["RoleArn"],
        provider_arn=params["PrincipalArn"],
        assertion=params["SAMLAssertion"],
        duration_seconds=params.get("DurationSeconds"),
        policy=params.get("Policy"),
    )


# -- responses -----------------------------------------------------------------------------------
def caller_identity(identity: CallerIdentity) -> dict[str, Any]:
    return {"UserId": identity.user_id, "Account": identity.account_id, "Arn": identity.arn}


def credentials(issued: SessionCredentials) -> dict[str, Any]:
    return {
        "AccessKeyId": issued.access_key_id,
        "SecretAccessKey": issued.secret_access_key,
        "SessionToken": issued.session_token,
        "Expiration": issued.expiration,
    }


def role_session(session: RoleSession) -> dict[str, Any]:
    """AssumeRole's answer (and the first members of AssumeRoleWithSAML's)."""
    out: dict[str, Any] = {
        "Credentials": credentials(session.credentials),
        "AssumedRoleUser": {"AssumedRoleId": session.assumed_role_id, "Arn": session.arn},
    }
    if session.packed_policy_size is not None:
        out["PackedPolicySize"] = session.packed_policy_size
    if session.source_identity is not None:
        out["SourceIdentity"] = session.source_identity
    return out


def saml_session(issued: SamlSession) -> dict[str, Any]:
    out = role_session(issued.session)
    out.update(
        {
            "Subject": issued.subject,
            "SubjectType": issued.subject_type,
            "Issuer": issued.issuer,
            "Audience": issued.audience,
            "NameQualifier": issued.name_qualifier,
        }
    )
    return out

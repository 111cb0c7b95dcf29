"""STS between the wire and the domain: AssumeRoleWithSAML's request as a typed value, and the
typed sessions :mod:`connectfed.identity.sts` issues as the botocore model's output shapes."""

from __future__ import annotations

from typing import Any

from connectfed.identity.sts_values import (
    CallerIdentity,
    RoleSession,
    SamlRequest,
    SamlSession,
    SessionCredentials,
)
from connectfed.wire.registry import Params


# -- requests ------------------------------------------------------------------------------------
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
    return {
        "Credentials": credentials(session.credentials),
        "AssumedRoleUser": {"AssumedRoleId": session.assumed_role_id, "Arn": session.arn},
    }


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
    if issued.source_identity is not None:
        out["SourceIdentity"] = issued.source_identity
    return out

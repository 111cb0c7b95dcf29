"""CloudTrail ``userIdentity`` values of the callers connectfed knows ("CloudTrail userIdentity
element", AWS CloudTrail User Guide): root, IAM users, assumed-role sessions, SAML users."""

from __future__ import annotations

from datetime import UTC

from connectfed import arns
from connectfed.audit.events import Actor, IdentityType
from connectfed.identity.principal import Principal

_TYPES = {
    "root": IdentityType.ROOT,
    "user": IdentityType.IAM_USER,
    "assumed-role": IdentityType.ASSUMED_ROLE,
}


def actor_of(principal: Principal) -> Actor:
    """The identity of an authenticated caller."""
    kind = _TYPES.get(principal.kind, IdentityType.UNKNOWN)
    return Actor(
        type=kind,
        account_id=principal.account_id,
        arn=principal.arn,
        principal_id=principal.user_id,
        access_key_id=principal.access_key_id,
        user_name=principal.name if kind is IdentityType.IAM_USER else None,
        session_issuer_arn=principal.role_arn,
        session_issuer_id=principal.role_id,
        session_created=(
            None
            if principal.session_issued is None
            else principal.session_issued.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        ),
    )


def saml_actor(
    account_id: str | None,
    subject: str | None,
    provider_arn: str | None,
    name_qualifier: str | None = None,
) -> Actor:
    """A SAML user: the subject (NameID) of an assertion from ``provider_arn``. CloudTrail's
    ``principalId`` for one is ``<NameQualifier>:<subject>``."""
    principal_id = f"{name_qualifier}:{subject}" if name_qualifier and subject else None
    return Actor(
        IdentityType.SAML_USER,
        account_id=account_id,
        principal_id=principal_id,
        user_name=subject,
        identity_provider=provider_arn,
    )


def session_actor(
    account_id: str | None,
    access_key_id: str | None,
    role_arn: str | None,
    session_name: str | None,
) -> Actor:
    """An assumed-role session known by its key, role and session name (a browser session)."""
    arn = arns.session_of_role(role_arn, session_name) if role_arn and session_name else None
    return Actor(
        IdentityType.ASSUMED_ROLE,
        account_id=account_id,
        arn=arn,
        access_key_id=access_key_id,
        session_issuer_arn=role_arn,
    )

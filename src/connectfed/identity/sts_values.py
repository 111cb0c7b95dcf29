"""What STS hands out and is asked for, as typed values: the caller's identity, a role
session's temporary credentials, and AssumeRoleWithSAML's request and answer. The AWS shapes
are made in :mod:`connectfed.api.sts_shapes`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from connectfed.identity.principal import Principal
from connectfed.identity.session_tags import NO_TAGS, TagRequest


@dataclass(frozen=True, slots=True)
class CallerIdentity:
    """GetCallerIdentity: who signed the request."""

    user_id: str  # aws:userid — account id | AIDA… | AROA…:<session>
    account_id: str
    arn: str


@dataclass(frozen=True, slots=True)
class SessionCredentials:
    """Temporary credentials (``ASIA…``): the session token exists only in this answer."""

    access_key_id: str
    secret_access_key: str
    session_token: str
    expiration: datetime

    def __repr__(self) -> str:  # never show the secret or the token
        return (
            f"SessionCredentials(access_key_id={self.access_key_id!r}, "
            f"expiration={self.expiration.isoformat()})"
        )


@dataclass(frozen=True, slots=True)
class RoleSession:
    """A role session just issued (AssumeRole, AssumeRoleWithSAML)."""

    credentials: SessionCredentials
    assumed_role_id: str  # <role id>:<session name>
    arn: str  # arn:aws:sts::<account>:assumed-role/<role>/<session>
    # Who signs with these credentials: what the browser sign-in goes on with, without
    # reading back the session it has just written.
    principal: Principal
    # The percentage of the packing budget the session policy and tags passed use (None when
    # neither was passed: the answer then has no PackedPolicySize), and the session's source
    # identity (set now or inherited), echoed in the answer.
    packed_policy_size: int | None = None
    source_identity: str | None = None


@dataclass(frozen=True, slots=True)
class AssumeRoleRequest:
    """AssumeRole's input: the role, the session's name and duration, and what the session is
    made with: a session policy, session tags, a source identity; ``external_id`` is the
    ``sts:ExternalId`` a trust policy may ask for."""

    role_arn: str
    session_name: str
    duration_seconds: int = 3600
    policy: str | None = None
    external_id: str | None = None
    tags: TagRequest = NO_TAGS
    source_identity: str | None = None


@dataclass(frozen=True, slots=True)
class SamlRequest:
    """AssumeRoleWithSAML's input: the role wanted, the provider that issued the assertion,
    the assertion as sent (base64), and the duration asked for, if any."""

    role_arn: str
    provider_arn: str
    assertion: str
    duration_seconds: int | None = None
    policy: str | None = None  # a session policy, which narrows the role's for this session


@dataclass(frozen=True, slots=True)
class SamlSession:
    """A role session issued for a verified SAML assertion, with what STS tells of the
    assertion's subject."""

    session: RoleSession
    subject: str
    subject_type: str  # persistent | transient | the NameID format as given
    issuer: str
    audience: str
    name_qualifier: str

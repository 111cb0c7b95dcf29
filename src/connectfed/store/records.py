"""Frozen records persisted by every store backend. Times are epoch seconds (float, UTC)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AccessKey:
    access_key_id: str
    secret_access_key: str
    account_id: str
    user_name: str | None  # None: the account's root credentials
    status: str
    created: float
    user_id: str | None = None  # the owner's unique id (AIDA…); None for root keys


@dataclass(frozen=True, slots=True)
class IamUser:
    account_id: str
    user_name: str
    user_id: str
    path: str
    arn: str
    created: float


@dataclass(frozen=True, slots=True)
class Role:
    account_id: str
    role_name: str
    role_id: str
    path: str
    arn: str
    trust_policy: str
    max_session_duration: int
    description: str | None
    created: float


@dataclass(frozen=True, slots=True)
class InlinePolicy:
    """An inline policy, owned by a user or role through its unique id (AIDA…/AROA…), so a
    principal recreated under the same name never inherits it."""

    owner_kind: str  # "user" | "role"
    owner_id: str
    policy_name: str
    document: str


@dataclass(frozen=True, slots=True)
class Session:
    """Temporary credentials issued by STS (``ASIA…`` keys)."""

    access_key_id: str
    secret_access_key: str
    token_hash: str  # keyed hash of the session token; the token itself is never stored
    account_id: str
    role_arn: str
    role_id: str
    role_name: str
    session_name: str
    source: str  # "AssumeRole" | "AssumeRoleWithSAML"
    created: float
    expiration: float
    revoked: bool = False


@dataclass(frozen=True, slots=True)
class Instance:
    instance_id: str
    account_id: str
    region: str
    arn: str
    alias: str | None
    identity_management_type: str
    status: str
    inbound_calls: bool
    outbound_calls: bool
    created: float


@dataclass(frozen=True, slots=True)
class Profile:
    """A security profile or a routing profile of an instance."""

    instance_id: str
    kind: str  # "security" | "routing"
    profile_id: str
    name: str
    arn: str


@dataclass(frozen=True, slots=True)
class ConnectUser:
    instance_id: str
    user_id: str
    username: str
    arn: str
    security_profile_ids: tuple[str, ...]
    routing_profile_id: str
    identity_info: str  # JSON object text
    phone_config: str  # JSON object text
    directory_user_id: str | None
    hierarchy_group_id: str | None
    created: float
    modified: float


@dataclass(frozen=True, slots=True)
class RoleBinding:
    """A Connect user bound to the principal that federated it, by that principal's unique id
    (``AROA…`` for a role, ``AIDA…`` for an IAM user): a role recreated under the same name is
    a different principal."""

    instance_id: str
    user_id: str
    role_arn: str
    role_id: str
    created: float


@dataclass(frozen=True, slots=True)
class Token:
    """One issued Connect token; only its keyed hash is stored."""

    token_hash: str
    kind: str  # "access" | "refresh"
    family_id: str
    instance_id: str
    user_id: str
    session_key_id: str | None  # the STS/IAM access key the token was issued from
    created: float
    expires: float
    revoked: bool = False


@dataclass(frozen=True, slots=True)
class SamlPrivateKey:
    """A private key that decrypts a provider's encrypted assertions (AddPrivateKey)."""

    key_id: str
    private_key_pem: str  # a secret: never returned by the API, never logged
    created: float


@dataclass(frozen=True, slots=True)
class SamlProvider:
    account_id: str
    name: str
    arn: str
    metadata_document: str
    entity_id: str
    created: float
    valid_until: float | None
    provider_uuid: str = ""
    encryption_mode: str | None = None  # "Allowed" | "Required"; None when never set
    private_keys: tuple[SamlPrivateKey, ...] = ()

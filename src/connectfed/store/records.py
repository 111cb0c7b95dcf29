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
class Tag:
    """A tag of an IAM user, role or SAML provider (keys unique regardless of case, as IAM keeps
    them, in the case last set), or of a Connect resource (keys case-sensitive, as Connect
    keeps them): its ``aws:ResourceTag/<key>`` when it is acted on, and a user's or role's
    ``aws:PrincipalTag/<key>`` when it signs."""

    key: str
    value: str


@dataclass(frozen=True, slots=True)
class IamUser:
    account_id: str
    user_name: str
    user_id: str
    path: str
    arn: str
    created: float
    tags: tuple[Tag, ...] = ()


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
    tags: tuple[Tag, ...] = ()


@dataclass(frozen=True, slots=True)
class InlinePolicy:
    """An inline policy, owned by a user or role through its unique id (AIDA…/AROA…), so a
    principal recreated under the same name never inherits it."""

    owner_kind: str  # "user" | "role"
    owner_id: str
    policy_name: str
    document: str


@dataclass(frozen=True, slots=True)
class SessionTag:
    """A session tag (AssumeRole's ``Tags``, an assertion's ``PrincipalTag:<key>``): the
    session's ``aws:PrincipalTag/<key>``; a transitive one passes on to the sessions this
    session assumes (role chaining)."""

    key: str
    value: str
    transitive: bool = False


@dataclass(frozen=True, slots=True)
class SamlSubject:
    """Who a SAML session was made for, as its assertion said: the session's ``saml:sub``,
    ``saml:sub_type`` and ``saml:namequalifier`` in its role's permission policies (IAM User
    Guide, "Available keys for SAML-based AWS STS federation", permission policies)."""

    sub: str
    sub_type: str
    name_qualifier: str


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
    # The session policy passed when the session was made (AssumeRole's ``Policy``), if any:
    # the session's permissions are what its role's policies and this one both allow.
    session_policy: str | None = None
    # The session's tags (its ``aws:PrincipalTag/<key>``) and source identity
    # (``aws:SourceIdentity``), set when it was made or inherited from the calling session.
    tags: tuple[SessionTag, ...] = ()
    source_identity: str | None = None
    # A session made by AssumeRoleWithSAML: who its assertion named (never inherited in role
    # chaining: AWS reads the saml: keys of the assertion the session was made from).
    saml_subject: SamlSubject | None = None


@dataclass(frozen=True, slots=True)
class AssertionUse:
    """The first use of a SAML assertion, remembered until ``expires`` (its NotOnOrAfter plus
    the allowed skew) so it is accepted once; entries already expired at ``now`` are purged."""

    key: str  # "<Issuer>|<Assertion ID>"
    expires: float
    now: float


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
    tags: tuple[Tag, ...] = ()


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
    tags: tuple[Tag, ...] = ()


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
    """One issued token; only its keyed hash is stored, with the id of the key that made it."""

    token_hash: str
    key_id: str
    kind: str  # "access" | "refresh" | "signin" | "console" | "session"
    family_id: str
    state: str  # "active" | "used" (spent once, or rotated)
    created: float
    expires: float
    spent: float | None = None  # when it was used or rotated


@dataclass(frozen=True, slots=True)
class TokenFamily:
    """Tokens issued from one grant (a GetFederationToken call, a browser role session).

    No token of the family outlives ``expires`` (the refresh horizon, capped at the IAM session
    the grant came from); revoking the family ends every token in it at once.

    ``inline_tokens`` are the tokens minted with the family (created with it), stored in its
    row, state included, so creating a family writes one row; tokens minted later have rows of
    their own.
    """

    family_id: str
    instance_id: str  # "" for a console (role) session, which belongs to no instance
    user_id: str
    session_key_id: str | None  # the STS/IAM access key the grant was issued from
    role_arn: str | None  # the role (or IAM user) ARN bound to the Connect user
    created: float
    expires: float
    revoked: str | None = None  # why the family was revoked; None while it lives
    inline_tokens: tuple[Token, ...] = ()


@dataclass(frozen=True, slots=True)
class TokenChange:
    """What an ``update_token`` updater decided, applied in the updater's transaction."""

    state: str
    spent: float | None
    revoke_family: str | None = None  # a reason: revoke the token's whole family too
    insert: tuple[Token, ...] = ()  # new tokens of the same family (a rotation's successors)


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
    tags: tuple[Tag, ...] = ()


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """The explanation of a denied request, kept under its request id until ``expires``.
    ``document`` is the explanation as JSON text (its shape belongs to
    :mod:`connectfed.identity.explain`; the store only keeps it)."""

    request_id: str
    created: float
    expires: float
    document: str

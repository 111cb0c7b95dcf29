"""What IAM and STS refuse, in the domain's terms.

Each exception carries the data of the refusal (which entity, which quota...) and says it in
AWS's words (its ``str()``, the message the caller gets); :mod:`connectfed.api.errors` gives
each its AWS error code and HTTP status. Beside their concepts: a document IAM refuses
(:class:`~connectfed.identity.policy.MalformedPolicy`), a SAML assertion STS refuses
(:mod:`connectfed.identity.saml_refusal`). Not domain exceptions, and still
:class:`~connectfed.errors.ServiceError`: denials by policy (``AccessDenied``, from
:mod:`connectfed.identity.authorize`) and the authentication layer's errors, which are the same
for every operation.
"""

from __future__ import annotations

import enum


class IdentityError(Exception):
    """The root of IAM's and STS's refusals."""


class Entity(enum.StrEnum):
    """The kinds of IAM entity a refusal names (as IAM's messages name them)."""

    USER = "user"
    ROLE = "role"
    GROUP = "group"
    USER_POLICY = "user policy"
    ROLE_POLICY = "role policy"
    ACCESS_KEY = "access key"
    SAML_PROVIDER = "SAML provider"


class EntityNotFound(IdentityError):
    """No ``kind`` named ``name`` (an access key's id, a SAML provider's ARN) in the account."""

    def __init__(self, kind: Entity, name: str) -> None:
        if kind is Entity.ACCESS_KEY:
            message = f"The Access Key with id {name} cannot be found."
        elif kind is Entity.SAML_PROVIDER:
            message = f"SAMLProvider {name} does not exist."
        else:
            message = f"The {kind} with name {name} cannot be found."
        super().__init__(message)
        self.kind = kind
        self.name = name


class EntityExists(IdentityError):
    """A ``kind`` named ``name`` exists already."""

    def __init__(self, kind: Entity, name: str) -> None:
        if kind is Entity.ACCESS_KEY:
            message = f"The access key {name} already exists."
        elif kind is Entity.SAML_PROVIDER:
            message = f"SAMLProvider {name} already exists."
        else:
            message = f"{kind.capitalize()} with name {name} already exists."
        super().__init__(message)
        self.kind = kind
        self.name = name


class Dependent(enum.StrEnum):
    """What a user or role still has that must be deleted before it (as IAM's messages name
    them)."""

    POLICIES = "policies"
    ACCESS_KEYS = "access keys"


class EntityInUse(IdentityError):
    """The user or role still has ``dependent`` (its inline policies; a user's keys), which
    must be deleted first; IAM names the one it found."""

    def __init__(self, kind: Entity, name: str, dependent: Dependent = Dependent.POLICIES) -> None:
        super().__init__(f"Cannot delete entity, must delete {dependent} first.")
        self.kind = kind
        self.name = name
        self.dependent = dependent


class Quota(enum.StrEnum):
    """IAM's quotas on counts and sizes, by IAM's names for them."""

    ACCESS_KEYS_PER_USER = "AccessKeysPerUser"
    TRUST_POLICY_SIZE = "ACLSizePerRole"
    PRIVATE_KEYS_PER_PROVIDER = "PrivateKeysPerSAMLProvider"
    TAGS_PER_USER = "TagsPerUser"
    TAGS_PER_ROLE = "TagsPerRole"
    TAGS_PER_SAML_PROVIDER = "TagsPerSAMLProvider"


class QuotaExceeded(IdentityError):
    def __init__(self, quota: Quota, limit: int) -> None:
        super().__init__(f"Cannot exceed quota for {quota}: {limit}")
        self.quota = quota
        self.limit = limit


class PoliciesTooLarge(IdentityError):
    """The owner's inline policies together would exceed ``limit`` bytes (not counting
    whitespace)."""

    def __init__(self, owner: Entity, owner_name: str, limit: int) -> None:
        super().__init__(f"Maximum policy size of {limit} bytes exceeded for {owner} {owner_name}")
        self.owner = owner
        self.owner_name = owner_name
        self.limit = limit


class UserNameRequired(IdentityError):
    """The operation names no user, and the caller is not an IAM user it could mean."""

    def __init__(self) -> None:
        super().__init__("Must specify userName when calling with non-User credentials")


class InvalidRoleArn(IdentityError):
    def __init__(self, arn: str) -> None:
        super().__init__(f"{arn} is invalid")
        self.arn = arn


class DurationLimit(enum.Enum):
    ROLE_MAXIMUM = "the MaxSessionDuration set for this role"
    ROLE_CHAINING = "the 1 hour session limit for roles assumed by role chaining"


class DurationTooLong(IdentityError):
    """The requested session duration exceeds ``limit``."""

    def __init__(self, limit: DurationLimit) -> None:
        super().__init__(f"The requested DurationSeconds exceeds {limit.value}.")
        self.limit = limit


class InvalidRequest(IdentityError):
    """A request IAM cannot honour as made; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

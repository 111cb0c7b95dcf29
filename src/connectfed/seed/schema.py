"""The declared world, as typed values (what :mod:`connectfed.seed.parse` builds from a file).

Every entry keeps the :class:`~connectfed.seed.source.Where` it was declared at, so an apply
error names the line too. Names of things inside an instance (security profiles, routing
profiles, queues) are references by name, resolved when applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connectfed.connect.agent_values import Channel
from connectfed.seed.source import Where
from connectfed.store.records import Tag


@dataclass(frozen=True, slots=True)
class FixedKey:
    access_key_id: str
    secret_access_key: str


@dataclass(frozen=True, slots=True)
class AccessKeySpec:
    fixed: FixedKey | None  # None: a key generated once, then kept
    where: Where


@dataclass(frozen=True, slots=True)
class Document:
    """A policy document as plain data (placeholders expanded when applied)."""

    value: Any
    where: Where


@dataclass(frozen=True, slots=True)
class PolicySpec:
    name: str
    document: Document
    where: Where


@dataclass(frozen=True, slots=True)
class TagsSpec:
    """The tags declared for an IAM user or role (keys unique regardless of case) or a Connect
    resource (keys case-sensitive), in the file's order. Tags the user, role or resource holds
    and the file does not declare are left alone."""

    tags: tuple[Tag, ...]
    where: Where


@dataclass(frozen=True, slots=True)
class IamUserSpec:
    name: str
    path: str
    access_keys: tuple[AccessKeySpec, ...]
    policies: tuple[PolicySpec, ...]
    tags: TagsSpec | None  # None: no tags declared
    where: Where


@dataclass(frozen=True, slots=True)
class RoleSpec:
    name: str
    path: str
    description: str | None
    max_session_duration: int
    trust: Document
    policies: tuple[PolicySpec, ...]
    tags: TagsSpec | None  # None: no tags declared
    where: Where


@dataclass(frozen=True, slots=True)
class IdpUserSpec:
    """A user of the built-in test IdP: signs in as ``session_name`` with ``roles`` (names in
    the provider's account or ARNs; placeholders allowed)."""

    name: str
    session_name: str
    roles: tuple[str, ...]
    relay_state: str
    where: Where


@dataclass(frozen=True, slots=True)
class SamlProviderSpec:
    name: str
    metadata: str | None  # the IdP's metadata document; None for the test IdP
    test_idp_users: tuple[IdpUserSpec, ...] | None  # None: not the test IdP
    where: Where

    @property
    def is_test_idp(self) -> bool:
        return self.test_idp_users is not None


@dataclass(frozen=True, slots=True)
class AgentStatusSpec:
    name: str
    description: str | None
    enabled: bool
    display_order: int | None
    tags: TagsSpec | None  # None: no tags declared
    where: Where


@dataclass(frozen=True, slots=True)
class QueueSpec:
    name: str
    description: str | None
    max_contacts: int | None
    tags: TagsSpec | None  # None: no tags declared
    where: Where


@dataclass(frozen=True, slots=True)
class RoutingQueueSpec:
    queue: str  # a queue's name
    channel: Channel
    priority: int
    delay: int
    where: Where


@dataclass(frozen=True, slots=True)
class RoutingProfileSpec:
    name: str
    description: str
    default_outbound_queue: str  # a queue's name
    queues: tuple[RoutingQueueSpec, ...]
    media_concurrencies: tuple[tuple[Channel, int], ...]
    tags: TagsSpec | None  # None: no tags declared
    where: Where


@dataclass(frozen=True, slots=True)
class ConnectUserSpec:
    username: str
    user_id: str | None  # fixed id (a UUID), or generated
    identity: dict[str, str]  # FirstName / LastName / Email, as Connect's IdentityInfo
    phone: dict[str, Any]  # Connect's PhoneConfig
    security_profiles: tuple[str, ...]  # names
    routing_profile: str  # a name
    password: str | None
    tags: TagsSpec | None  # None: no tags declared
    where: Where


@dataclass(frozen=True, slots=True)
class InstanceSpec:
    ref: str | None  # how placeholders name it: {{ instances.<ref>.id }}
    instance_id: str | None  # fixed id (a UUID), or generated
    alias: str  # placeholders allowed
    identity_management_type: str
    inbound_calls: bool
    outbound_calls: bool
    agent_statuses: tuple[AgentStatusSpec, ...]
    queues: tuple[QueueSpec, ...]
    routing_profiles: tuple[RoutingProfileSpec, ...]
    users: tuple[ConnectUserSpec, ...]
    tags: TagsSpec | None  # None: no tags declared
    where: Where


@dataclass(frozen=True, slots=True)
class AccountSpec:
    account_id: str | None  # None: the server's bootstrap account
    root_access_keys: tuple[AccessKeySpec, ...]
    users: tuple[IamUserSpec, ...]
    roles: tuple[RoleSpec, ...]
    saml_providers: tuple[SamlProviderSpec, ...]
    instances: tuple[InstanceSpec, ...]
    where: Where


@dataclass(frozen=True, slots=True)
class World:
    source: str
    accounts: tuple[AccountSpec, ...]  # the bootstrap account first

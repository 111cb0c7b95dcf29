"""Connect instances, their default profiles, and users, validated as Connect does.

A new instance comes with the default security profiles (Admin, Agent, CallCenterManager,
QualityAnalyst) and a "Basic Routing Profile". Every method authorises ``connect:<Action>`` and
answers with the stored records (:mod:`connectfed.store.records`), listings a
:class:`~connectfed.connect.pages.Page` of them; refusals are :mod:`connectfed.connect.errors`.
The AWS shapes and error codes are made in :mod:`connectfed.api`. A user's identity information
and phone configuration are Connect's JSON documents (``UserIdentityInfo``, ``UserPhoneConfig``),
kept as given.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from connectfed import arns
from connectfed.cache import TtlCache
from connectfed.clock import Clock
from connectfed.connect.agent_phone import AgentPhone
from connectfed.connect.errors import (
    AlreadyExists,
    InvalidParameter,
    InvalidReference,
    InvalidRequest,
    ResourceKind,
    ResourceNotFound,
)
from connectfed.connect.pages import Page, PageRequest, take
from connectfed.connect.resource_tags import request_context, resource_context
from connectfed.identity.authorize import Authorizer
from connectfed.identity.policy.conditions import ContextValue
from connectfed.identity.principal import Principal
from connectfed.store import Conflict, NotFound, Store
from connectfed.store.records import ConnectUser, Instance, Profile, Tag

DEFAULT_SECURITY_PROFILES = ("Admin", "Agent", "CallCenterManager", "QualityAnalyst")
DEFAULT_ROUTING_PROFILE = "Basic Routing Profile"
# Connect's rule for SAML instances (CreateUser, Username): up to 64 of [a-zA-Z0-9_-.@].
SAML_USERNAME = re.compile(r"[a-zA-Z0-9_\-.@]{1,64}")
SUPPORTED_TYPES = ("SAML", "CONNECT_MANAGED")
# The namespace of the instance ids CreateInstance derives from (account, ClientToken).
_CLIENT_TOKENS = uuid.UUID("5d0c4c1e-3f0b-4c52-9d47-2f6d2a9e8b10")


class ProfileKind(Enum):
    SECURITY = "security"
    ROUTING = "routing"


@dataclass(frozen=True, slots=True)
class NewInstance:
    """CreateInstance's settings."""

    identity_management_type: str  # SAML | CONNECT_MANAGED (others are refused)
    alias: str | None
    inbound_calls: bool
    outbound_calls: bool
    # The caller's idempotency token (the SDKs fill one in and keep it across their retries):
    # the same token with the same settings answers the instance it created.
    client_token: str | None = None
    tags: tuple[Tag, ...] = ()

    def made(self, instance: Instance) -> bool:
        """Whether ``instance`` is the one these settings create."""
        return (
            instance.alias,
            instance.identity_management_type,
            instance.inbound_calls,
            instance.outbound_calls,
        ) == (self.alias, self.identity_management_type, self.inbound_calls, self.outbound_calls)


@dataclass(frozen=True, slots=True)
class NewUser:
    """CreateUser's settings."""

    username: str
    security_profile_ids: tuple[str, ...]
    routing_profile_id: str
    phone_config: Mapping[str, Any]
    identity_info: Mapping[str, Any] = field(default_factory=dict)
    password: str | None = None  # CONNECT_MANAGED instances only, and never stored
    directory_user_id: str | None = None
    hierarchy_group_id: str | None = None
    tags: tuple[Tag, ...] = ()


class InstanceService:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        authz: Authorizer,
        region: str,
        cache_ttl: float,
        on_created: Callable[[Instance], object] | None = None,
    ) -> None:
        self._on_created = on_created  # e.g. creates the instance's default agent data
        self._store = store
        self._clock = clock
        self._authz = authz
        self._region = region
        self._instances: TtlCache[Instance | None] = TtlCache(cache_ttl, clock.monotonic)
        # GetFederationToken's users by name (see user_named): found ones only.
        self._named_users: TtlCache[ConnectUser | None] = TtlCache(cache_ttl, clock.monotonic)

    def instance_arn(self, account_id: str, instance_id: str) -> str:
        return arns.connect_instance(self._region, account_id, instance_id)

    def find(self, caller: Principal, instance_id: str) -> Instance | None:
        """The caller's instance, or None (another account's or Region's is none)."""
        instance = self._instances.get(instance_id, lambda: self._store.get_instance(instance_id))
        if (
            instance is None
            or instance.account_id != caller.account_id
            or instance.region != self._region
        ):
            return None
        return instance

    def forget(self, instance_id: str) -> None:
        """Read the instance from the store next time (its tags changed)."""
        self._instances.invalidate(instance_id)

    def lookup(self, caller: Principal, instance_id: str) -> Instance:
        """The caller's instance, or ResourceNotFound (another account's is not found)."""
        instance = self.find(caller, instance_id)
        if instance is None:
            raise ResourceNotFound(ResourceKind.INSTANCE, instance_id)
        return instance

    def _authorize(
        self,
        caller: Principal,
        action: str,
        resource: str,
        instance_id: str | None = None,
        tags: dict[str, ContextValue] | None = None,
    ) -> None:
        """``tags``: the request's (``aws:RequestTag``…) or the resource's (``aws:ResourceTag``)
        condition keys (:mod:`connectfed.connect.resource_tags`)."""
        context: dict[str, ContextValue] = (
            {"connect:InstanceId": instance_id} if instance_id else {}
        )
        context.update(tags or {})
        self._authz.require(caller, f"connect:{action}", resource, context or None)

    def _users_arn(self, caller: Principal, instance_id: str, user_id: str = "*") -> str:
        return arns.connect_user(self.instance_arn(caller.account_id, instance_id), user_id)

    # -- instances -------------------------------------------------------------------------------
    def create_instance(
        self, caller: Principal, new: NewInstance, *, instance_id: str | None = None
    ) -> Instance:
        """CreateInstance; a fixed ``instance_id`` is for declared worlds (connectfed.seed)."""
        self._authorize(
            caller,
            "CreateInstance",
            self.instance_arn(caller.account_id, "*"),
            tags=request_context(new.tags),
        )
        kind = new.identity_management_type
        if kind not in SUPPORTED_TYPES:
            raise InvalidRequest(
                f"IdentityManagementType {kind} is not supported by connectfed; "
                "use SAML or CONNECT_MANAGED.",
            )
        alias = new.alias
        if alias is None:
            raise InvalidRequest(f"InstanceAlias is required for IdentityManagementType {kind}.")
        if instance_id is not None and self._store.get_instance(instance_id) is not None:
            raise InvalidRequest(f"The instance id {instance_id} is already in use.")
        if instance_id is None and new.client_token is not None:
            # One id per (account, token): a retry finds what the first attempt created.
            instance_id = str(uuid.uuid5(_CLIENT_TOKENS, f"{caller.account_id}:{new.client_token}"))
            earlier = self._earlier(new, instance_id)
            if earlier is not None:
                return earlier
        instance_id = instance_id or str(uuid.uuid4())
        arn = self.instance_arn(caller.account_id, instance_id)
        now = self._clock.now().timestamp()
        instance = Instance(
            instance_id,
            caller.account_id,
            self._region,
            arn,
            alias,
            kind,
            "ACTIVE",
            new.inbound_calls,
            new.outbound_calls,
            now,
            new.tags,
        )
        profiles = [
            Profile(instance_id, "security", pid, name, arns.security_profile(arn, pid))
            for name in DEFAULT_SECURITY_PROFILES
            for pid in [str(uuid.uuid4())]
        ]
        rid = str(uuid.uuid4())
        profiles.append(
            Profile(
                instance_id, "routing", rid, DEFAULT_ROUTING_PROFILE, arns.routing_profile(arn, rid)
            )
        )
        try:
            self._store.create_instance(instance, profiles)
        except Conflict:
            earlier = None if new.client_token is None else self._earlier(new, instance_id)
            if earlier is not None:  # a concurrent attempt with the same token won
                return earlier
            raise InvalidRequest(f"The alias {alias} is already in use.") from None
        if self._on_created is not None:
            self._on_created(instance)
        return instance

    def _earlier(self, new: NewInstance, instance_id: str) -> Instance | None:
        """The instance an earlier CreateInstance with ``new``'s ClientToken created (None when
        there is none); InvalidRequest when that request asked for something else."""
        earlier = self._store.get_instance(instance_id)
        if earlier is None:
            return None
        if not new.made(earlier):
            raise InvalidRequest(
                "The ClientToken was already used with other parameters for CreateInstance."
            )
        return earlier

    def _acted_on(self, caller: Principal, action: str, instance_id: str) -> Instance:
        """``action`` authorised on the instance, with its tags; then the instance, or
        ResourceNotFound (after the decision: a caller not allowed learns nothing)."""
        found = self.find(caller, instance_id)
        self._authorize(
            caller,
            action,
            self.instance_arn(caller.account_id, instance_id),
            instance_id,
            resource_context(found.tags if found else ()),
        )
        if found is None:
            raise ResourceNotFound(ResourceKind.INSTANCE, instance_id)
        return found

    def describe_instance(self, caller: Principal, instance_id: str) -> Instance:
        return self._acted_on(caller, "DescribeInstance", instance_id)

    def list_instances(self, caller: Principal, page: PageRequest) -> Page[Instance]:
        """The caller's instances in this Region, by id."""
        self._authorize(caller, "ListInstances", self.instance_arn(caller.account_id, "*"))
        mine = sorted(
            (i for i in self._store.list_instances(caller.account_id) if i.region == self._region),
            key=lambda i: i.instance_id,
        )
        return take(mine, lambda i: i.instance_id, page)

    def delete_instance(self, caller: Principal, instance_id: str) -> None:
        self._acted_on(caller, "DeleteInstance", instance_id)
        try:
            self._store.delete_instance(instance_id)
        except NotFound:
            raise ResourceNotFound(ResourceKind.INSTANCE, instance_id) from None
        self._instances.invalidate(instance_id)
        self._named_users.invalidate()  # its users went with it (rare: forget every cached one)

    # -- profiles --------------------------------------------------------------------------------
    def list_profiles(
        self, caller: Principal, instance_id: str, kind: ProfileKind, page: PageRequest
    ) -> Page[Profile]:
        """An instance's security or routing profiles, by name."""
        action = "ListSecurityProfiles" if kind is ProfileKind.SECURITY else "ListRoutingProfiles"
        self._authorize(
            caller,
            action,
            arns.within_instance(self.instance_arn(caller.account_id, instance_id)),
            instance_id,
        )
        self.lookup(caller, instance_id)
        return take(self._store.list_profiles(instance_id, kind.value), lambda p: p.name, page)

    # -- users -----------------------------------------------------------------------------------
    def user_arn(self, instance: Instance, user_id: str) -> str:
        return arns.connect_user(instance.arn, user_id)

    def user_named(
        self, instance_id: str, username: str, *, fresh: bool = False
    ) -> ConnectUser | None:
        """The user of that name, for GetFederationToken (no authorisation: the caller's own).

        Remembered for the cache TTL once found, as instances, keys and policies are (issue 9:
        a steady federation then makes one store call, its write). A user's id and ARN never
        change, and its name is fixed too (no operation renames a user); what may change is
        whether it exists. Deleted through this process it is forgotten at once; deleted through
        another, it is still found here for at most the TTL (2 s, docs/compatibility.md) — the
        bound every cached identity has. Tokens issued in that window are dead on arrival:
        every use of a token checks, uncached, that its user exists (``AgentSessions``), and
        revokes the family when not. A name not found is not remembered, so a user just
        created is found at once everywhere. ``fresh`` reads the store (and refreshes the cache):
        for a decision that writes on the user's behalf (binding a role to it).
        Only ``user_id``, ``arn`` and ``username`` of a cached user are to be relied on.
        """
        key = (instance_id, username)
        if fresh:
            self._named_users.invalidate(key)
        user = self._named_users.get(
            key, lambda: self._store.find_connect_user(instance_id, username)
        )
        if user is None:
            self._named_users.invalidate(key)
        return user

    def create_user(
        self, caller: Principal, instance_id: str, new: NewUser, *, user_id: str | None = None
    ) -> ConnectUser:
        """CreateUser; a fixed ``user_id`` is for declared worlds (:mod:`connectfed.seed`)."""
        self._authorize(
            caller,
            "CreateUser",
            self._users_arn(caller, instance_id),
            instance_id,
            request_context(new.tags),
        )
        instance = self.lookup(caller, instance_id)
        username = new.username
        if instance.identity_management_type == "SAML":
            if not SAML_USERNAME.fullmatch(username):
                raise InvalidParameter(
                    "For SAML instances the username can include up to 64 characters from "
                    "[a-zA-Z0-9_-.@].",
                )
            if new.password is not None:
                raise InvalidParameter("Password is not supported for SAML instances.")
        elif new.password is None:
            raise InvalidParameter("Password is required for CONNECT_MANAGED instances.")
        if new.phone_config:
            # A desk phone needs its number (the model cannot say so: DeskPhoneNumber is
            # optional because a softphone has none).
            AgentPhone.of(json.dumps(new.phone_config)).check()
        known_security = {p.profile_id for p in self._store.list_profiles(instance_id, "security")}
        for pid in new.security_profile_ids:
            if pid not in known_security:
                raise InvalidReference(ResourceKind.SECURITY_PROFILE, pid)
        known_routing = {p.profile_id for p in self._store.list_profiles(instance_id, "routing")}
        if new.routing_profile_id not in known_routing:
            raise InvalidReference(ResourceKind.ROUTING_PROFILE, new.routing_profile_id)
        if user_id is not None and self._store.get_connect_user(instance_id, user_id):
            raise AlreadyExists(ResourceKind.USER, "id", user_id)
        user_id = user_id or str(uuid.uuid4())
        now = self._clock.now().timestamp()
        user = ConnectUser(
            instance_id=instance_id,
            user_id=user_id,
            username=username,
            arn=self.user_arn(instance, user_id),
            security_profile_ids=tuple(new.security_profile_ids),
            routing_profile_id=new.routing_profile_id,
            identity_info=json.dumps(new.identity_info),
            phone_config=json.dumps(new.phone_config),
            directory_user_id=new.directory_user_id,
            hierarchy_group_id=new.hierarchy_group_id,
            created=now,
            modified=now,
            tags=new.tags,
        )
        try:
            self._store.create_connect_user(user)
        except Conflict:
            raise AlreadyExists(ResourceKind.USER, "username", username) from None
        return user

    def _user(
        self, caller: Principal, action: str, instance_id: str, user_id: str
    ) -> tuple[Instance, ConnectUser]:
        """``action`` authorised on the user, with its tags; then the instance and the user, or
        ResourceNotFound (after the decision: a caller not allowed learns nothing)."""
        instance = self.find(caller, instance_id)
        user = None if instance is None else self._store.get_connect_user(instance_id, user_id)
        self._authorize(
            caller,
            action,
            self._users_arn(caller, instance_id, user_id),
            instance_id,
            resource_context(user.tags if user else ()),
        )
        if instance is None:
            raise ResourceNotFound(ResourceKind.INSTANCE, instance_id)
        if user is None:
            raise ResourceNotFound(ResourceKind.USER, user_id)
        return instance, user

    def describe_user(self, caller: Principal, instance_id: str, user_id: str) -> ConnectUser:
        return self._user(caller, "DescribeUser", instance_id, user_id)[1]

    def list_users(
        self, caller: Principal, instance_id: str, page: PageRequest
    ) -> Page[ConnectUser]:
        """An instance's users, by username (paged by the store: instances may be large)."""
        self._authorize(caller, "ListUsers", self._users_arn(caller, instance_id), instance_id)
        self.lookup(caller, instance_id)
        users = self._store.list_connect_users(instance_id, page.after(), page.limit + 1)
        chosen = tuple(users[: page.limit])
        more = len(users) > page.limit
        return Page(chosen, chosen[-1].username if more else None)

    def delete_user(self, caller: Principal, instance_id: str, user_id: str) -> None:
        _, user = self._user(caller, "DeleteUser", instance_id, user_id)
        try:
            self._store.delete_connect_user(user.instance_id, user.user_id)
        except NotFound:
            raise ResourceNotFound(ResourceKind.USER, user.user_id) from None
        finally:
            self._named_users.invalidate((user.instance_id, user.username))

    def update_identity_info(
        self, caller: Principal, instance_id: str, user_id: str, identity_info: Mapping[str, Any]
    ) -> None:
        _, user = self._user(caller, "UpdateUserIdentityInfo", instance_id, user_id)
        self._store.update_connect_user_identity(
            user.instance_id,
            user.user_id,
            json.dumps(identity_info),
            self._clock.now().timestamp(),
        )

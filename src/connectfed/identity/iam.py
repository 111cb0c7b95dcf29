"""The IAM subset users need to set up federation: users, access keys, roles, inline policies.

Every method takes the calling principal, authorises ``iam:<Action>`` on the target's ARN and
returns the stored records (:mod:`connectfed.store.records`) or :class:`OwnedPolicy`; refusals
are :mod:`connectfed.identity.errors` (and :class:`~connectfed.identity.policy.MalformedPolicy`).
The AWS shapes and error codes are made in :mod:`connectfed.api`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from urllib.parse import unquote

from connectfed import arns
from connectfed.clock import Clock
from connectfed.identity import iam_tags, ids
from connectfed.identity.authorize import Authorizer
from connectfed.identity.credentials import CredentialResolver
from connectfed.identity.errors import (
    Dependent,
    Entity,
    EntityExists,
    EntityInUse,
    EntityNotFound,
    InvalidRequest,
    PoliciesTooLarge,
    Quota,
    QuotaExceeded,
    UserNameRequired,
)
from connectfed.identity.iam_tags import TAGS_PER_OWNER, Tag, checked_tags
from connectfed.identity.policy import PolicyKind, policy_size, validate_policy
from connectfed.identity.policy.conditions import ContextValue
from connectfed.identity.policy.validate import (
    ROLE_POLICY_QUOTA,
    TRUST_POLICY_QUOTA,
    USER_POLICY_QUOTA,
    PrincipalExists,
)
from connectfed.identity.principal import Principal
from connectfed.identity.roles import RoleDirectory
from connectfed.store import Conflict, InUse, LimitReached, NotFound, Store
from connectfed.store.records import AccessKey, IamUser, InlinePolicy, Role

# IAM's quota of access keys per user (and for the account's root).
ACCESS_KEYS_PER_USER = 2
# The statuses UpdateAccessKey sets.
ACCESS_KEY_STATUSES = ("Active", "Inactive")


def _document(text: str, kind: PolicyKind, principal_exists: PrincipalExists | None = None) -> str:
    """The document, validated as IAM validates one of ``kind`` (MalformedPolicy)."""
    # The Query API may send the document URL-encoded; IAM accepts both.
    candidate = text if text.lstrip().startswith("{") else unquote(text)
    validate_policy(candidate, kind, principal_exists=principal_exists)
    if kind is PolicyKind.TRUST and policy_size(candidate) > TRUST_POLICY_QUOTA:
        raise QuotaExceeded(Quota.TRUST_POLICY_SIZE, TRUST_POLICY_QUOTA)
    return candidate


class OwnerKind(Enum):
    """Who owns an inline policy (PutUserPolicy, PutRolePolicy...)."""

    USER = "user"
    ROLE = "role"

    @property
    def title(self) -> str:
        """As in the action names: ``User``, ``Role``."""
        return self.value.title()

    @property
    def entity(self) -> Entity:
        return Entity.USER if self is OwnerKind.USER else Entity.ROLE

    @property
    def policy_entity(self) -> Entity:
        return Entity.USER_POLICY if self is OwnerKind.USER else Entity.ROLE_POLICY

    @property
    def tag_quota(self) -> Quota:
        return Quota.TAGS_PER_USER if self is OwnerKind.USER else Quota.TAGS_PER_ROLE


@dataclass(frozen=True, slots=True)
class Owner:
    """The user or role an operation acts on: its name, ARN, unique id and tags."""

    kind: OwnerKind
    name: str
    arn: str
    owner_id: str
    tags: tuple[Tag, ...]
    asked: str = ""  # the name as the request gave it (IAM's names ignore case)

    @property
    def named(self) -> str:
        """As IAM's refusals name it: ``user <name>``, ``role <name>``, as asked. Never its ARN,
        whose path and case would tell a caller not allowed that it exists."""
        return f"{self.kind.value} {self.asked or self.name}"


@dataclass(frozen=True, slots=True)
class OwnedPolicy:
    """An inline policy with the name of the user or role owning it (GetUserPolicy...)."""

    owner_kind: OwnerKind
    owner_name: str
    policy_name: str
    document: str


class IamService:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        authz: Authorizer,
        resolver: CredentialResolver,
        roles: RoleDirectory,
    ) -> None:
        self._store = store
        self._clock = clock
        self._authz = authz
        self._resolver = resolver
        self._roles = roles  # what AssumeRole reads: cleared on every role change here

    def _principal_exists(self, caller: Principal) -> PrincipalExists:
        """IAM refuses a trust policy naming a user or role of this account that does not exist
        ("Invalid principal in policy"); other accounts' principals cannot be checked here."""

        def exists(principal: str) -> bool:
            parts = principal.split(":", 5)
            if len(parts) != 6 or parts[2] != "iam" or parts[4] != caller.account_id:
                return True
            kind, _, rest = parts[5].partition("/")
            name = rest.rsplit("/", 1)[-1]
            if kind == "user":
                user = self._store.get_user(caller.account_id, name)
                return user is not None and user.arn == principal
            if kind == "role":
                role = self._store.get_role(caller.account_id, name)
                return role is not None and role.arn == principal
            return True

        return exists

    def _require(
        self,
        caller: Principal,
        action: str,
        resource: str,
        context: dict[str, ContextValue] | None = None,
        named: str | None = None,
    ) -> None:
        self._authz.require(caller, f"iam:{action}", resource, context, named=named)

    def _require_on(
        self,
        caller: Principal,
        action: str,
        owner: Owner,
        request: dict[str, ContextValue] | None = None,
    ) -> None:
        """``iam:<action>`` on a user or role, with its tags as ``aws:ResourceTag/<key>``."""
        context = iam_tags.resource_context(owner.tags)
        if request:
            context.update(request)
        self._require(caller, action, owner.arn, context, owner.named)

    def _require_create(
        self, caller: Principal, kind: OwnerKind, arn: str, tags: tuple[Tag, ...]
    ) -> None:
        """CreateUser/CreateRole, and with tags TagUser/TagRole as well (AWS: tagging on
        creation needs both), each with the tags as ``aws:RequestTag/<key>``."""
        request = iam_tags.request_context(tags)
        self._require(caller, f"Create{kind.title}", arn, request)
        if tags:
            self._require(caller, f"Tag{kind.title}", arn, request)

    def _tags_changed(self, kind: OwnerKind) -> None:
        """Forget what holds the owner's tags: the principals of keys and sessions (their
        ``aws:PrincipalTag``) and, for a role, the roles AssumeRole reads."""
        if kind is OwnerKind.ROLE:
            self._roles.invalidate()
        self._resolver.invalidate()

    def _user(self, caller: Principal, action: str, name: str) -> IamUser:
        """The user ``name``; NoSuchEntity only to a caller allowed ``iam:<action>`` on the ARN
        it would have (at the root path), so a caller without it learns nothing of which users
        exist (AccessDenied, as for one that does). The caller still has to be authorised on
        the user found (its ARN with its path, its tags)."""
        user = self._store.get_user(caller.account_id, name)
        if user is None:
            self._require(
                caller, action, arns.iam_user(caller.account_id, name), named=f"user {name}"
            )
            raise EntityNotFound(Entity.USER, name)
        return user

    def _role(self, caller: Principal, action: str, name: str) -> Role:
        """The role ``name``; NoSuchEntity only to a caller allowed ``iam:<action>`` on it
        (as :meth:`_user`)."""
        role = self._store.get_role(caller.account_id, name)
        if role is None:
            self._require(
                caller, action, arns.iam_role(caller.account_id, name), named=f"role {name}"
            )
            raise EntityNotFound(Entity.ROLE, name)
        return role

    # -- users -----------------------------------------------------------------------------------
    def create_user(
        self, caller: Principal, name: str, *, path: str = "/", tags: Sequence[Tag] = ()
    ) -> IamUser:
        arn = arns.iam_user(caller.account_id, name, path)
        checked = checked_tags(tags)
        self._require_create(caller, OwnerKind.USER, arn, checked)
        user = IamUser(
            caller.account_id,
            name,
            ids.user_unique_id(),
            path,
            arn,
            self._clock.now().timestamp(),
            checked,
        )
        try:
            self._store.create_user(user)
        except Conflict:
            raise EntityExists(Entity.USER, name) from None
        return user

    def get_user(self, caller: Principal, name: str | None = None) -> IamUser:
        """The named user; without a name, the caller itself (root is described as a user
        named ``root`` whose id is the account's, created now, as IAM answers)."""
        if name is None:
            if caller.kind != "user":
                if caller.is_root:
                    return IamUser(
                        caller.account_id,
                        "root",
                        caller.account_id,
                        "/",
                        caller.arn,
                        self._clock.now().timestamp(),
                    )
                raise UserNameRequired()
            name = caller.name
        user = self._user(caller, "GetUser", name)
        self._require_on(caller, "GetUser", _user_owner(user, name))
        return user

    def list_users(self, caller: Principal, *, path_prefix: str = "/") -> list[IamUser]:
        self._require(caller, "ListUsers", arns.iam_user(caller.account_id, ""))
        return [
            u for u in self._store.list_users(caller.account_id) if u.path.startswith(path_prefix)
        ]

    def delete_user(self, caller: Principal, name: str) -> None:
        user = self._user(caller, "DeleteUser", name)
        self._require_on(caller, "DeleteUser", _user_owner(user, name))
        try:
            # Atomic in the store: refused while keys or policies remain, as on AWS.
            self._store.delete_user(caller.account_id, user.user_name)
        except InUse as in_use:
            raise EntityInUse(Entity.USER, user.user_name, _dependent(in_use)) from None
        except NotFound:
            raise EntityNotFound(Entity.USER, user.user_name) from None
        self._resolver.invalidate()
        self._authz.invalidate("user", user.user_id)

    # -- access keys -------------------------------------------------------------------------------
    def _key_owner(self, caller: Principal, action: str, user_name: str | None) -> IamUser | None:
        """The user whose keys are meant: ``user_name``'s, or the caller's own when None
        (None for root, whose keys are the account's)."""
        if user_name is None:
            if caller.kind == "user":
                return self._user(caller, action, caller.name)
            if caller.is_root:
                return None
            raise UserNameRequired()
        return self._user(caller, action, user_name)

    def _require_keys(
        self, caller: Principal, action: str, owner: IamUser | None, asked: str | None
    ) -> None:
        if owner is None:
            self._require(caller, action, arns.iam_root(caller.account_id))
        else:
            self._require_on(caller, action, _user_owner(owner, asked or ""))

    def create_access_key(
        self,
        caller: Principal,
        user_name: str | None = None,
        *,
        fixed: tuple[str, str] | None = None,
    ) -> AccessKey:
        """CreateAccessKey; ``fixed`` (id, secret) instead of generated ones is for declared
        worlds (:mod:`connectfed.seed`), which let tests hard-code keys."""
        owner = self._key_owner(caller, "CreateAccessKey", user_name)
        self._require_keys(caller, "CreateAccessKey", owner, user_name)
        key_id, secret = fixed or (ids.long_term_access_key_id(), ids.secret_access_key())
        key = AccessKey(
            key_id,
            secret,
            caller.account_id,
            owner.user_name if owner else None,
            "Active",
            self._clock.now().timestamp(),
            user_id=owner.user_id if owner else None,
        )
        try:
            # The quota counted by the store, in the transaction adding the key: a count read
            # here first let concurrent calls each see one key and all add theirs.
            self._store.create_access_key(key, limit=ACCESS_KEYS_PER_USER)
        except LimitReached:
            raise QuotaExceeded(Quota.ACCESS_KEYS_PER_USER, ACCESS_KEYS_PER_USER) from None
        except NotFound:  # the user was deleted meanwhile
            raise EntityNotFound(Entity.USER, user_name or caller.name) from None
        except Conflict:  # only a fixed id can clash
            raise EntityExists(Entity.ACCESS_KEY, key_id) from None
        return key

    def list_access_keys(self, caller: Principal, user_name: str | None = None) -> list[AccessKey]:
        owner = self._key_owner(caller, "ListAccessKeys", user_name)
        self._require_keys(caller, "ListAccessKeys", owner, user_name)
        return self._store.list_access_keys(caller.account_id, owner.user_id if owner else None)

    def _owned_key(
        self, caller: Principal, action: str, access_key_id: str, user_name: str | None
    ) -> AccessKey:
        """The key ``access_key_id`` of ``user_name`` (the caller when None, the account's root
        keys for root), once ``iam:<action>`` is allowed on its owner; NoSuchEntity when that
        owner holds no such key."""
        owner = self._key_owner(caller, action, user_name)
        self._require_keys(caller, action, owner, user_name)
        key = self._store.get_access_key(access_key_id)
        if (
            key is None
            or key.account_id != caller.account_id
            or key.user_id != (owner.user_id if owner else None)
        ):
            raise EntityNotFound(Entity.ACCESS_KEY, access_key_id)
        return key

    def delete_access_key(
        self, caller: Principal, access_key_id: str, user_name: str | None = None
    ) -> None:
        key = self._owned_key(caller, "DeleteAccessKey", access_key_id, user_name)
        self._store.delete_access_key(key.access_key_id)
        self._resolver.invalidate()

    def update_access_key(
        self, caller: Principal, access_key_id: str, status: str, user_name: str | None = None
    ) -> None:
        """UpdateAccessKey: ``Active`` or ``Inactive`` (an inactive key signs nothing: the
        resolver refuses it, and the agent sessions federated with it end at their next use).
        ``Expired`` is IAM's to set, never the caller's."""
        key = self._owned_key(caller, "UpdateAccessKey", access_key_id, user_name)
        if status not in ACCESS_KEY_STATUSES:
            raise InvalidRequest(f"The access key status {status} cannot be set.")
        try:
            self._store.set_access_key_status(key.access_key_id, status)
        except NotFound:  # deleted meanwhile
            raise EntityNotFound(Entity.ACCESS_KEY, access_key_id) from None
        self._resolver.invalidate()

    # -- roles -------------------------------------------------------------------------------------
    def create_role(
        self,
        caller: Principal,
        name: str,
        trust_policy: str,
        *,
        path: str = "/",
        max_session_duration: int = 3600,
        description: str | None = None,
        tags: Sequence[Tag] = (),
    ) -> Role:
        arn = arns.iam_role(caller.account_id, name, path)
        checked = checked_tags(tags)
        self._require_create(caller, OwnerKind.ROLE, arn, checked)
        document = _document(trust_policy, PolicyKind.TRUST, self._principal_exists(caller))
        role = Role(
            caller.account_id,
            name,
            ids.role_unique_id(),
            path,
            arn,
            document,
            max_session_duration,
            description,
            self._clock.now().timestamp(),
            checked,
        )
        try:
            self._store.create_role(role)
        except Conflict:
            raise EntityExists(Entity.ROLE, name) from None
        self._roles.invalidate()  # it may have been remembered as absent
        return role

    def get_role(self, caller: Principal, name: str) -> Role:
        role = self._role(caller, "GetRole", name)
        self._require_on(caller, "GetRole", _role_owner(role, name))
        return role

    def list_roles(self, caller: Principal, *, path_prefix: str = "/") -> list[Role]:
        self._require(caller, "ListRoles", arns.iam_role(caller.account_id, ""))
        return [
            r for r in self._store.list_roles(caller.account_id) if r.path.startswith(path_prefix)
        ]

    def delete_role(self, caller: Principal, name: str) -> None:
        role = self._role(caller, "DeleteRole", name)
        self._require_on(caller, "DeleteRole", _role_owner(role, name))
        try:
            # Atomic in the store: refused while inline policies remain, as on AWS.
            self._store.delete_role(caller.account_id, role.role_name)
        except InUse as in_use:
            raise EntityInUse(Entity.ROLE, role.role_name, _dependent(in_use)) from None
        except NotFound:
            raise EntityNotFound(Entity.ROLE, role.role_name) from None
        # The role's sessions die with it (they are bound to its unique id).
        self._roles.invalidate()
        self._resolver.invalidate()
        self._authz.invalidate("role", role.role_id)

    def update_assume_role_policy(self, caller: Principal, name: str, document: str) -> None:
        role = self._role(caller, "UpdateAssumeRolePolicy", name)
        self._require_on(caller, "UpdateAssumeRolePolicy", _role_owner(role, name))
        checked = _document(document, PolicyKind.TRUST, self._principal_exists(caller))
        self._store.update_role_trust(caller.account_id, role.role_name, checked)
        self._roles.invalidate()

    # -- tags of users and roles -----------------------------------------------------------------
    def _owner(self, caller: Principal, action: str, kind: OwnerKind, name: str) -> Owner:
        """The user or role ``name`` (NoSuchEntity to a caller allowed ``iam:<action>``)."""
        if kind is OwnerKind.USER:
            return _user_owner(self._user(caller, action, name), name)
        return _role_owner(self._role(caller, action, name), name)

    def tag(self, caller: Principal, kind: OwnerKind, name: str, tags: Sequence[Tag]) -> None:
        """TagUser/TagRole: a tag whose key the owner holds, in any case, replaces it; more
        than :data:`TAGS_PER_OWNER` in all is LimitExceeded (counted by the store in its
        write, so concurrent calls cannot pass it together)."""
        owner = self._owner(caller, f"Tag{kind.title}", kind, name)
        checked = checked_tags(tags)
        self._require_on(caller, f"Tag{kind.title}", owner, iam_tags.request_context(checked))
        try:
            self._store.tag_owner(kind.value, owner.owner_id, checked, limit=TAGS_PER_OWNER)
        except LimitReached:
            raise QuotaExceeded(kind.tag_quota, TAGS_PER_OWNER) from None
        except NotFound:  # deleted meanwhile
            raise EntityNotFound(kind.entity, owner.name) from None
        self._tags_changed(kind)

    def untag(self, caller: Principal, kind: OwnerKind, name: str, keys: Sequence[str]) -> None:
        """UntagUser/UntagRole: keys match regardless of case; one not held is no error."""
        owner = self._owner(caller, f"Untag{kind.title}", kind, name)
        self._require_on(caller, f"Untag{kind.title}", owner, iam_tags.untag_context(keys))
        try:
            self._store.untag_owner(kind.value, owner.owner_id, keys)
        except NotFound:
            raise EntityNotFound(kind.entity, owner.name) from None
        self._tags_changed(kind)

    def list_tags(self, caller: Principal, kind: OwnerKind, name: str) -> tuple[Tag, ...]:
        """ListUserTags/ListRoleTags: sorted by key, as IAM answers."""
        owner = self._owner(caller, f"List{kind.title}Tags", kind, name)
        self._require_on(caller, f"List{kind.title}Tags", owner)
        return iam_tags.sorted_tags(owner.tags)

    # -- inline policies ---------------------------------------------------------------------------

    def put_policy(
        self, caller: Principal, kind: OwnerKind, owner: str, policy_name: str, document: str
    ) -> None:
        found = self._owner(caller, f"Put{kind.title}Policy", kind, owner)
        owner_name, owner_id = found.name, found.owner_id
        self._require_on(caller, f"Put{kind.title}Policy", found)
        checked = _document(document, PolicyKind.IDENTITY)
        quota = USER_POLICY_QUOTA if kind is OwnerKind.USER else ROLE_POLICY_QUOTA

        def within_quota(others: Sequence[InlinePolicy]) -> None:
            """The aggregate of an owner's inline policies is capped (IAM and STS quotas),
            counted without whitespace; a replaced policy of the same name no longer counts.
            Counted in the write's transaction, so concurrent puts cannot pass it together."""
            if sum(policy_size(p.document) for p in others) + policy_size(checked) > quota:
                raise PoliciesTooLarge(kind.entity, owner_name, quota)

        try:
            self._store.put_policy(
                InlinePolicy(kind.value, owner_id, policy_name, checked), admit=within_quota
            )
        except NotFound:  # the owner was deleted meanwhile
            raise EntityNotFound(kind.entity, owner_name) from None
        self._authz.invalidate(kind.value, owner_id)

    def get_policy(
        self, caller: Principal, kind: OwnerKind, owner: str, policy_name: str
    ) -> OwnedPolicy:
        found = self._owner(caller, f"Get{kind.title}Policy", kind, owner)
        self._require_on(caller, f"Get{kind.title}Policy", found)
        policy = self._store.get_policy(kind.value, found.owner_id, policy_name)
        if policy is None:
            raise EntityNotFound(kind.policy_entity, policy_name)
        return OwnedPolicy(kind, found.name, policy.policy_name, policy.document)

    def list_policies(self, caller: Principal, kind: OwnerKind, owner: str) -> list[str]:
        """The names of the owner's inline policies."""
        found = self._owner(caller, f"List{kind.title}Policies", kind, owner)
        self._require_on(caller, f"List{kind.title}Policies", found)
        return [p.policy_name for p in self._store.list_policies(kind.value, found.owner_id)]

    def delete_policy(
        self, caller: Principal, kind: OwnerKind, owner: str, policy_name: str
    ) -> None:
        found = self._owner(caller, f"Delete{kind.title}Policy", kind, owner)
        self._require_on(caller, f"Delete{kind.title}Policy", found)
        try:
            self._store.delete_policy(kind.value, found.owner_id, policy_name)
        except NotFound:
            raise EntityNotFound(kind.policy_entity, policy_name) from None
        self._authz.invalidate(kind.value, found.owner_id)


def _dependent(in_use: InUse) -> Dependent:
    """What the store found still attached."""
    return Dependent.ACCESS_KEYS if in_use.dependent == "access_keys" else Dependent.POLICIES


def _user_owner(user: IamUser, asked: str = "") -> Owner:
    return Owner(OwnerKind.USER, user.user_name, user.arn, user.user_id, user.tags, asked)


def _role_owner(role: Role, asked: str = "") -> Owner:
    return Owner(OwnerKind.ROLE, role.role_name, role.arn, role.role_id, role.tags, asked)

"""The one storage interface every backend implements (run ``tests/store`` against it).

Reads return records or ``None``; writes raise :class:`Conflict` on a uniqueness clash and
:class:`NotFound` when what they change is gone. Multi-step changes happen inside the backend in
one transaction, so callers never hand-roll locking.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from connectfed.store.admin_records import FaultRecord
from connectfed.store.agent_records import (
    AgentStateRecord,
    AgentStatusRecord,
    ConnectDefaults,
    InstanceDefaultsInfo,
    QueueRecord,
    RoutingProfileRecord,
    RoutingQueueRecord,
)
from connectfed.store.audit_records import AuditQuery, AuditRecord
from connectfed.store.records import (
    AccessKey,
    AssertionUse,
    ConnectUser,
    DecisionRecord,
    IamUser,
    InlinePolicy,
    Instance,
    Profile,
    Role,
    RoleBinding,
    SamlProvider,
    Session,
    Tag,
    Token,
    TokenChange,
    TokenFamily,
)
from connectfed.store.sealing import KeyFile, MasterKey, StaticKey, new_key


class Conflict(Exception):
    """A record with the same identity already exists."""


class NotFound(Exception):
    """The record to change (or the owner to attach to) does not exist."""


class InUse(Exception):
    """The record still owns others (access keys, policies): delete those first. ``dependent``
    is the table of the first kind found (``inline_policies``, ``access_keys``)."""

    def __init__(self, dependent: str = "") -> None:
        super().__init__(dependent)
        self.dependent = dependent


class LimitReached(Exception):
    """The owner already holds as many records of the kind as the caller allowed."""


class Unavailable(Exception):
    """The database cannot be opened (a URL of another kind, a file that cannot be created, a
    PostgreSQL server that refuses or cannot be reached), or cannot serve a call now (gone,
    restarting, out of space): the server answers ``503 ServiceUnavailable``. The message is one
    line for people."""


class Store(Protocol):
    def close(self) -> None: ...

    # -- server metadata (secrets, bootstrap) ------------------------------------------------
    def meta_get(self, key: str) -> str | None: ...
    def meta_setdefault(self, key: str, value: str) -> str: ...
    def meta_secret_setdefault(self, key: str, value: str) -> str:
        """Like :meth:`meta_setdefault` for a secret: stored sealed under the master key."""
        ...

    def meta_secret_get(self, key: str) -> str | None:
        """A secret meta value (see :meth:`meta_secret_setdefault`), in the clear."""
        ...

    def update_meta(
        self, key: str, updater: Callable[[str | None], str], *, secret: bool = False
    ) -> str:
        """Replace a meta value with ``updater(old)`` (``None`` when absent) in one transaction;
        concurrent updates apply one after the other, none is lost. Returns the new value.
        With ``secret`` the value is sealed at rest like :meth:`meta_secret_setdefault`'s."""
        ...

    # -- IAM ----------------------------------------------------------------------------------
    # Secrets (access-key and session secrets) are sealed at rest and returned in the clear.
    # Keys, policies and bindings belong to principals by unique id (AIDA…/AROA…).
    def create_access_key(self, key: AccessKey, limit: int | None = None) -> None:
        """Raises :class:`NotFound` when ``key.user_id`` names no existing user, and
        :class:`LimitReached` when its owner (the user, or the account's root) already holds
        ``limit`` keys, counted in the transaction that adds it: concurrent calls, in any
        number of processes, never leave more."""
        ...

    def get_access_key(self, access_key_id: str) -> AccessKey | None: ...
    def list_access_keys(self, account_id: str, user_id: str | None) -> list[AccessKey]:
        """The keys of one user (by unique id), or the account's root keys for ``None``."""
        ...

    def delete_access_key(self, access_key_id: str) -> None: ...
    def set_access_key_status(self, access_key_id: str, status: str) -> None:
        """``Active`` or ``Inactive``; :class:`NotFound` when the key is gone."""
        ...

    def create_user(self, user: IamUser) -> None: ...
    def get_user(self, account_id: str, user_name: str) -> IamUser | None: ...
    def get_user_by_id(self, user_id: str) -> IamUser | None: ...
    def list_users(self, account_id: str) -> list[IamUser]: ...
    def delete_user(self, account_id: str, user_name: str) -> None:
        """Atomically refuses (:class:`InUse`) while the user has access keys or policies."""
        ...

    def create_role(self, role: Role) -> None: ...
    def get_role(self, account_id: str, role_name: str) -> Role | None: ...
    def get_role_by_id(self, role_id: str) -> Role | None: ...
    def list_roles(self, account_id: str) -> list[Role]: ...
    def update_role_trust(self, account_id: str, role_name: str, document: str) -> None: ...
    def delete_role(self, account_id: str, role_name: str) -> None:
        """Atomically refuses (:class:`InUse`) while the role has inline policies."""
        ...

    def tag_owner(
        self, owner_kind: str, owner_id: str, tags: Sequence[Tag], limit: int | None = None
    ) -> tuple[Tag, ...]:
        """Add ``tags`` to the user's or role's (``owner_kind`` "user" | "role", by unique id):
        one whose key the owner holds already, regardless of case, replaces that tag in its
        place (the key in its new case); the others are added after the held ones, in order.
        Returns the owner's tags now. :class:`NotFound` when the owner no longer exists;
        :class:`LimitReached` (nothing written) when it would hold more than ``limit`` tags,
        counted in the write's transaction with the owner locked: concurrent calls, in any
        number of processes, never leave more."""
        ...

    def untag_owner(self, owner_kind: str, owner_id: str, keys: Sequence[str]) -> tuple[Tag, ...]:
        """Remove the owner's tags whose key is one of ``keys``, regardless of case (a key it
        does not hold is no error); returns the tags left. :class:`NotFound` as above."""
        ...

    # -- tags of other resources -------------------------------------------------------------
    # ``kind`` and ``key``: "saml-provider" (arn,); "instance" (instance_id,); below an instance
    # (instance_id, resource id): "agent" (a Connect user), "agent-state", "queue",
    # "routing-profile", "security-profile". A SAML provider's tag keys are unique regardless
    # of case (IAM's rule, as for users and roles); a Connect resource's are case-sensitive.
    def resource_tags(self, kind: str, key: Sequence[str]) -> tuple[Tag, ...] | None:
        """The resource's tags, in the order they were first set; None when it does not exist."""
        ...

    def tag_resource(
        self, kind: str, key: Sequence[str], tags: Sequence[Tag], limit: int | None = None
    ) -> tuple[Tag, ...]:
        """Add ``tags`` to the resource: one whose key it holds already replaces that tag in its
        place, the others are added after, in order. Returns its tags now. :class:`NotFound`
        when it does not exist; :class:`LimitReached` (nothing written) when it would hold more
        than ``limit``, counted in the write's transaction with its row locked: concurrent
        calls, in any number of processes, never leave more."""
        ...

    def untag_resource(self, kind: str, key: Sequence[str], keys: Sequence[str]) -> tuple[Tag, ...]:
        """Remove the resource's tags whose key is one of ``keys`` (a key it does not hold is no
        error); returns the tags left. :class:`NotFound` as above."""
        ...

    def put_policy(
        self,
        policy: InlinePolicy,
        admit: Callable[[Sequence[InlinePolicy]], None] | None = None,
    ) -> None:
        """Create or replace; :class:`NotFound` when the owner no longer exists. ``admit`` is
        given the owner's other policies (all but one of this name) inside the write's
        transaction, with the owner locked, and refuses by raising: what it raises is raised
        and nothing is written (a quota over the owner's policies holds under concurrent
        puts)."""
        ...

    def get_policy(
        self, owner_kind: str, owner_id: str, policy_name: str
    ) -> InlinePolicy | None: ...
    def list_policies(self, owner_kind: str, owner_id: str) -> list[InlinePolicy]: ...
    def delete_policy(self, owner_kind: str, owner_id: str, policy_name: str) -> None: ...

    def create_saml_provider(self, provider: SamlProvider) -> None: ...
    def get_saml_provider(self, arn: str) -> SamlProvider | None: ...
    def list_saml_providers(self, account_id: str) -> list[SamlProvider]: ...
    def find_saml_providers(self, entity_id: str) -> list[SamlProvider]:
        """Every provider (in any account) whose metadata names ``entity_id``."""
        ...

    def update_saml_provider(
        self, arn: str, updater: Callable[[SamlProvider], SamlProvider]
    ) -> SamlProvider:
        """Read-modify-write in one transaction (document, entity ID, validUntil, encryption
        mode and private keys; name, ARN, UUID and creation time are kept). The updater may
        raise to abort; :class:`NotFound` when the provider is gone."""
        ...

    def delete_saml_provider(self, arn: str) -> None: ...

    # -- STS ----------------------------------------------------------------------------------
    def create_session(self, session: Session) -> None:
        """Store a new STS session. Called while a request is answered, the row may be
        committed after this returns but before the reply (``store/deferred.py``), as
        :meth:`create_token_family`'s."""
        ...

    def get_session(self, access_key_id: str) -> Session | None: ...

    def remember_assertion(self, key: str, expires: float, now: float) -> bool:
        """Record a used assertion atomically; False when it was already used (a replay).

        Entries past ``expires`` are forgotten (purged opportunistically using ``now``).
        """
        ...

    def create_signin(
        self, session: Session, family: TokenFamily, assertion: AssertionUse | None = None
    ) -> bool:
        """A browser sign-in's writes in one transaction: remember ``assertion`` (as
        :meth:`remember_assertion`) and, only if that is its first use, create ``session`` (as
        :meth:`create_session`) and ``family`` (as :meth:`create_token_family`). False, with
        nothing written, when the assertion was already used; all or nothing otherwise."""
        ...

    # -- Connect ------------------------------------------------------------------------------
    def create_instance(self, instance: Instance, profiles: Sequence[Profile]) -> None: ...
    def get_instance(self, instance_id: str) -> Instance | None: ...
    def list_instances(self, account_id: str) -> list[Instance]: ...
    def delete_instance(self, instance_id: str) -> None: ...

    def list_profiles(self, instance_id: str, kind: str) -> list[Profile]: ...

    def create_connect_user(self, user: ConnectUser) -> None: ...
    def get_connect_user(self, instance_id: str, user_id: str) -> ConnectUser | None: ...
    def find_connect_user(self, instance_id: str, username: str) -> ConnectUser | None: ...
    def list_connect_users(
        self, instance_id: str, after_username: str | None, limit: int
    ) -> list[ConnectUser]: ...
    def update_connect_user_identity(
        self, instance_id: str, user_id: str, identity_info: str, modified: float
    ) -> None: ...
    def update_connect_user_phone_config(
        self, instance_id: str, user_id: str, phone_config: str, modified: float
    ) -> None: ...
    def delete_connect_user(self, instance_id: str, user_id: str) -> None: ...

    def bind_role(self, binding: RoleBinding, *, allow_many: bool) -> bool:
        """Bind the principal ``role_id`` to the user atomically.

        Returns True when that principal is (now or already) bound; False when another one
        (including a deleted role of the same name) holds the user and ``allow_many`` is off.
        """
        ...

    def list_role_bindings(self, instance_id: str, user_id: str) -> list[RoleBinding]: ...

    # -- Connect agent data (statuses, queues, routing profiles, live agent state) -------------
    def ensure_connect_defaults(self, defaults: ConnectDefaults) -> bool:
        """Create an instance's default agent data once; False when it already exists."""
        ...

    def get_connect_defaults(self, instance_id: str) -> InstanceDefaultsInfo | None: ...

    def create_agent_status(self, status: AgentStatusRecord) -> None:
        """Raises Conflict when the instance has a status of that name."""
        ...

    def get_agent_status(self, instance_id: str, status_id: str) -> AgentStatusRecord | None: ...
    def list_agent_statuses(self, instance_id: str) -> list[AgentStatusRecord]: ...
    def update_agent_status(
        self,
        instance_id: str,
        status_id: str,
        change: Callable[[AgentStatusRecord], AgentStatusRecord],
    ) -> AgentStatusRecord:
        """Apply ``change`` to the stored status in one transaction (NotFound, Conflict)."""
        ...

    def create_queue(self, queue: QueueRecord) -> None:
        """Raises Conflict when the instance has a queue of that name."""
        ...

    def get_queue(self, instance_id: str, queue_id: str) -> QueueRecord | None: ...
    def list_queues(self, instance_id: str) -> list[QueueRecord]: ...

    def create_routing_profile(
        self, profile: RoutingProfileRecord, queues: Sequence[RoutingQueueRecord]
    ) -> None:
        """Raises Conflict when the instance has a routing profile of that name."""
        ...

    def get_routing_profile(
        self, instance_id: str, profile_id: str
    ) -> RoutingProfileRecord | None: ...
    def list_routing_queues(
        self, instance_id: str, profile_id: str | None = None
    ) -> list[RoutingQueueRecord]: ...
    def update_user_routing_profile(
        self, instance_id: str, user_id: str, profile_id: str, modified: float
    ) -> None: ...

    def get_agent_state(self, instance_id: str, user_id: str) -> AgentStateRecord | None: ...
    def list_agent_states(self, instance_id: str) -> list[AgentStateRecord]: ...
    def set_agent_state(
        self, instance_id: str, user_id: str, status_id: str, started: float
    ) -> AgentStateRecord:
        """Put the user in ``status_id`` and bump the version, atomically; NotFound without
        the user. Putting the current status again changes nothing and returns the state."""
        ...

    # -- tokens -------------------------------------------------------------------------------
    def create_token_family(self, family: TokenFamily) -> None:
        """Store a new family with its inline tokens, in one row (Conflict on a duplicate
        family id). Called while a request is answered, the row may be committed after this
        returns but before the reply (``store/deferred.py``): nothing may read it back in the
        same request."""
        ...

    def get_token_family(self, family_id: str) -> TokenFamily | None: ...

    def add_tokens(self, family_id: str, tokens: Sequence[Token], now: float) -> bool:
        """Add tokens (rows of their own) to a family that is neither revoked nor past its
        horizon at ``now``; False (nothing stored) otherwise."""
        ...

    def find_token(
        self, token_hashes: Sequence[str], family_id: str | None = None
    ) -> tuple[Token, TokenFamily] | None:
        """The token stored under any of ``token_hashes`` (one per server key), with its
        family, in whatever state. Without ``family_id`` only tokens with rows of their own are
        found; with it (the family a token names), only tokens of that family, its inline
        tokens included."""
        ...

    def update_token(
        self,
        token_hash: str,
        updater: Callable[[Token, TokenFamily], TokenChange | None],
        *,
        family_id: str | None = None,
    ) -> tuple[Token, TokenFamily] | None:
        """Read-modify-write one token in one transaction, holding its row lock: ``updater``
        sees the latest committed token and family and returns the change (None: no change);
        it may raise to abort with nothing changed, and may run more than once (transient
        failures are retried), so it must not have side effects of its own. Concurrent
        updaters of one token run one after the other: exactly one sees it ``active``.
        With ``family_id``, an inline token of that family is found too (its change rewrites
        the family's row; concurrent changes of one family's inline tokens apply one after the
        other in the same way). Returns the token and family after the change; None when no
        token has that hash."""
        ...

    def revoke_token_family(self, family_id: str, reason: str) -> bool:
        """Revoke a live family (every token in it dies); False if unknown or already revoked."""
        ...

    def revoke_user_token_families(self, instance_id: str, user_id: str, reason: str) -> int:
        """Revoke every live family of one Connect user; returns how many."""
        ...

    def gc_tokens(self, now: float) -> int:
        """Delete families past their horizon at ``now`` with all of their tokens (a token
        never goes before its family: none outlives the horizon anyway) and pending sign-in
        states past theirs, in bounded batches; returns how many rows went."""
        ...

    # -- shared rate limits -------------------------------------------------------------------
    def take_throttle(self, bucket: str, now: float, rate: float, burst: float) -> bool:
        """Spend one request from the token bucket ``bucket`` (``burst`` deep, refilled at
        ``rate`` per second of ``now``, wall-clock epoch seconds), atomically across every
        process sharing the database; False (nothing spent) when it holds less than one."""
        ...

    # -- browser sign-in states (role chooser) ------------------------------------------------
    def put_signin_state(self, state_hash: str, payload: str, expires: float) -> None: ...
    def take_signin_state(self, state_hash: str, now: float) -> str | None:
        """Remove and return a pending state atomically (at most one taker), if unexpired."""
        ...

    # -- admin API: the shared clock offset and injected faults ------------------------------
    def clock_offset(self) -> float:
        """The clock offset in seconds (0 when never set)."""
        ...

    def set_clock_offset(self, seconds: float) -> float:
        """Make the offset ``seconds``; returns it."""
        ...

    def advance_clock(self, seconds: float) -> float:
        """Add ``seconds`` to the offset atomically (concurrent advances all count); returns
        the new offset."""
        ...

    def add_fault(self, fault: FaultRecord) -> None:
        """Raises :class:`Conflict` on a duplicate fault id."""
        ...

    def list_faults(self) -> list[FaultRecord]:
        """Every fault, oldest first."""
        ...

    def spend_fault(self, fault_id: str) -> bool:
        """Use one of a counted fault's calls, atomically: True for exactly ``remaining``
        callers in all, however many race (the fault is deleted with its last call); False when
        it is spent or gone. A fault without a count is not changed: True while it exists."""
        ...

    def delete_fault(self, fault_id: str) -> bool:
        """False when there was no such fault."""
        ...

    def clear_faults(self) -> int:
        """Delete every fault; returns how many."""
        ...

    # -- explanations of denied requests (recent decisions, by request id) ---------------------
    def put_decision(self, record: DecisionRecord) -> None:
        """Keep ``record``; one already kept under its request id is replaced (the last
        explanation of a request is the one that stands)."""
        ...

    def get_decision(self, request_id: str, now: float) -> DecisionRecord | None:
        """The record kept under ``request_id``, or None when absent or expired at ``now``."""
        ...

    def gc_decisions(self, now: float, keep_at_most: int) -> int:
        """Delete the records expired at ``now`` and all but the ``keep_at_most`` newest;
        return how many were deleted."""
        ...

    # -- the audit trail ---------------------------------------------------------------------------
    def put_audit_events(self, records: Sequence[AuditRecord]) -> None:
        """Keep events (each a new ``event_id``) with their resources, all or none."""
        ...

    def lookup_audit_events(self, query: AuditQuery) -> list[AuditRecord]:
        """The account's events matching ``query``, newest first (position, then event id,
        descending), strictly after its cursor, at most ``query.limit``."""
        ...

    def gc_audit_events(self, before: float, keep: int) -> int:
        """Delete events whose position is before ``before``, then (``keep`` > 0) all but the
        newest ``keep``; returns how many were deleted."""
        ...


def open_store(url: str, master_key: MasterKey | None = None) -> Store:
    """Open a backend from a URL: ``sqlite:///path`` or ``postgresql://…``.

    ``master_key`` seals the secrets at rest. Without one: a SQLite file uses ``master.key``
    beside it, an in-memory database a random key, PostgreSQL none (secrets then cannot be
    stored or read: :class:`~connectfed.store.sealing.MasterKeyError`).
    """
    if url.startswith("sqlite:"):
        from connectfed.store.sqlite import SqliteStore

        # sqlite:///absolute/path, like a file URL; sqlite:// alone is an in-memory database.
        path = url.removeprefix("sqlite://") or ":memory:"
        if master_key is None:
            master_key = (
                StaticKey(new_key(), "a random key")
                if path == ":memory:"
                else KeyFile(Path(path).parent / "master.key")
            )
        return SqliteStore(path, master_key)
    if url.startswith(("postgres://", "postgresql://")):
        from connectfed.store.postgres import PostgresStore

        return PostgresStore(url, master_key)
    raise Unavailable(
        f"unsupported database URL {url.split(':', 1)[0]!r}: use sqlite: or postgresql:"
    )

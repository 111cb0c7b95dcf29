"""Connect agent data: statuses, queues, routing profiles, and each agent's live state.

:class:`AgentService` does no authorisation: its callers decide (the public API through IAM in
:mod:`connectfed.connect.agent_admin`, the agent's own CTI calls through a token). Every instance
gets its default data (:mod:`connectfed.connect.agent_defaults`) when created; instances created
before that existed get it on first use.

An agent's state is one row per user with a ``version`` that grows with each change;
:meth:`AgentService.wait_for_change` long-polls it (:mod:`connectfed.connect.agent_waits`).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Sequence
from typing import TypeVar

from connectfed import arns
from connectfed.clock import Clock, utc
from connectfed.connect.agent_defaults import (
    build_defaults,
)
from connectfed.connect.agent_phone import AgentPhone
from connectfed.connect.agent_user_data import select_users, snapshots
from connectfed.connect.agent_values import (
    AgentSnapshot,
    AgentState,
    AgentStatus,
    AgentStatusChange,
    AgentStatusType,
    Channel,
    Queue,
    QueueConfig,
    QueueType,
    RoutingProfile,
    RoutingProfileQueue,
    StatusDisabled,
    UserDataFilter,
    check_routing_config,
    queue_from,
    status_from,
)
from connectfed.connect.agent_waits import StateWaiters
from connectfed.connect.errors import (
    InvalidParameter,
    InvalidReference,
    NameTaken,
    ResourceKind,
    ResourceNotFound,
)
from connectfed.offload import Offload
from connectfed.store import Conflict, NotFound, Store
from connectfed.store.agent_records import (
    AgentStatusRecord,
    InstanceDefaultsInfo,
    QueueRecord,
    RoutingProfileRecord,
    RoutingQueueRecord,
)
from connectfed.store.records import ConnectUser, Instance, Tag

__all__ = [
    "AgentPhone",
    "AgentService",
    "AgentSnapshot",
    "AgentState",
    "AgentStatus",
    "AgentStatusChange",
    "AgentStatusType",
    "Channel",
    "InvalidParameter",
    "InvalidReference",
    "NameTaken",
    "Queue",
    "QueueConfig",
    "QueueType",
    "ResourceKind",
    "ResourceNotFound",
    "RoutingProfile",
    "RoutingProfileQueue",
    "StatusDisabled",
    "UserDataFilter",
]

T = TypeVar("T")


class AgentService:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        poll_interval: float = 0.25,
        offload: Offload | None = None,
    ) -> None:
        self._store = store
        # The long poll's store reads run off the event loop (the server passes its pool).
        self._offload = offload or Offload(2)
        self._clock = clock
        self._waiters = StateWaiters(poll_interval)
        self._ready: dict[str, tuple[Instance, InstanceDefaultsInfo]] = {}

    # -- instances and their defaults -------------------------------------------------------------
    def ensure_defaults(self, instance: Instance) -> InstanceDefaultsInfo:
        """Create the instance's default agent data unless it exists (race-safe across servers)."""
        info = self._store.get_connect_defaults(instance.instance_id)
        if info is None:
            routing = self._store.list_profiles(instance.instance_id, "routing")
            defaults = build_defaults(instance, routing, self._clock.now().timestamp())
            self._store.ensure_connect_defaults(defaults)
            info = self._store.get_connect_defaults(instance.instance_id)
            assert info is not None
        self._ready[instance.instance_id] = (instance, info)
        return info

    def _instance(self, instance_id: str) -> tuple[Instance, InstanceDefaultsInfo]:
        ready = self._ready.get(instance_id)
        if ready is not None:
            return ready
        instance = self._store.get_instance(instance_id)
        if instance is None:
            raise ResourceNotFound(ResourceKind.INSTANCE, instance_id)
        return instance, self.ensure_defaults(instance)

    def user(self, instance_id: str, user_id: str) -> ConnectUser:
        self._instance(instance_id)
        user = self._store.get_connect_user(instance_id, user_id)
        if user is None:
            raise ResourceNotFound(ResourceKind.USER, user_id)
        return user

    def users(self, instance_id: str) -> list[ConnectUser]:
        self._instance(instance_id)
        out: list[ConnectUser] = []
        after: str | None = None
        while True:
            batch = self._store.list_connect_users(instance_id, after, 1000)
            out += batch
            if len(batch) < 1000:
                return out
            after = batch[-1].username

    # -- agent statuses ---------------------------------------------------------------------------
    def statuses(self, instance_id: str) -> list[AgentStatus]:
        self._instance(instance_id)
        return [status_from(s) for s in self._store.list_agent_statuses(instance_id)]

    def status(self, instance_id: str, status_id: str) -> AgentStatus:
        self._instance(instance_id)
        record = self._store.get_agent_status(instance_id, status_id)
        if record is None:
            raise ResourceNotFound(ResourceKind.AGENT_STATUS, status_id)
        return status_from(record)

    def create_status(
        self,
        instance_id: str,
        name: str,
        description: str | None,
        enabled: bool,
        display_order: int | None,
        tags: tuple[Tag, ...] = (),
    ) -> AgentStatus:
        instance, _ = self._instance(instance_id)
        sid = str(uuid.uuid4())
        record = AgentStatusRecord(
            instance_id,
            sid,
            arns.agent_status(instance.arn, sid),
            name,
            description,
            AgentStatusType.CUSTOM.value,
            enabled,
            display_order,
            self._clock.now().timestamp(),
            tags,
        )
        try:
            self._store.create_agent_status(record)
        except Conflict:
            raise NameTaken(ResourceKind.AGENT_STATUS, name) from None
        return status_from(record)

    def update_status(
        self, instance_id: str, status_id: str, change: AgentStatusChange
    ) -> AgentStatus:
        self._instance(instance_id)
        now = self._clock.now().timestamp()

        def apply(old: AgentStatusRecord) -> AgentStatusRecord:
            if change.enabled is False and old.type != AgentStatusType.CUSTOM:
                raise InvalidParameter(
                    f"The {old.type} agent status {old.name} cannot be disabled."
                )
            description = old.description
            if change.description is not None:
                description = change.description or None
            order = old.display_order if change.display_order is None else change.display_order
            return AgentStatusRecord(
                old.instance_id,
                old.status_id,
                old.arn,
                old.name if change.name is None else change.name,
                description,
                old.type,
                old.enabled if change.enabled is None else change.enabled,
                None if change.reset_order else order,
                now,
                old.tags,
            )

        try:
            record = self._store.update_agent_status(instance_id, status_id, apply)
        except NotFound:
            raise ResourceNotFound(ResourceKind.AGENT_STATUS, status_id) from None
        except Conflict:
            raise NameTaken(ResourceKind.AGENT_STATUS, change.name or "") from None
        return status_from(record)

    # -- queues -----------------------------------------------------------------------------------
    def queues(self, instance_id: str) -> list[Queue]:
        self._instance(instance_id)
        return [queue_from(q) for q in self._store.list_queues(instance_id)]

    def queue(self, instance_id: str, queue_id: str) -> Queue:
        self._instance(instance_id)
        record = self._store.get_queue(instance_id, queue_id)
        if record is None:
            raise ResourceNotFound(ResourceKind.QUEUE, queue_id)
        return queue_from(record)

    def create_queue(
        self,
        instance_id: str,
        name: str,
        description: str | None,
        hours_of_operation_id: str,
        max_contacts: int | None,
        tags: tuple[Tag, ...] = (),
    ) -> Queue:
        instance, info = self._instance(instance_id)
        if hours_of_operation_id != info.hours_of_operation_id:
            raise InvalidReference(ResourceKind.HOURS_OF_OPERATION, hours_of_operation_id)
        qid = str(uuid.uuid4())
        record = QueueRecord(
            instance_id,
            qid,
            arns.queue(instance.arn, qid),
            name,
            description,
            QueueType.STANDARD.value,
            hours_of_operation_id,
            max_contacts,
            True,
            self._clock.now().timestamp(),
            tags,
        )
        try:
            self._store.create_queue(record)
        except Conflict:
            raise NameTaken(ResourceKind.QUEUE, name) from None
        return queue_from(record)

    # -- routing profiles -------------------------------------------------------------------------
    def _routing(self, record: RoutingProfileRecord) -> RoutingProfile:
        queues = {q.queue_id: queue_from(q) for q in self._store.list_queues(record.instance_id)}
        members = tuple(
            RoutingProfileQueue(queues[r.queue_id], Channel(r.channel), r.priority, r.delay)
            for r in self._store.list_routing_queues(record.instance_id, record.profile_id)
            if r.queue_id in queues
        )
        return RoutingProfile(
            record.profile_id,
            record.arn,
            record.name,
            record.description,
            record.default_outbound_queue_id,
            members,
            tuple((Channel(c), n) for c, n in record.media_concurrencies),
            utc(record.modified),
            record.tags,
        )

    def routing_profile(self, instance_id: str, routing_profile_id: str) -> RoutingProfile:
        self._instance(instance_id)
        record = self._store.get_routing_profile(instance_id, routing_profile_id)
        if record is None:
            raise ResourceNotFound(ResourceKind.ROUTING_PROFILE, routing_profile_id)
        return self._routing(record)

    def create_routing_profile(
        self,
        instance_id: str,
        name: str,
        description: str,
        default_outbound_queue_id: str,
        queues: Sequence[QueueConfig],
        media_concurrencies: Sequence[tuple[Channel, int]],
        tags: tuple[Tag, ...] = (),
    ) -> RoutingProfile:
        instance, _ = self._instance(instance_id)
        known = {q.queue_id for q in self._store.list_queues(instance_id)}
        check_routing_config(known, default_outbound_queue_id, queues, media_concurrencies)
        pid = str(uuid.uuid4())
        record = RoutingProfileRecord(
            instance_id,
            pid,
            name,
            arns.routing_profile(instance.arn, pid),
            description,
            default_outbound_queue_id,
            tuple((c.value, n) for c, n in media_concurrencies),
            self._clock.now().timestamp(),
            tags,
        )
        members = [
            RoutingQueueRecord(instance_id, pid, q.queue_id, q.channel.value, q.priority, q.delay)
            for q in queues
        ]
        try:
            self._store.create_routing_profile(record, members)
        except Conflict:
            raise NameTaken(ResourceKind.ROUTING_PROFILE, name) from None
        return self._routing(record)

    def set_routing_profile(
        self, instance_id: str, user_id: str, routing_profile_id: str
    ) -> ConnectUser:
        self.user(instance_id, user_id)
        if self._store.get_routing_profile(instance_id, routing_profile_id) is None:
            raise InvalidReference(ResourceKind.ROUTING_PROFILE, routing_profile_id)
        try:
            self._store.update_user_routing_profile(
                instance_id, user_id, routing_profile_id, self._clock.now().timestamp()
            )
        except NotFound:
            raise ResourceNotFound(ResourceKind.USER, user_id) from None
        return self.user(instance_id, user_id)

    def set_phone(self, instance_id: str, user_id: str, phone: AgentPhone) -> None:
        """The agent's own phone type and number (:mod:`connectfed.connect.agent_phone`);
        InvalidParameter when Connect would refuse them."""
        phone.check()
        user = self.user(instance_id, user_id)
        try:
            self._store.update_connect_user_phone_config(
                instance_id,
                user_id,
                phone.applied_to(user.phone_config),
                self._clock.now().timestamp(),
            )
        except NotFound:
            raise ResourceNotFound(ResourceKind.USER, user_id) from None

    # -- the agent's live state -------------------------------------------------------------------
    def current_state(self, instance_id: str, user_id: str) -> AgentState:
        """The user's state; a user never changed is Offline since the user's creation."""
        _, info = self._instance(instance_id)
        user = self.user(instance_id, user_id)
        record = self._store.get_agent_state(instance_id, user_id)
        if record is None:
            return AgentState(
                self.status(instance_id, info.offline_status_id), utc(user.created), 0
            )
        return AgentState(
            self.status(instance_id, record.status_id), utc(record.started), record.version
        )

    def set_state(self, instance_id: str, user_id: str, status_id: str) -> AgentState:
        """Put the agent in an enabled status of the instance. The same status again is a
        no-op: the status keeps its start time and version (docs/compatibility.md)."""
        self.user(instance_id, user_id)
        record = self._store.get_agent_status(instance_id, status_id)
        if record is None:
            raise InvalidReference(ResourceKind.AGENT_STATUS, status_id)
        status = status_from(record)
        if not status.enabled:
            raise StatusDisabled(status)
        try:
            state = self._store.set_agent_state(
                instance_id, user_id, status_id, self._clock.now().timestamp()
            )
        except NotFound:
            raise ResourceNotFound(ResourceKind.USER, user_id) from None
        self._waiters.notify((instance_id, user_id))
        return AgentState(status, utc(state.started), state.version)

    async def wait_for_change(
        self,
        instance_id: str,
        user_id: str,
        after_version: int,
        timeout: float,
        ended: Callable[[], bool] | None = None,
    ) -> AgentState:
        """The state once its version exceeds ``after_version``, or the current one at
        ``timeout`` (seconds), or as soon as ``ended()`` says the waiter's session is over
        (checked with every look at the version: a sign-out here wakes it at once through
        :meth:`session_ended`, one in another server within a poll interval). Raises
        ResourceNotFound for an unknown (or deleted) user.

        While waiting only the version is polled (one primary-key read, and the one ``ended``
        makes); the full state is read once at the start and once at the end."""
        state = await self._call(self.current_state, instance_id, user_id)
        if state.version > after_version or timeout <= 0:
            return state

        def look() -> tuple[int, bool]:
            record = self._store.get_agent_state(instance_id, user_id)
            return (0 if record is None else record.version), ended is not None and ended()

        await self._waiters.wait(
            (instance_id, user_id),
            lambda: self._call(look),
            lambda seen: seen[0] > after_version or seen[1],
            timeout,
        )
        return await self._call(self.current_state, instance_id, user_id)

    def session_ended(self, instance_id: str, user_id: str) -> None:
        """A session of the user ended (signed out): wake the user's waiting long polls, each
        to check whether it was theirs."""
        self._waiters.notify((instance_id, user_id))

    async def _call(self, function: Callable[..., T], *args: object) -> T:
        return await self._offload.run(function, *args)

    # -- real-time user data ----------------------------------------------------------------------
    def user_data(self, instance_id: str, wanted: UserDataFilter) -> list[AgentSnapshot]:
        """GetCurrentUserData: every user the filter selects, ordered by user id."""
        instance, info = self._instance(instance_id)
        users = select_users(self._store, instance, self.users(instance_id), wanted)
        if wanted.contact_states is not None:
            return []  # no agent handles contacts here, so no contact state matches
        return snapshots(
            users,
            {s.user_id: s for s in self._store.list_agent_states(instance_id)},
            {s.status_id: s for s in self.statuses(instance_id)},
            info.offline_status_id,
            functools.cache(functools.partial(self.routing_profile, instance_id)),
        )

"""Agent statuses, routing profiles and agent state.

# TEMP until merge of branch connectdata/tokens: a minimal in-memory stand-in for the real
# AgentService (ISSUE7-DESIGN.md), only so the CTI branch's tests run; replace wholesale.
"""

from __future__ import annotations

import asyncio
import enum
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from connectfed.clock import Clock
from connectfed.errors import client_error
from connectfed.store import Store
from connectfed.store.records import ConnectUser


class AgentStatusType(enum.Enum):
    ROUTABLE = "ROUTABLE"
    CUSTOM = "CUSTOM"
    OFFLINE = "OFFLINE"


@dataclass(frozen=True)
class AgentStatus:
    status_id: str
    arn: str
    name: str
    description: str
    type: AgentStatusType
    enabled: bool
    display_order: int | None


@dataclass(frozen=True)
class Queue:
    queue_id: str
    arn: str
    name: str
    description: str
    queue_type: str


@dataclass(frozen=True)
class RoutingProfileQueue:
    queue: Queue
    channel: str
    priority: int
    delay: int


@dataclass(frozen=True)
class RoutingProfile:
    routing_profile_id: str
    arn: str
    name: str
    description: str
    default_outbound_queue_id: str
    queues: tuple[RoutingProfileQueue, ...]
    media_concurrencies: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class AgentState:
    status: AgentStatus
    started: datetime
    version: int


class AgentService:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._store, self._clock = store, clock
        self._states: dict[tuple[str, str], AgentState] = {}
        self._lock = threading.RLock()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    def user(self, instance_id: str, user_id: str) -> ConnectUser:
        user = self._store.get_connect_user(instance_id, user_id)
        if user is None:
            raise client_error("ResourceNotFoundException", "User not found", 404)
        return user

    def statuses(self, instance_id: str) -> list[AgentStatus]:
        instance = self._store.get_instance(instance_id)
        arn = instance.arn if instance else instance_id
        return [AgentStatus(str(uuid.uuid5(uuid.NAMESPACE_URL, arn + name)),
                            f"{arn}/agent-state/{uuid.uuid5(uuid.NAMESPACE_URL, arn + name)}",
                            name, name, kind, True, order)
                for order, (name, kind) in enumerate(
                    (("Available", AgentStatusType.ROUTABLE),
                     ("Offline", AgentStatusType.OFFLINE)), start=1)]

    def routing_profile(self, instance_id: str, routing_profile_id: str) -> RoutingProfile:
        profile = next(p for p in self._store.list_profiles(instance_id, "routing")
                       if p.profile_id == routing_profile_id)
        queue_id = str(uuid.uuid5(uuid.NAMESPACE_URL, profile.arn))
        arn = profile.arn.split("/routing-profile/")[0] + f"/queue/{queue_id}"
        queue = Queue(queue_id, arn, "BasicQueue", "", "STANDARD")
        return RoutingProfile(profile.profile_id, profile.arn, profile.name, "", queue_id,
                              (RoutingProfileQueue(queue, "VOICE", 1, 0),), (("VOICE", 1),))

    def current_state(self, instance_id: str, user_id: str) -> AgentState:
        with self._lock:
            found = self._states.get((instance_id, user_id))
        if found is not None:
            return found
        user = self.user(instance_id, user_id)
        offline = self.statuses(instance_id)[1]
        return AgentState(offline, datetime.fromtimestamp(user.created, UTC), 0)

    def set_state(self, instance_id: str, user_id: str, status_id: str) -> AgentState:
        status = next((s for s in self.statuses(instance_id) if s.status_id == status_id), None)
        if status is None:
            raise client_error("ResourceNotFoundException", "Agent status not found", 404)
        with self._lock:
            old = self.current_state(instance_id, user_id)
            state = AgentState(status, self._clock.now(), old.version + 1)
            self._states[(instance_id, user_id)] = state
            waiters, self._waiters = self._waiters, []
        for loop, future in waiters:
            loop.call_soon_threadsafe(_wake, future)
        return state

    async def wait_for_change(self, instance_id: str, user_id: str, after_version: int,
                              timeout: float) -> AgentState:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            future: asyncio.Future[None] = loop.create_future()
            with self._lock:
                self._waiters.append((loop, future))
            state = self.current_state(instance_id, user_id)
            remaining = deadline - loop.time()
            if state.version > after_version or remaining <= 0:
                return state
            try:
                await asyncio.wait_for(future, remaining)
            except TimeoutError:
                return self.current_state(instance_id, user_id)


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)

"""An agent's live state in-process: start times on a fixed clock, and waiting for changes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectfed.clock import FixedClock
from connectfed.connect.agents import (
    AgentService,
    AgentStatusType,
    InvalidReference,
    ResourceNotFound,
    StatusDisabled,
)
from connectfed.store import Store, open_store
from connectfed.store.records import ConnectUser, Instance, Profile

START = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
IID = "i-1"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    backend = open_store(f"sqlite://{tmp_path / 'db'}")
    yield backend
    backend.close()


def _service(store: Store, clock: FixedClock, poll_interval: float = 0.25) -> AgentService:
    arn = f"arn:aws:connect:us-east-1:123456789012:instance/{IID}"
    instance = Instance(IID, "123456789012", "us-east-1", arn, "a", "SAML", "ACTIVE", True, True, 0)
    store.create_instance(instance, [Profile(IID, "routing", "rp", "Basic", f"{arn}/rp")])
    created = clock.now().timestamp()
    store.create_connect_user(
        ConnectUser(
            IID,
            "u-1",
            "ann",
            f"{arn}/agent/u-1",
            ("sp",),
            "rp",
            "{}",
            "{}",
            None,
            None,
            created,
            created,
        )
    )
    service = AgentService(store, clock, poll_interval=poll_interval)
    service.ensure_defaults(instance)
    return service


def _ids(service: AgentService) -> dict[str, str]:
    return {s.name: s.status_id for s in service.statuses(IID)}


def test_a_new_user_is_offline_since_creation_and_changes_restart_the_clock(store: Store) -> None:
    clock = FixedClock(START)
    service = _service(store, clock)
    ids = _ids(service)
    first = service.current_state(IID, "u-1")
    assert (first.status.type, first.started, first.version) == (AgentStatusType.OFFLINE, START, 0)
    clock.advance(60)
    available = service.set_state(IID, "u-1", ids["Available"])
    assert (available.status.name, available.started, available.version) == (
        "Available",
        clock.now(),
        1,
    )
    clock.advance(60)
    # The same status again: nothing changes, not even the start time.
    assert service.set_state(IID, "u-1", ids["Available"]) == available
    assert service.current_state(IID, "u-1") == available
    clock.advance(60)
    offline = service.set_state(IID, "u-1", ids["Offline"])
    assert (offline.started, offline.version) == (clock.now(), 2)


def test_set_state_refuses_unknown_or_disabled_statuses_and_users(store: Store) -> None:
    service = _service(store, FixedClock(START))
    closed = service.create_status(IID, "Closed", None, False, None)
    with pytest.raises(StatusDisabled):
        service.set_state(IID, "u-1", closed.status_id)
    with pytest.raises(InvalidReference):
        service.set_state(IID, "u-1", "nope")
    with pytest.raises(ResourceNotFound):
        service.set_state(IID, "nobody", _ids(service)["Available"])
    assert service.current_state(IID, "u-1").version == 0


def test_wait_returns_at_once_when_already_changed(store: Store) -> None:
    service = _service(store, FixedClock(START))
    service.set_state(IID, "u-1", _ids(service)["Available"])
    state = asyncio.run(service.wait_for_change(IID, "u-1", 0, timeout=3600))
    assert (state.version, state.status.name) == (1, "Available")


def test_wait_times_out_with_the_current_state(store: Store) -> None:
    service = _service(store, FixedClock(START), poll_interval=0.01)
    service.set_state(IID, "u-1", _ids(service)["Available"])
    state = asyncio.run(service.wait_for_change(IID, "u-1", 1, timeout=0.05))
    assert (state.version, state.status.name) == (1, "Available")


def test_wait_wakes_on_a_change_made_in_another_thread(store: Store) -> None:
    # Polling is effectively off (one hour), so only the in-process notification can wake it;
    # without it the wait would run to its timeout and return version 0.
    service = _service(store, FixedClock(START), poll_interval=3600)
    ids = _ids(service)

    async def scenario() -> tuple[int, str]:
        waiting = asyncio.create_task(service.wait_for_change(IID, "u-1", 0, timeout=60))
        await asyncio.sleep(0)  # let it register and read
        await asyncio.to_thread(service.set_state, IID, "u-1", ids["Available"])
        state = await waiting
        return state.version, state.status.name

    assert asyncio.run(scenario()) == (1, "Available")


def test_wait_reports_a_deleted_user(store: Store) -> None:
    service = _service(store, FixedClock(START), poll_interval=0.01)
    store.delete_connect_user(IID, "u-1")
    with pytest.raises(ResourceNotFound):
        asyncio.run(service.wait_for_change(IID, "u-1", 0, timeout=1))

"""The conformance suite for Connect agent data (statuses, queues, routing profiles, agent state).

Part of ``test_conformance``: the same fixtures, run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from connectfed.store import Conflict, NotFound, Store
from connectfed.store.agent_records import (
    AgentStateRecord,
    AgentStatusRecord,
    ConnectDefaults,
    QueueRecord,
    RoutingProfileRecord,
    RoutingQueueRecord,
)
from connectfed.store.records import Profile
from tests.store.conftest import open_test_store
from tests.store.test_conformance import _instance, _user


def _status(status_id: str, name: str, kind: str = "CUSTOM", instance_id: str = "i-1"):
    return AgentStatusRecord(
        instance_id, status_id, f"arn:s/{status_id}", name, None, kind, True, None, 1.0
    )


def _queue(queue_id: str, name: str, instance_id: str = "i-1") -> QueueRecord:
    return QueueRecord(
        instance_id, queue_id, f"arn:q/{queue_id}", name, "d", "STANDARD", "h-1", 5, True, 1.0
    )


def _defaults(instance_id: str = "i-1", suffix: str = "") -> ConnectDefaults:
    return ConnectDefaults(
        instance_id,
        "h-1" + suffix,
        "off" + suffix,
        (
            _status("av" + suffix, "Available", "ROUTABLE", instance_id),
            _status("off" + suffix, "Offline", "OFFLINE", instance_id),
        ),
        (_queue("q" + suffix, "BasicQueue", instance_id),),
        (
            RoutingProfileRecord(
                instance_id,
                "rp-1",
                "Basic",
                "arn:rp",
                "Default",
                "q" + suffix,
                (("VOICE", 1), ("CHAT", 2)),
                1.0,
            ),
        ),
        tuple(
            RoutingQueueRecord(instance_id, "rp-1", "q" + suffix, channel, 1, 0)
            for channel in ("VOICE", "CHAT")
        ),
    )


def _with_instance(store: Store, instance_id: str = "i-1", alias: str = "a1") -> None:
    store.create_instance(
        _instance(instance_id, alias),
        [Profile(instance_id, "routing", "rp-1", "Basic", "arn:rp")],
    )


def test_defaults_are_created_once(store: Store) -> None:
    _with_instance(store)
    assert store.get_connect_defaults("i-1") is None
    assert store.ensure_connect_defaults(_defaults()) is True
    assert store.ensure_connect_defaults(_defaults(suffix="-again")) is False
    info = store.get_connect_defaults("i-1")
    assert info is not None and (info.hours_of_operation_id, info.offline_status_id) == (
        "h-1",
        "off",
    )
    assert [s.name for s in store.list_agent_statuses("i-1")] == ["Available", "Offline"]
    assert [q.queue_id for q in store.list_queues("i-1")] == ["q"]
    profile = store.get_routing_profile("i-1", "rp-1")
    assert profile is not None
    assert profile.media_concurrencies == (("VOICE", 1), ("CHAT", 2))
    assert profile.default_outbound_queue_id == "q"
    assert {(r.queue_id, r.channel) for r in store.list_routing_queues("i-1", "rp-1")} == {
        ("q", "VOICE"),
        ("q", "CHAT"),
    }


def test_concurrent_defaults_have_one_winner(store_url: str) -> None:
    setup = open_test_store(store_url)
    _with_instance(setup)
    stores = [open_test_store(store_url) for _ in range(4)]
    results: list[bool] = []
    barrier = threading.Barrier(len(stores))

    def run(index: int) -> None:
        barrier.wait()
        results.append(stores[index].ensure_connect_defaults(_defaults(suffix=f"-{index}")))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, False, False, True]
    assert len(setup.list_agent_statuses("i-1")) == 2
    assert len(setup.list_queues("i-1")) == 1
    for backend in [setup, *stores]:
        backend.close()


def test_agent_statuses_create_update_and_unique_names(store: Store) -> None:
    store.create_agent_status(_status("s-1", "Lunch"))
    store.create_agent_status(_status("s-2", "Break"))
    with pytest.raises(Conflict):
        store.create_agent_status(_status("s-3", "Lunch"))
    assert [s.name for s in store.list_agent_statuses("i-1")] == ["Break", "Lunch"]
    changed = store.update_agent_status(
        "i-1", "s-1", lambda old: replace(old, name="Dinner", enabled=False, modified=2.0)
    )
    assert store.get_agent_status("i-1", "s-1") == changed
    assert changed.name == "Dinner" and not changed.enabled
    with pytest.raises(Conflict):
        store.update_agent_status("i-1", "s-1", lambda old: replace(old, name="Break"))
    assert store.get_agent_status("i-1", "s-1") == changed  # the failed update left no trace
    with pytest.raises(NotFound):
        store.update_agent_status("i-1", "nope", lambda old: old)
    assert store.get_agent_status("i-2", "s-1") is None


def test_queues_and_routing_profiles(store: Store) -> None:
    _with_instance(store)
    store.ensure_connect_defaults(_defaults())
    store.create_queue(_queue("q-2", "Sales"))
    with pytest.raises(Conflict):
        store.create_queue(_queue("q-3", "Sales"))
    assert store.get_queue("i-1", "q-2") == _queue("q-2", "Sales")
    profile = RoutingProfileRecord(
        "i-1", "rp-2", "Sales profile", "arn:rp2", "d", "q-2", (("TASK", 10),), 3.0
    )
    members = [RoutingQueueRecord("i-1", "rp-2", "q-2", "TASK", 2, 30)]
    store.create_routing_profile(profile, members)
    with pytest.raises(Conflict):
        store.create_routing_profile(replace(profile, profile_id="rp-3"), [])
    assert store.get_routing_profile("i-1", "rp-2") == profile
    assert store.list_routing_queues("i-1", "rp-2") == members
    assert len(store.list_routing_queues("i-1")) == 3
    assert [p.name for p in store.list_profiles("i-1", "routing")] == ["Basic", "Sales profile"]
    store.create_connect_user(_user("ann"))
    store.update_user_routing_profile("i-1", "u-ann", "rp-2", 9.0)
    user = store.get_connect_user("i-1", "u-ann")
    assert user is not None and (user.routing_profile_id, user.modified) == ("rp-2", 9.0)
    with pytest.raises(NotFound):
        store.update_user_routing_profile("i-1", "u-nobody", "rp-2", 9.0)


def test_agent_state_versions_and_same_status(store: Store) -> None:
    store.create_connect_user(_user("ann"))
    assert store.get_agent_state("i-1", "u-ann") is None
    first = store.set_agent_state("i-1", "u-ann", "av", 10.0)
    assert first == AgentStateRecord("i-1", "u-ann", "av", 10.0, 1)
    # The same status again changes nothing: neither the start time nor the version.
    assert store.set_agent_state("i-1", "u-ann", "av", 20.0) == first
    second = store.set_agent_state("i-1", "u-ann", "off", 30.0)
    assert second == AgentStateRecord("i-1", "u-ann", "off", 30.0, 2)
    assert store.get_agent_state("i-1", "u-ann") == second
    assert store.list_agent_states("i-1") == [second]
    with pytest.raises(NotFound):
        store.set_agent_state("i-1", "u-nobody", "av", 1.0)
    assert store.get_agent_state("i-1", "u-nobody") is None


def test_concurrent_state_changes_each_get_their_own_version(store_url: str) -> None:
    setup = open_test_store(store_url)
    setup.create_connect_user(_user("ann"))
    stores = [open_test_store(store_url) for _ in range(4)]
    versions: list[int] = []
    barrier = threading.Barrier(len(stores))

    def run(index: int) -> None:
        barrier.wait()
        versions.append(stores[index].set_agent_state("i-1", "u-ann", f"s-{index}", 1.0).version)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(versions) == [1, 2, 3, 4]
    for backend in [setup, *stores]:
        backend.close()


def test_deleting_a_user_or_instance_leaves_no_agent_data(store: Store) -> None:
    _with_instance(store)
    store.ensure_connect_defaults(_defaults())
    store.create_connect_user(_user("ann"))
    store.create_connect_user(_user("bob"))
    store.set_agent_state("i-1", "u-ann", "av", 1.0)
    store.set_agent_state("i-1", "u-bob", "av", 1.0)
    store.delete_connect_user("i-1", "u-ann")
    assert store.get_agent_state("i-1", "u-ann") is None
    assert [s.user_id for s in store.list_agent_states("i-1")] == ["u-bob"]
    store.delete_instance("i-1")
    assert store.list_agent_states("i-1") == []
    assert store.list_agent_statuses("i-1") == []
    assert store.list_queues("i-1") == []
    assert store.list_routing_queues("i-1") == []
    assert store.get_routing_profile("i-1", "rp-1") is None
    assert store.get_connect_defaults("i-1") is None

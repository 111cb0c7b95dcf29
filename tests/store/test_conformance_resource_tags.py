"""Conformance, continued: the tags of SAML providers and Connect resources (migration 19).

Run on every backend (the ``store_url`` fixture), like ``test_conformance``.
"""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from connectfed.store import LimitReached, NotFound, Store
from connectfed.store.agent_records import RoutingProfileRecord
from connectfed.store.records import Profile, Tag
from connectfed.store.schema import MIGRATIONS
from connectfed.store.sql import migrate
from tests.store.conftest import open_test_store, raw_database
from tests.store.test_conformance import _instance, _saml_provider, _user
from tests.store.test_conformance_agents import _defaults, _queue, _status

TAGS = (Tag("Team", "Blue"), Tag("team", "red"), Tag("cost center", ""), Tag("Ünï/κλ", "値 = 1"))
# Every kind, with the key of the one resource of that kind _world makes.
KINDS = {
    "saml-provider": ("arn:aws:iam::123456789012:saml-provider/Idp",),
    "instance": ("i-1",),
    "agent": ("i-1", "u-ann"),
    "agent-state": ("i-1", "s-1"),
    "queue": ("i-1", "q-1"),
    "routing-profile": ("i-1", "rp-2"),
    "security-profile": ("i-1", "sp-1"),
}


def _world(store: Store, tags: tuple[Tag, ...] = ()) -> None:
    """One resource of every kind (``tags`` on those whose creation takes them)."""
    store.create_saml_provider(replace(_saml_provider("Idp"), tags=tags))
    store.create_instance(
        replace(_instance(), tags=tags),
        [
            Profile("i-1", "routing", "rp-1", "Basic", "arn:rp"),
            Profile("i-1", "security", "sp-1", "Admin", "arn:sp"),
        ],
    )
    store.ensure_connect_defaults(_defaults())
    store.create_connect_user(replace(_user("ann"), tags=tags))
    store.create_agent_status(replace(_status("s-1", "Lunch"), tags=tags))
    store.create_queue(replace(_queue("q-1", "Sales"), tags=tags))
    profile = RoutingProfileRecord("i-1", "rp-2", "Sales", "arn:rp2", "d", "q-1", (), 1.0, tags)
    store.create_routing_profile(profile, [])


def _read_with_resource(store: Store, kind: str) -> tuple[Tag, ...]:
    """The tags as the resource's own read answers them."""
    found = {
        "saml-provider": lambda: store.get_saml_provider(KINDS[kind][0]),
        "instance": lambda: store.get_instance("i-1"),
        "agent": lambda: store.get_connect_user("i-1", "u-ann"),
        "agent-state": lambda: store.get_agent_status("i-1", "s-1"),
        "queue": lambda: store.get_queue("i-1", "q-1"),
        "routing-profile": lambda: store.get_routing_profile("i-1", "rp-2"),
    }[kind]()
    assert found is not None
    return found.tags  # type: ignore[no-any-return,attr-defined]


def test_tags_given_at_creation_are_read_with_each_resource(store: Store) -> None:
    """Order, case, Unicode and empty values as given; keys differing only in case are two
    tags (Connect's and the store's rule alike: creation takes what it is given)."""
    _world(store, TAGS)
    for kind, key in KINDS.items():
        expected = () if kind == "security-profile" else TAGS
        assert store.resource_tags(kind, key) == expected, kind
        if kind != "security-profile":
            assert _read_with_resource(store, kind) == TAGS, kind
    user = store.find_connect_user("i-1", "ann")
    assert user is not None and user.tags == TAGS
    assert store.list_instances("123456789012")[0].tags == TAGS
    assert store.list_saml_providers("123456789012")[0].tags == TAGS
    assert [q.tags for q in store.list_queues("i-1") if q.queue_id == "q-1"] == [TAGS]
    assert [s.tags for s in store.list_agent_statuses("i-1") if s.status_id == "s-1"] == [TAGS]


@pytest.mark.parametrize("kind", KINDS)
def test_tagging_replaces_a_held_key_in_its_place(store: Store, kind: str) -> None:
    _world(store)
    key = KINDS[kind]
    store.tag_resource(kind, key, [Tag("Team", "Blue"), Tag("Env", "dev")])
    now = store.tag_resource(kind, key, [Tag("new", "1"), Tag("TEAM", "Red")])
    if kind == "saml-provider":  # IAM: keys regardless of case, in the case last set
        expected = (Tag("TEAM", "Red"), Tag("Env", "dev"), Tag("new", "1"))
        untag, left = ["team", "absent"], expected[1:]
    else:  # Connect: case-sensitive keys
        expected = (Tag("Team", "Blue"), Tag("Env", "dev"), Tag("new", "1"), Tag("TEAM", "Red"))
        untag, left = ["team", "TEAM", "absent"], expected[:3]
    assert now == expected and store.resource_tags(kind, key) == expected
    # A key not held is no error.
    assert store.untag_resource(kind, key, untag) == left
    assert store.resource_tags(kind, key) == left
    remaining = store.untag_resource(kind, key, ["Team", "Env", "new"])
    assert remaining == () and store.resource_tags(kind, key) == ()
    if kind != "security-profile":
        assert _read_with_resource(store, kind) == ()


@pytest.mark.parametrize("kind", KINDS)
def test_a_resource_that_is_not_there_is_not_found(store: Store, kind: str) -> None:
    _world(store)
    missing = (*KINDS[kind][:-1], "gone")
    assert store.resource_tags(kind, missing) is None
    with pytest.raises(NotFound):
        store.tag_resource(kind, missing, [Tag("k", "v")])
    with pytest.raises(NotFound):
        store.untag_resource(kind, missing, ["k"])


def test_a_routing_profile_is_no_security_profile(store: Store) -> None:
    """The two kinds share a table; one's id never reaches the other's tags."""
    _world(store)
    with pytest.raises(NotFound):
        store.tag_resource("security-profile", ("i-1", "rp-2"), [Tag("k", "v")])
    assert store.resource_tags("routing-profile", ("i-1", "sp-1")) is None


def test_a_limit_counts_the_tags_the_resource_would_hold(store: Store) -> None:
    _world(store)
    key = KINDS["agent"]
    store.tag_resource("agent", key, [Tag(f"k{i}", "v") for i in range(3)])
    # Replacing held keys adds none: within a limit of 3; a key in another case is another.
    assert len(store.tag_resource("agent", key, [Tag("k0", "w")], limit=3)) == 3
    with pytest.raises(LimitReached):
        store.tag_resource("agent", key, [Tag("K0", "x")], limit=3)
    assert store.resource_tags("agent", key) == (Tag("k0", "w"), Tag("k1", "v"), Tag("k2", "v"))


def test_tags_go_with_their_resource(store: Store) -> None:
    """Deleted with the user, instance or provider: one created again under the same id (a
    declared world's fixed ids, CreateInstance's ClientToken) starts without them."""
    _world(store, TAGS)
    store.delete_connect_user("i-1", "u-ann")
    store.create_connect_user(_user("ann"))
    assert store.resource_tags("agent", KINDS["agent"]) == ()
    store.delete_instance("i-1")
    store.create_instance(_instance(), [])
    assert store.resource_tags("instance", ("i-1",)) == ()
    assert store.resource_tags("queue", KINDS["queue"]) is None
    arn = KINDS["saml-provider"][0]
    store.delete_saml_provider(arn)
    store.create_saml_provider(_saml_provider("Idp"))
    assert store.resource_tags("saml-provider", (arn,)) == ()


def test_other_changes_keep_the_tags(store: Store) -> None:
    _world(store, TAGS)
    store.update_connect_user_identity("i-1", "u-ann", "{}", 5.0)
    store.update_agent_status("i-1", "s-1", lambda old: replace(old, name="Break", tags=()))
    updated = store.update_saml_provider(KINDS["saml-provider"][0], lambda old: old)
    assert updated.tags == TAGS
    for kind in ("agent", "agent-state", "saml-provider"):
        assert store.resource_tags(kind, KINDS[kind]) == TAGS, kind


def test_concurrent_tagging_never_exceeds_the_limit(store_url: str) -> None:
    """Six stores (as six processes would) each add 20 tags of their own to one queue at once,
    within a limit of 50: exactly two calls are taken, the others are LimitReached."""
    stores = [open_test_store(store_url) for _ in range(6)]
    outcomes: list[int] = []
    try:
        _world(stores[0])
        start = threading.Barrier(len(stores))

        def tag(index: int, store: Store) -> None:
            start.wait()
            try:
                store.tag_resource(
                    "queue", KINDS["queue"], [Tag(f"t{index}-{i}", "v") for i in range(20)], 50
                )
                outcomes.append(index)
            except LimitReached:
                outcomes.append(-1)

        threads = [threading.Thread(target=tag, args=item) for item in enumerate(stores)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        taken = sorted(index for index in outcomes if index >= 0)
        assert len(taken) == 2 and outcomes.count(-1) == 4
        held = stores[0].resource_tags("queue", KINDS["queue"]) or ()
        assert sorted(tag.key for tag in held) == sorted(
            f"t{index}-{i}" for index in taken for i in range(20)
        )
    finally:
        for store in stores:
            store.close()


def test_resources_stored_before_tags_read_without_tags(store_url: str) -> None:
    db = raw_database(store_url)
    migrate(db, MIGRATIONS[:18])
    with db.transaction() as tx:
        tx.execute(
            "INSERT INTO instances (instance_id, account_id, region, arn, alias,"
            " identity_management_type, status, inbound_calls, outbound_calls, created)"
            " VALUES ('i-old', '123456789012', 'us-east-1', 'arn:i/i-old', 'old', 'SAML',"
            " 'ACTIVE', 1, 0, 1)"
        )
    db.close()
    upgraded = open_test_store(store_url)
    try:
        assert upgraded.get_instance("i-old") == _instance("i-old", "old")
        assert upgraded.tag_resource("instance", ("i-old",), [Tag("k", "v")]) == (Tag("k", "v"),)
    finally:
        upgraded.close()

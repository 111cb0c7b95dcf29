"""Conformance, continued: the tags of IAM users and roles (migration 17).

Run on every backend (the ``store_url`` fixture), like ``test_conformance``.
"""

from __future__ import annotations

import threading

import pytest

from connectfed.store import LimitReached, NotFound, Store
from connectfed.store.records import IamUser, Role, Tag
from connectfed.store.schema import MIGRATIONS
from connectfed.store.sql import migrate
from tests.store.conftest import open_test_store, raw_database

ACCT = "123456789012"
TAGS = (Tag("Team", "Blue"), Tag("cost center", ""), Tag("Ünïcode/κλειδί", "値 = 1"))


def _user(name: str, user_id: str, tags: tuple[Tag, ...] = ()) -> IamUser:
    return IamUser(ACCT, name, user_id, "/", f"arn:aws:iam::{ACCT}:user/{name}", 1.0, tags)


def _role(name: str, role_id: str, tags: tuple[Tag, ...] = ()) -> Role:
    arn = f"arn:aws:iam::{ACCT}:role/{name}"
    return Role(ACCT, name, role_id, "/", arn, "{}", 3600, None, 1.0, tags)


def test_tags_round_trip_with_their_users_and_roles(store: Store) -> None:
    """Order, case, Unicode and empty values as given, by every read; none is ``()``."""
    store.create_user(_user("Tagged", "AIDATAGGED", TAGS))
    store.create_user(_user("Plain", "AIDAPLAIN"))
    store.create_role(_role("Tagged", "AROATAGGED", TAGS))
    store.create_role(_role("Plain", "AROAPLAIN"))
    for user in (
        store.get_user(ACCT, "tagged"),
        store.get_user_by_id("AIDATAGGED"),
        store.list_users(ACCT)[1],
    ):
        assert user == _user("Tagged", "AIDATAGGED", TAGS)
    for role in (
        store.get_role(ACCT, "TAGGED"),
        store.get_role_by_id("AROATAGGED"),
        store.list_roles(ACCT)[1],
    ):
        assert role == _role("Tagged", "AROATAGGED", TAGS)
    assert store.get_user(ACCT, "Plain") == _user("Plain", "AIDAPLAIN")
    assert store.get_role(ACCT, "Plain") == _role("Plain", "AROAPLAIN")


@pytest.mark.parametrize("kind", ["user", "role"])
def test_tagging_replaces_a_key_of_any_case_in_its_place(store: Store, kind: str) -> None:
    owner_id = "AIDAOWNER" if kind == "user" else "AROAOWNER"
    if kind == "user":
        store.create_user(_user("owner", owner_id, (Tag("Team", "Blue"), Tag("Env", "dev"))))
    else:
        store.create_role(_role("owner", owner_id, (Tag("Team", "Blue"), Tag("Env", "dev"))))
    now = store.tag_owner(kind, owner_id, [Tag("new", "1"), Tag("TEAM", "Red")])
    expected = (Tag("TEAM", "Red"), Tag("Env", "dev"), Tag("new", "1"))
    assert now == expected
    read = store.get_user_by_id(owner_id) if kind == "user" else store.get_role_by_id(owner_id)
    assert read is not None and read.tags == expected
    # Untagging matches keys regardless of case; a key not held is no error.
    assert store.untag_owner(kind, owner_id, ["team", "absent"]) == expected[1:]
    assert store.untag_owner(kind, owner_id, ["ENV", "New"]) == ()
    read = store.get_user_by_id(owner_id) if kind == "user" else store.get_role_by_id(owner_id)
    assert read is not None and read.tags == ()


@pytest.mark.parametrize("kind", ["user", "role"])
def test_tagging_an_owner_that_is_gone_is_not_found(store: Store, kind: str) -> None:
    with pytest.raises(NotFound):
        store.tag_owner(kind, "AIDAGONE" if kind == "user" else "AROAGONE", [Tag("k", "v")])
    with pytest.raises(NotFound):
        store.untag_owner(kind, "AIDAGONE" if kind == "user" else "AROAGONE", ["k"])


def test_a_limit_counts_the_tags_the_owner_would_hold(store: Store) -> None:
    held = tuple(Tag(f"k{i}", "v") for i in range(3))
    store.create_role(_role("limited", "AROALIMITED", held))
    # Replacing held keys (in another case) adds none: within a limit of 3.
    assert len(store.tag_owner("role", "AROALIMITED", [Tag("K0", "w")], limit=3)) == 3
    with pytest.raises(LimitReached):
        store.tag_owner("role", "AROALIMITED", [Tag("k1", "x"), Tag("k3", "v")], limit=3)
    role = store.get_role_by_id("AROALIMITED")
    assert role is not None  # nothing of the refused call was written
    assert role.tags == (Tag("K0", "w"), Tag("k1", "v"), Tag("k2", "v"))


def test_concurrent_tagging_never_exceeds_the_limit(store_url: str) -> None:
    """Each of several stores (as several processes would) adds 20 tags of its own to one
    role at once, within a limit of 50: exactly two calls are taken, every tag of theirs kept,
    the others are LimitReached (a count read outside the write let them all in)."""
    stores = [open_test_store(store_url) for _ in range(6)]
    outcomes: list[int] = []
    try:
        stores[0].create_role(_role("busy", "AROABUSY"))
        start = threading.Barrier(len(stores))

        def tag(index: int, store: Store) -> None:
            start.wait()
            try:
                store.tag_owner(
                    "role", "AROABUSY", [Tag(f"t{index}-{i}", "v") for i in range(20)], 50
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
        role = stores[0].get_role_by_id("AROABUSY")
        assert role is not None
        assert sorted(tag.key for tag in role.tags) == sorted(
            f"t{index}-{i}" for index in taken for i in range(20)
        )
    finally:
        for store in stores:
            store.close()


def test_users_and_roles_stored_before_tags_read_without_tags(store_url: str) -> None:
    db = raw_database(store_url)
    migrate(db, MIGRATIONS[:16])
    with db.transaction() as tx:
        tx.execute(
            "INSERT INTO iam_users (account_id, user_name_key, user_name, user_id, path, arn,"
            " created) VALUES (?, 'old', 'Old', 'AIDAOLD', '/', ?, 1)",
            (ACCT, f"arn:aws:iam::{ACCT}:user/Old"),
        )
        tx.execute(
            "INSERT INTO roles (account_id, role_name_key, role_name, role_id, path, arn,"
            " trust_policy, max_session_duration, description, created)"
            " VALUES (?, 'old', 'Old', 'AROAOLD', '/', ?, '{}', 3600, NULL, 1)",
            (ACCT, f"arn:aws:iam::{ACCT}:role/Old"),
        )
    db.close()
    upgraded = open_test_store(store_url)
    try:
        assert upgraded.get_user_by_id("AIDAOLD") == _user("Old", "AIDAOLD")
        assert upgraded.get_role_by_id("AROAOLD") == _role("Old", "AROAOLD")
        assert upgraded.tag_owner("role", "AROAOLD", [Tag("k", "v")]) == (Tag("k", "v"),)
    finally:
        upgraded.close()

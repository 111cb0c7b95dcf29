"""Conformance, continued: principals by unique id, atomic deletion, secrets sealed at rest.

Run on every backend (the ``store_url`` fixture), like ``test_conformance``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Callable

import pytest

from connectfed.store import (
    InUse,
    LimitReached,
    MasterKeyError,
    NotFound,
    StaticKey,
    Store,
    open_store,
)
from connectfed.store.records import AccessKey, IamUser, InlinePolicy, Role, RoleBinding, Session
from connectfed.store.schema import MIGRATIONS
from connectfed.store.sql import migrate
from tests.store.conftest import TEST_KEY, open_test_store, raw_database

ACCT = "123456789012"


def _iam_user(name: str, user_id: str) -> IamUser:
    return IamUser(ACCT, name, user_id, "/", f"arn:aws:iam::{ACCT}:user/{name}", 1.0)


def _role(name: str, role_id: str) -> Role:
    return Role(ACCT, name, role_id, "/", f"arn:aws:iam::{ACCT}:role/{name}", "{}", 3600, None, 1.0)


def _key(key_id: str, user: IamUser | None) -> AccessKey:
    return AccessKey(
        key_id,
        f"secret-of-{key_id}",
        ACCT,
        user.user_name if user else None,
        "Active",
        1.0,
        user_id=user.user_id if user else None,
    )


def test_users_and_roles_are_found_by_unique_id(store: Store) -> None:
    store.create_user(_iam_user("Alice", "AIDAALICE"))
    store.create_role(_role("R", "AROAR"))
    assert store.get_user_by_id("AIDAALICE") == _iam_user("Alice", "AIDAALICE")
    assert store.get_role_by_id("AROAR") == _role("R", "AROAR")
    assert store.get_user_by_id("AIDAOTHER") is None
    assert store.get_role_by_id("AROAOTHER") is None


def test_a_user_keeps_its_keys_and_policies_until_they_are_deleted(store: Store) -> None:
    user = _iam_user("alice", "AIDA1")
    store.create_user(user)
    store.create_access_key(_key("AKIAU1", user))
    store.put_policy(InlinePolicy("user", "AIDA1", "p", "{}"))
    assert store.list_access_keys(ACCT, "AIDA1") == [_key("AKIAU1", user)]
    with pytest.raises(InUse) as policies_first:
        store.delete_user(ACCT, "alice")
    assert policies_first.value.dependent == "inline_policies"
    store.delete_policy("user", "AIDA1", "p")
    with pytest.raises(InUse) as keys:
        store.delete_user(ACCT, "alice")
    assert keys.value.dependent == "access_keys"
    store.put_policy(InlinePolicy("user", "AIDA1", "p", "{}"))
    store.delete_access_key("AKIAU1")
    with pytest.raises(InUse):
        store.delete_user(ACCT, "alice")
    assert store.get_user(ACCT, "alice") == user  # the refused deletion changed nothing
    store.delete_policy("user", "AIDA1", "p")
    store.delete_user(ACCT, "ALICE")
    assert store.get_user_by_id("AIDA1") is None
    with pytest.raises(NotFound):
        store.delete_user(ACCT, "alice")


def test_a_keys_status_changes_and_nothing_else(store: Store) -> None:
    user = _iam_user("carol", "AIDA3")
    store.create_user(user)
    store.create_access_key(_key("AKIAU3", user))
    store.set_access_key_status("AKIAU3", "Inactive")
    inactive = dataclasses.replace(_key("AKIAU3", user), status="Inactive")
    assert store.get_access_key("AKIAU3") == inactive
    assert store.list_access_keys(ACCT, "AIDA3") == [inactive]
    store.set_access_key_status("AKIAU3", "Active")
    assert store.get_access_key("AKIAU3") == _key("AKIAU3", user)
    store.delete_access_key("AKIAU3")
    with pytest.raises(NotFound):
        store.set_access_key_status("AKIAU3", "Inactive")


def test_a_role_keeps_its_policies_until_they_are_deleted(store: Store) -> None:
    store.create_role(_role("R", "AROA1"))
    store.put_policy(InlinePolicy("role", "AROA1", "p", "{}"))
    with pytest.raises(InUse):
        store.delete_role(ACCT, "R")
    store.delete_policy("role", "AROA1", "p")
    store.delete_role(ACCT, "r")
    assert store.get_role_by_id("AROA1") is None


def test_nothing_attaches_to_a_deleted_owner(store: Store) -> None:
    gone = _iam_user("gone", "AIDAGONE")
    with pytest.raises(NotFound):
        store.create_access_key(_key("AKIAGONE", gone))
    with pytest.raises(NotFound):
        store.put_policy(InlinePolicy("user", "AIDAGONE", "p", "{}"))
    with pytest.raises(NotFound):
        store.put_policy(InlinePolicy("role", "AROAGONE", "p", "{}"))
    assert store.get_access_key("AKIAGONE") is None


def test_a_recreated_user_inherits_nothing_from_its_namesake(store: Store) -> None:
    old = _iam_user("bob", "AIDAOLD")
    store.create_user(old)
    store.create_access_key(_key("AKIAOLD", old))
    store.delete_access_key("AKIAOLD")
    store.delete_user(ACCT, "bob")
    new = _iam_user("bob", "AIDANEW")
    store.create_user(new)
    store.create_access_key(_key("AKIANEW", new))
    assert [k.access_key_id for k in store.list_access_keys(ACCT, "AIDANEW")] == ["AKIANEW"]
    assert store.list_access_keys(ACCT, "AIDAOLD") == []
    assert store.list_access_keys(ACCT, None) == []  # root keys only
    assert store.list_policies("user", "AIDANEW") == []


def _race(deleter: Store, adder: Store, user: IamUser, key_id: str) -> None:
    barrier = threading.Barrier(2)

    def delete() -> None:
        barrier.wait()
        with contextlib.suppress(InUse):
            deleter.delete_user(ACCT, user.user_name)

    def add() -> None:
        barrier.wait()
        with contextlib.suppress(NotFound):
            adder.create_access_key(_key(key_id, user))

    threads = [threading.Thread(target=delete), threading.Thread(target=add)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_deleting_a_user_races_adding_a_key_without_orphans(store_url: str) -> None:
    deleter, adder = open_test_store(store_url), open_test_store(store_url)
    try:
        for round_ in range(8):
            user = _iam_user(f"racer{round_}", f"AIDARACE{round_}")
            deleter.create_user(user)
            _race(deleter, adder, user, f"AKIARACE{round_}")
            exists = deleter.get_user_by_id(user.user_id) is not None
            key = deleter.get_access_key(f"AKIARACE{round_}")
            # Either the key won (the user stays, refusing deletion) or the deletion won.
            assert (exists, key is not None) in ((True, True), (False, False))
    finally:
        deleter.close()
        adder.close()


def _at_once(stores: list[Store], attempt: Callable[[int, Store], str]) -> list[str]:
    """``attempt(index, store)`` on each store (as several processes would), all released at
    once; their outcomes."""
    outcomes: list[str] = []
    start = threading.Barrier(len(stores))

    def run(index: int, store: Store) -> None:
        start.wait()
        outcomes.append(attempt(index, store))

    threads = [threading.Thread(target=run, args=item) for item in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.parametrize("owner", ["user", "root"])
def test_concurrent_key_creations_never_exceed_the_limit(store_url: str, owner: str) -> None:
    """Each of several stores (as several processes would) adds keys for one owner at once,
    with a limit of 2: exactly two are added, every other creation is LimitReached."""
    user = _iam_user("keyed", "AIDAKEYED") if owner == "user" else None
    stores = [open_test_store(store_url) for _ in range(6)]
    try:
        if user is not None:
            stores[0].create_user(user)

        def add(index: int, store: Store) -> str:
            try:
                store.create_access_key(_key(f"AKIALIMIT{index}", user), limit=2)
                return "added"
            except LimitReached:
                return "limit"

        assert sorted(_at_once(stores, add)) == ["added"] * 2 + ["limit"] * 4
        held = stores[0].list_access_keys(ACCT, user.user_id if user else None)
        assert len(held) == 2
    finally:
        for store in stores:
            store.close()


class _OverQuota(Exception):
    pass


def test_concurrent_policy_puts_are_admitted_one_at_a_time(store_url: str) -> None:
    """Each of several stores puts a policy of its own name on one user at once, admitted only
    while the user holds fewer than two others: every admission sees the policies put before
    it, so exactly two are stored (a count read outside the write let them all in)."""
    user = _iam_user("quota", "AIDAQUOTA")
    stores = [open_test_store(store_url) for _ in range(6)]
    try:
        stores[0].create_user(user)

        def fewer_than_two(others: object) -> None:
            if len(others) >= 2:  # type: ignore[arg-type]
                raise _OverQuota()

        def put(index: int, store: Store) -> str:
            policy = InlinePolicy("user", user.user_id, f"p{index}", "{}")
            try:
                store.put_policy(policy, admit=fewer_than_two)
                return "put"
            except _OverQuota:
                return "refused"

        assert sorted(_at_once(stores, put)) == ["put"] * 2 + ["refused"] * 4
        assert len(stores[0].list_policies("user", user.user_id)) == 2
        # Replacing a stored policy is admitted against the others only.
        stored = stores[0].list_policies("user", user.user_id)[0]
        seen: list[object] = []
        stores[0].put_policy(stored, admit=seen.append)
        assert [[p.policy_name for p in others] for others in seen] == [  # type: ignore[attr-defined]
            [p.policy_name for p in stores[0].list_policies("user", user.user_id) if p != stored]
        ]
    finally:
        for store in stores:
            store.close()


def test_bindings_belong_to_the_role_id_not_its_arn(store: Store) -> None:
    from tests.store.test_conformance import _instance, _user

    store.create_instance(_instance(), [])
    store.create_connect_user(_user("agent1"))
    arn = f"arn:aws:iam::{ACCT}:role/Federation"
    old, new = (
        RoleBinding("i-1", "u-agent1", arn, "AROAOLD", 1.0),
        RoleBinding("i-1", "u-agent1", arn, "AROANEW", 2.0),
    )
    assert store.bind_role(old, allow_many=False)
    assert not store.bind_role(new, allow_many=False)  # same ARN, another principal
    assert store.bind_role(new, allow_many=True)
    assert store.list_role_bindings("i-1", "u-agent1") == [old, new]


def test_secrets_round_trip_and_open_only_with_their_master_key(store_url: str) -> None:
    first = open_test_store(store_url)
    session = Session(
        "ASIA1",
        "session-secret",
        "h",
        ACCT,
        "arn:r",
        "AROA1",
        "R",
        "agent1",
        "AssumeRole",
        1.0,
        2.0,
    )
    try:
        first.create_access_key(_key("AKIAROOT", None))
        first.create_session(session)
        assert first.meta_secret_setdefault("hmac", "first") == "first"
        assert first.meta_secret_setdefault("hmac", "second") == "first"
    finally:
        first.close()
    with pytest.raises(MasterKeyError, match="does not match this database"):
        open_store(store_url, StaticKey(b"w" * 32, "a wrong key"))
    again = open_store(store_url, TEST_KEY)
    try:
        key = again.get_access_key("AKIAROOT")
        assert key is not None and key.secret_access_key == "secret-of-AKIAROOT"
        assert again.get_session("ASIA1") == session
        assert again.meta_secret_setdefault("hmac", "third") == "first"
        assert again.meta_get("hmac") != "first"  # stored sealed
    finally:
        again.close()


def test_migration_4_moves_rows_to_unique_ids_and_seals_old_secrets(store_url: str) -> None:
    db = raw_database(store_url)
    try:
        migrate(db, MIGRATIONS[:3])  # a database written by the version before migration 4
        with db.transaction() as tx:
            tx.execute(
                "INSERT INTO iam_users VALUES (?, 'alice', 'Alice', 'AIDAA', '/', ?, 1)",
                (ACCT, f"arn:aws:iam::{ACCT}:user/Alice"),
            )
            tx.execute(
                "INSERT INTO roles VALUES (?, 'r', 'R', 'AROAR', '/', ?, '{}', 3600, NULL, 1)",
                (ACCT, f"arn:aws:iam::{ACCT}:role/R"),
            )
            for key_id, user_name in (
                ("AKIAA", "Alice"),
                ("AKIAORPHAN", "gone"),
                ("AKIAROOT", None),
            ):
                tx.execute(
                    "INSERT INTO access_keys VALUES (?, ?, ?, ?, 'Active', 1)",
                    (key_id, f"plain-{key_id}", ACCT, user_name),
                )
            for kind, owner in (("user", "alice"), ("role", "r"), ("user", "gone")):
                tx.execute(
                    "INSERT INTO inline_policies VALUES (?, ?, ?, ?, 'p', '{}')",
                    (kind, ACCT, owner, owner),
                )
            for arn in (f"arn:aws:iam::{ACCT}:role/R", f"arn:aws:iam::{ACCT}:role/Deleted"):
                tx.execute("INSERT INTO role_bindings VALUES ('i-1', 'u-1', ?, 1)", (arn,))
            tx.execute(
                "INSERT INTO sts_sessions VALUES ('ASIA1', 'plain-session', 'h', ?,"
                " 'arn', 'AROAR', 'R', 's', 'AssumeRole', 1, 2, 0)",
                (ACCT,),
            )
    finally:
        db.close()
    store = open_test_store(store_url)
    try:
        assert [k.access_key_id for k in store.list_access_keys(ACCT, "AIDAA")] == ["AKIAA"]
        assert store.get_access_key("AKIAORPHAN") is None  # its user was gone
        root = store.get_access_key("AKIAROOT")
        assert root is not None and root.secret_access_key == "plain-AKIAROOT"
        session = store.get_session("ASIA1")
        assert session is not None and session.secret_access_key == "plain-session"
        assert [p.policy_name for p in store.list_policies("user", "AIDAA")] == ["p"]
        assert [p.policy_name for p in store.list_policies("role", "AROAR")] == ["p"]
        assert [b.role_id for b in store.list_role_bindings("i-1", "u-1")] == [
            "AROAR",
            f"deleted:arn:aws:iam::{ACCT}:role/Deleted",
        ]
    finally:
        store.close()
    db = raw_database(store_url)
    try:
        stored = [row[0] for row in db.query("SELECT secret_access_key FROM access_keys")]
        stored += [row[0] for row in db.query("SELECT secret_access_key FROM sts_sessions")]
        assert stored and not any(value.startswith("plain-") for value in stored)
    finally:
        db.close()

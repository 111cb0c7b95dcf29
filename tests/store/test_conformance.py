"""The storage conformance suite: every backend must pass it (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectfed.store import Conflict, NotFound, Store, open_store
from connectfed.store.records import (
    AccessKey,
    ConnectUser,
    IamUser,
    InlinePolicy,
    Instance,
    Profile,
    Role,
    RoleBinding,
    Session,
)
from tests.conftest import postgres_or_skip


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite://{tmp_path / 'store.db'}"
    return postgres_or_skip()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    backend = open_store(store_url)
    yield backend
    backend.close()


def _instance(instance_id: str = "i-1", alias: str = "a1") -> Instance:
    return Instance(
        instance_id,
        "123456789012",
        "us-east-1",
        f"arn:i/{instance_id}",
        alias,
        "SAML",
        "ACTIVE",
        True,
        False,
        1.0,
    )


def _user(username: str, user_id: str | None = None, instance_id: str = "i-1") -> ConnectUser:
    return ConnectUser(
        instance_id,
        user_id or f"u-{username}",
        username,
        f"arn:u/{username}",
        ("sp-1",),
        "rp-1",
        '{"FirstName": "A"}',
        '{"PhoneType": "SOFT_PHONE"}',
        None,
        None,
        1.0,
        1.0,
    )


def test_meta_setdefault_keeps_the_first_value(store: Store) -> None:
    assert store.meta_get("k") is None
    assert store.meta_setdefault("k", "one") == "one"
    assert store.meta_setdefault("k", "two") == "one"
    assert store.meta_get("k") == "one"


def test_access_keys_round_trip_and_delete(store: Store) -> None:
    key = AccessKey("AKIA1", "secret", "123456789012", None, "Active", 5.0)
    store.create_access_key(key)
    assert store.get_access_key("AKIA1") == key
    assert store.list_access_keys("123456789012", None) == [key]
    with pytest.raises(Conflict):
        store.create_access_key(key)
    store.delete_access_key("AKIA1")
    assert store.get_access_key("AKIA1") is None
    with pytest.raises(NotFound):
        store.delete_access_key("AKIA1")


def test_iam_user_names_are_unique_case_insensitively(store: Store) -> None:
    store.create_user(IamUser("123456789012", "Alice", "AIDA1", "/", "arn:alice", 1.0))
    with pytest.raises(Conflict):
        store.create_user(IamUser("123456789012", "alice", "AIDA2", "/", "arn:alice2", 1.0))
    assert store.get_user("123456789012", "ALICE") is not None
    assert store.get_user("999999999999", "Alice") is None


def test_roles_trust_update_and_delete(store: Store) -> None:
    role = Role("123456789012", "R", "AROA1", "/", "arn:r", "{}", 3600, None, 1.0)
    store.create_role(role)
    store.update_role_trust("123456789012", "r", '{"x": 1}')
    got = store.get_role("123456789012", "R")
    assert got is not None and got.trust_policy == '{"x": 1}'
    assert store.list_roles("123456789012") == [got]
    store.delete_role("123456789012", "R")
    with pytest.raises(NotFound):
        store.update_role_trust("123456789012", "R", "{}")


def test_inline_policies_upsert_list_delete(store: Store) -> None:
    store.put_policy(InlinePolicy("role", "123456789012", "R", "p", "{1}"))
    store.put_policy(InlinePolicy("role", "123456789012", "r", "p", "{2}"))
    assert [p.document for p in store.list_policies("role", "123456789012", "R")] == ["{2}"]
    assert store.get_policy("user", "123456789012", "R", "p") is None
    store.delete_policy("role", "123456789012", "R", "p")
    with pytest.raises(NotFound):
        store.delete_policy("role", "123456789012", "R", "p")


def test_sessions_round_trip(store: Store) -> None:
    session = Session(
        "ASIA1", "s", "h", "123456789012", "arn:r", "AROA1", "R", "agent1", "AssumeRole", 1.0, 2.0
    )
    store.create_session(session)
    assert store.get_session("ASIA1") == session
    assert store.get_session("ASIA2") is None


def test_instance_with_profiles_and_unique_alias(store: Store) -> None:
    profile = Profile("i-1", "security", "sp-1", "Agent", "arn:sp")
    store.create_instance(_instance(), [profile])
    assert store.get_instance("i-1") == _instance()
    assert store.list_profiles("i-1", "security") == [profile]
    assert store.list_profiles("i-1", "routing") == []
    with pytest.raises(Conflict):
        store.create_instance(_instance("i-2", "a1"), [])
    assert store.get_instance("i-2") is None  # the failed create left nothing behind
    assert store.list_instances("123456789012") == [_instance()]


def test_deleting_an_instance_removes_what_it_owns(store: Store) -> None:
    store.create_instance(_instance(), [Profile("i-1", "routing", "rp-1", "Basic", "arn")])
    store.create_connect_user(_user("agent1"))
    store.delete_instance("i-1")
    assert store.get_instance("i-1") is None
    assert store.find_connect_user("i-1", "agent1") is None
    assert store.list_profiles("i-1", "routing") == []
    with pytest.raises(NotFound):
        store.delete_instance("i-1")


def test_connect_users_unique_username_exact_case_and_pagination(store: Store) -> None:
    store.create_instance(_instance(), [])
    for name in ("carol", "alice", "bob", "Alice"):
        store.create_connect_user(_user(name))
    with pytest.raises(Conflict):
        store.create_connect_user(_user("alice", "other-id"))
    found = store.find_connect_user("i-1", "alice")
    assert found is not None and found.username == "alice"
    assert found.security_profile_ids == ("sp-1",)
    first = store.list_connect_users("i-1", None, 2)
    rest = store.list_connect_users("i-1", first[-1].username, 10)
    assert [u.username for u in first + rest] == sorted(["carol", "alice", "bob", "Alice"])


def test_update_identity_and_delete_user(store: Store) -> None:
    store.create_instance(_instance(), [])
    store.create_connect_user(_user("agent1"))
    store.update_connect_user_identity("i-1", "u-agent1", '{"FirstName": "B"}', 9.0)
    user = store.get_connect_user("i-1", "u-agent1")
    assert user is not None and user.identity_info == '{"FirstName": "B"}' and user.modified == 9.0
    store.delete_connect_user("i-1", "u-agent1")
    with pytest.raises(NotFound):
        store.update_connect_user_identity("i-1", "u-agent1", "{}", 1.0)


def test_one_role_per_user_unless_many_allowed(store: Store) -> None:
    store.create_instance(_instance(), [])
    store.create_connect_user(_user("agent1"))
    first = RoleBinding("i-1", "u-agent1", "arn:role/a", 1.0)
    second = RoleBinding("i-1", "u-agent1", "arn:role/b", 2.0)
    assert store.bind_role(first, allow_many=False)
    assert store.bind_role(first, allow_many=False)  # binding again is fine
    assert not store.bind_role(second, allow_many=False)
    assert store.bind_role(second, allow_many=True)
    assert [b.role_arn for b in store.list_role_bindings("i-1", "u-agent1")] == [
        "arn:role/a",
        "arn:role/b",
    ]


def test_concurrent_first_bindings_have_one_winner(store_url: str) -> None:
    stores = [open_store(store_url) for _ in range(4)]
    try:
        stores[0].create_instance(_instance(), [])
        stores[0].create_connect_user(_user("agent1"))
        results: list[bool] = []
        barrier = threading.Barrier(len(stores))

        def bind(index: int) -> None:
            barrier.wait()
            results.append(
                stores[index].bind_role(
                    RoleBinding("i-1", "u-agent1", f"arn:role/{index}", 1.0), allow_many=False
                )
            )

        threads = [threading.Thread(target=bind, args=(i,)) for i in range(len(stores))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results) == [False, False, False, True]
        assert len(stores[0].list_role_bindings("i-1", "u-agent1")) == 1
    finally:
        for backend in stores:
            backend.close()


def test_data_survives_reopening(store_url: str) -> None:
    first = open_store(store_url)
    first.create_access_key(AccessKey("AKIA9", "s", "123456789012", None, "Active", 1.0))
    first.close()
    second = open_store(store_url)
    try:
        assert second.get_access_key("AKIA9") is not None
    finally:
        second.close()


def test_saml_providers_round_trip(store: Store) -> None:
    from connectfed.store.records import SamlProvider

    provider = SamlProvider("123456789012", "Okta", "arn:aws:iam::123456789012:saml-provider/Okta",
                            "<md/>", "https://idp", 1.0, None)
    store.create_saml_provider(provider)
    with pytest.raises(Conflict):
        store.create_saml_provider(provider)
    assert store.get_saml_provider(provider.arn) == provider
    assert store.list_saml_providers("123456789012") == [provider]
    store.update_saml_provider(provider.arn, "<md2/>", "https://idp2")
    updated = store.get_saml_provider(provider.arn)
    assert updated is not None and updated.entity_id == "https://idp2"
    store.delete_saml_provider(provider.arn)
    with pytest.raises(NotFound):
        store.delete_saml_provider(provider.arn)


def test_an_assertion_is_remembered_once_even_concurrently(store_url: str) -> None:
    stores = [open_store(store_url) for _ in range(6)]
    try:
        results: list[bool] = []
        barrier = threading.Barrier(len(stores))

        def use(index: int) -> None:
            barrier.wait()
            results.append(stores[index].remember_assertion("idp|_a1", 100.0, 1.0))

        threads = [threading.Thread(target=use, args=(i,)) for i in range(len(stores))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results) == [False] * 5 + [True]
        assert stores[0].remember_assertion("idp|_a2", 100.0, 1.0)
    finally:
        for backend in stores:
            backend.close()


def test_signin_states_are_taken_once_and_expire(store: Store) -> None:
    store.put_signin_state("s1", '{"a": 1}', 100.0)
    assert store.take_signin_state("s1", 50.0) == '{"a": 1}'
    assert store.take_signin_state("s1", 50.0) is None
    store.put_signin_state("s2", "{}", 10.0)
    assert store.take_signin_state("s2", 50.0) is None

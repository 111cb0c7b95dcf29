"""The storage conformance suite: every backend must pass it (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import replace

import pytest

from connectfed.store import Conflict, NotFound, Store
from connectfed.store.records import (
    AccessKey,
    ConnectUser,
    IamUser,
    InlinePolicy,
    Instance,
    Profile,
    Role,
    RoleBinding,
    SamlPrivateKey,
    SamlProvider,
    SamlSubject,
    Session,
    SessionTag,
)
from connectfed.store.schema import MIGRATIONS
from connectfed.store.sql import migrate
from tests.store.conftest import open_test_store as _open
from tests.store.conftest import raw_database


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
    store.create_role(Role("123456789012", "R", "AROA1", "/", "arn:r", "{}", 3600, None, 1.0))
    store.put_policy(InlinePolicy("role", "AROA1", "p", "{1}"))
    store.put_policy(InlinePolicy("role", "AROA1", "p", "{2}"))
    assert [p.document for p in store.list_policies("role", "AROA1")] == ["{2}"]
    assert store.get_policy("role", "AROA1", "p") == InlinePolicy("role", "AROA1", "p", "{2}")
    assert store.get_policy("user", "AROA1", "p") is None
    store.delete_policy("role", "AROA1", "p")
    with pytest.raises(NotFound):
        store.delete_policy("role", "AROA1", "p")


def test_sessions_round_trip(store: Store) -> None:
    session = Session(
        "ASIA1", "s", "h", "123456789012", "arn:r", "AROA1", "R", "agent1", "AssumeRole", 1.0, 2.0
    )
    store.create_session(session)
    assert store.get_session("ASIA1") == session
    assert store.get_session("ASIA2") is None
    narrowed = dataclasses.replace(session, access_key_id="ASIA3", session_policy='{"x": 1}')
    store.create_session(narrowed)
    assert store.get_session("ASIA3") == narrowed


def test_session_tags_and_source_identity_round_trip(store: Store) -> None:
    """Tags keep their order, case, transitive flag and any Unicode letter; an empty value is
    a value (not a missing tag)."""
    tags = (
        SessionTag("Department", "Engineering", transitive=True),
        SessionTag("cost-center", ""),
        SessionTag("Ünïcode Ключ", "値 1/2=+@:_.", transitive=False),
    )
    session = Session(
        "ASIA4",
        "s",
        "h",
        "123456789012",
        "arn:r",
        "AROA1",
        "R",
        "agent1",
        "AssumeRoleWithSAML",
        1.0,
        2.0,
        tags=tags,
        source_identity="alice@example.com",
    )
    store.create_session(session)
    assert store.get_session("ASIA4") == session
    bare = dataclasses.replace(session, access_key_id="ASIA5", tags=(), source_identity=None)
    store.create_session(bare)
    loaded = store.get_session("ASIA5")
    assert loaded is not None and (loaded.tags, loaded.source_identity) == ((), None)


def test_a_saml_sessions_subject_round_trips(store: Store) -> None:
    subject = SamlSubject("agent@example.com", "persistent", "Hx9/+qualifier=")
    session = Session(
        "ASIA6",
        "s",
        "h",
        "123456789012",
        "arn:r",
        "AROA1",
        "R",
        "agent1",
        "AssumeRoleWithSAML",
        1.0,
        2.0,
        saml_subject=subject,
    )
    store.create_session(session)
    assert store.get_session("ASIA6") == session
    store.create_session(dataclasses.replace(session, access_key_id="ASIA7", saml_subject=None))
    loaded = store.get_session("ASIA7")
    assert loaded is not None and loaded.saml_subject is None


def test_sessions_stored_before_session_tags_read_without_tags(store_url: str) -> None:
    db = raw_database(store_url)
    migrate(db, MIGRATIONS[:14])
    with db.transaction() as tx:
        tx.execute(
            "INSERT INTO sts_sessions (access_key_id, secret_access_key, token_hash, account_id,"
            " role_arn, role_id, role_name, session_name, source, created, expiration, revoked,"
            " session_policy) VALUES ('ASIAOLD', 'old-secret', 'h', '123456789012', 'arn:r',"
            " 'AROA1', 'R', 'agent1', 'AssumeRole', 1.0, 2.0, 0, NULL)"
        )
    db.close()
    upgraded = _open(store_url)
    try:
        session = upgraded.get_session("ASIAOLD")
        assert session is not None
        assert (session.tags, session.source_identity) == ((), None)
        assert session.saml_subject is None
        assert session.secret_access_key == "old-secret"
    finally:
        upgraded.close()


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


def test_an_alias_is_taken_in_any_case(store: Store) -> None:
    # An alias names the instance's host (<alias>.my.connect.aws): DNS knows no case.
    store.create_instance(_instance("i-1", "Sales-Team"), [])
    with pytest.raises(Conflict):
        store.create_instance(_instance("i-2", "sales-TEAM"), [])
    assert store.get_instance("i-2") is None
    store.delete_instance("i-1")
    store.create_instance(_instance("i-2", "sales-team"), [])  # free again once deleted
    assert store.get_instance("i-2") == _instance("i-2", "sales-team")


def test_aliases_stored_in_two_cases_before_the_rule_both_survive_the_upgrade(
    store_url: str,
) -> None:
    # Databases made before aliases were compared without case may hold both; the upgrade
    # keeps both (neither loses its instance) and the older holds the alias from then on.
    db = raw_database(store_url)
    migrate(db, MIGRATIONS[:19])
    with db.transaction() as tx:
        for iid, alias, created in (("i-old", "Team", 1.0), ("i-new", "TEAM", 2.0)):
            tx.execute(
                "INSERT INTO instances (instance_id, account_id, region, arn, alias,"
                " identity_management_type, status, inbound_calls, outbound_calls, created)"
                " VALUES (?, '123456789012', 'us-east-1', 'arn', ?, 'SAML', 'ACTIVE', 1, 0, ?)",
                (iid, alias, created),
            )
    db.close()
    upgraded = _open(store_url)
    try:
        assert {i.alias for i in upgraded.list_instances("123456789012")} == {"Team", "TEAM"}
        with pytest.raises(Conflict):
            upgraded.create_instance(_instance("i-3", "team"), [])
        upgraded.delete_instance("i-old")
        with pytest.raises(Conflict):  # "TEAM" still holds it
            upgraded.create_instance(_instance("i-3", "team"), [])
    finally:
        upgraded.close()


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


def test_update_phone_config(store: Store) -> None:
    store.create_instance(_instance(), [])
    store.create_connect_user(_user("agent1"))
    phone = '{"PhoneType": "DESK_PHONE", "DeskPhoneNumber": "+15550100"}'
    store.update_connect_user_phone_config("i-1", "u-agent1", phone, 9.0)
    user = store.get_connect_user("i-1", "u-agent1")
    assert user is not None and user.phone_config == phone and user.modified == 9.0
    with pytest.raises(NotFound):
        store.update_connect_user_phone_config("i-1", "u-nobody", "{}", 1.0)


def test_one_role_per_user_unless_many_allowed(store: Store) -> None:
    store.create_instance(_instance(), [])
    store.create_connect_user(_user("agent1"))
    first = RoleBinding("i-1", "u-agent1", "arn:role/a", "AROAA", 1.0)
    second = RoleBinding("i-1", "u-agent1", "arn:role/b", "AROAB", 2.0)
    assert store.bind_role(first, allow_many=False)
    assert store.bind_role(first, allow_many=False)  # binding again is fine
    assert not store.bind_role(second, allow_many=False)
    assert store.bind_role(second, allow_many=True)
    assert [b.role_arn for b in store.list_role_bindings("i-1", "u-agent1")] == [
        "arn:role/a",
        "arn:role/b",
    ]


def test_concurrent_first_bindings_have_one_winner(store_url: str) -> None:
    stores = [_open(store_url) for _ in range(4)]
    try:
        stores[0].create_instance(_instance(), [])
        stores[0].create_connect_user(_user("agent1"))
        results: list[bool] = []
        barrier = threading.Barrier(len(stores))

        def bind(index: int) -> None:
            barrier.wait()
            results.append(
                stores[index].bind_role(
                    RoleBinding("i-1", "u-agent1", f"arn:role/{index}", f"AROA{index}", 1.0),
                    allow_many=False,
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
    first = _open(store_url)
    first.create_access_key(AccessKey("AKIA9", "s", "123456789012", None, "Active", 1.0))
    first.close()
    second = _open(store_url)
    try:
        key = second.get_access_key("AKIA9")
        assert key is not None and key.secret_access_key == "s"
    finally:
        second.close()


def test_saml_providers_round_trip(store: Store) -> None:
    from connectfed.store.records import SamlProvider

    provider = SamlProvider(
        "123456789012",
        "Okta",
        "arn:aws:iam::123456789012:saml-provider/Okta",
        "<md/>",
        "https://idp",
        1.0,
        None,
    )
    store.create_saml_provider(provider)
    with pytest.raises(Conflict):
        store.create_saml_provider(provider)
    assert store.get_saml_provider(provider.arn) == provider
    assert store.list_saml_providers("123456789012") == [provider]
    store.update_saml_provider(
        provider.arn,
        lambda p: replace(p, metadata_document="<md2/>", entity_id="https://idp2", valid_until=5.0),
    )
    updated = store.get_saml_provider(provider.arn)
    assert updated == replace(
        provider, metadata_document="<md2/>", entity_id="https://idp2", valid_until=5.0
    )
    store.delete_saml_provider(provider.arn)
    with pytest.raises(NotFound):
        store.delete_saml_provider(provider.arn)
    with pytest.raises(NotFound):
        store.update_saml_provider(provider.arn, lambda p: p)


def _saml_provider(
    name: str,
    entity_id: str = "https://idp",
    account: str = "123456789012",
    keys: tuple[SamlPrivateKey, ...] = (),
) -> SamlProvider:
    return SamlProvider(
        account,
        name,
        f"arn:aws:iam::{account}:saml-provider/{name}",
        "<md/>",
        entity_id,
        1.0,
        9.0,
        f"UUID{name.upper()}0000000000000000000",
        "Allowed",
        keys,
    )


def test_saml_provider_private_keys_and_encryption_mode(store: Store) -> None:
    first = SamlPrivateKey("KEYAAAAAAAAAAAAAAAAAAAAA", "-----BEGIN PRIVATE KEY-----A", 2.0)
    second = SamlPrivateKey("KEYBBBBBBBBBBBBBBBBBBBBB", "-----BEGIN PRIVATE KEY-----B", 3.0)
    provider = _saml_provider("Enc", keys=(first,))
    store.create_saml_provider(provider)
    assert store.get_saml_provider(provider.arn) == provider
    store.update_saml_provider(
        provider.arn,
        lambda p: replace(p, encryption_mode="Required", private_keys=(*p.private_keys, second)),
    )
    rolled = store.get_saml_provider(provider.arn)
    assert rolled is not None and rolled.private_keys == (first, second)
    assert rolled.encryption_mode == "Required"
    store.update_saml_provider(provider.arn, lambda p: replace(p, private_keys=(second,)))
    assert store.get_saml_provider(provider.arn) == replace(
        provider, encryption_mode="Required", private_keys=(second,)
    )
    assert store.list_saml_providers("123456789012")[0].private_keys == (second,)


def test_a_failing_saml_updater_changes_nothing(store: Store) -> None:
    provider = _saml_provider("Abort")
    store.create_saml_provider(provider)

    def refuse(p: SamlProvider) -> SamlProvider:
        raise ValueError("no")

    with pytest.raises(ValueError):
        store.update_saml_provider(provider.arn, refuse)
    assert store.get_saml_provider(provider.arn) == provider


def test_deleted_saml_provider_keys_are_gone_when_recreated(store: Store) -> None:
    key = SamlPrivateKey("KEYCCCCCCCCCCCCCCCCCCCCC", "pem", 2.0)
    provider = _saml_provider("Again", keys=(key,))
    store.create_saml_provider(provider)
    store.delete_saml_provider(provider.arn)
    store.create_saml_provider(replace(provider, private_keys=()))
    again = store.get_saml_provider(provider.arn)
    assert again is not None and again.private_keys == ()


def test_find_saml_providers_by_entity_id_across_accounts(store: Store) -> None:
    ours = _saml_provider("Ours", "https://shared.idp")
    theirs = _saml_provider("Theirs", "https://shared.idp", account="210987654321")
    other = _saml_provider("Other", "https://other.idp")
    for provider in (ours, theirs, other):
        store.create_saml_provider(provider)
    found = store.find_saml_providers("https://shared.idp")
    assert sorted(p.arn for p in found) == sorted([ours.arn, theirs.arn])
    assert store.find_saml_providers("https://nobody.idp") == []


def test_concurrent_saml_key_additions_respect_the_updater(store_url: str) -> None:
    """Read-modify-write is serialised: with a limit of two keys, exactly two of six win."""
    setup = _open(store_url)
    provider = _saml_provider("Race")
    setup.create_saml_provider(provider)
    stores = [_open(store_url) for _ in range(6)]
    try:
        outcomes: list[str] = []
        barrier = threading.Barrier(len(stores))

        def add(index: int) -> None:
            key = SamlPrivateKey(f"KEY{index:021d}", "pem", float(index))

            def updater(p: SamlProvider) -> SamlProvider:
                if len(p.private_keys) >= 2:
                    raise ValueError("full")
                return replace(p, private_keys=(*p.private_keys, key))

            barrier.wait()
            try:
                stores[index].update_saml_provider(provider.arn, updater)
                outcomes.append("ok")
            except ValueError:
                outcomes.append("full")

        threads = [threading.Thread(target=add, args=(i,)) for i in range(len(stores))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["full"] * 4 + ["ok"] * 2
        final = setup.get_saml_provider(provider.arn)
        assert final is not None and len(final.private_keys) == 2
    finally:
        for backend in stores:
            backend.close()
        setup.close()


def test_an_assertion_is_remembered_once_even_concurrently(store_url: str) -> None:
    stores = [_open(store_url) for _ in range(6)]
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

"""Conformance: a browser sign-in's writes in one transaction (``Store.create_signin``): the
assertion's first use, the STS session and the console token's family, all or nothing, and a
replay (concurrent ones included, across stores sharing a database) writes nothing."""

from __future__ import annotations

import threading

import pytest

from connectfed.store import Conflict, Store
from connectfed.store.records import AssertionUse, Session, Token, TokenFamily
from tests.store.conftest import open_test_store as _open


def _session(key_id: str) -> Session:
    return Session(
        key_id, "secret", "h", "123456789012", "arn:r", "AROA1", "R", "agent1", "SAML", 1.0, 90.0
    )


def _family(family_id: str, key_id: str) -> TokenFamily:
    console = Token(f"hash-{family_id}", "k0", "console", family_id, "active", 1.0, 90.0)
    return TokenFamily(family_id, "", "", key_id, "arn:r", 1.0, 90.0, None, (console,))


USE = AssertionUse("idp|_a1", 100.0, 1.0)


def test_a_first_use_writes_the_session_and_the_family(store: Store) -> None:
    session, family = _session("ASIA1"), _family("f1", "ASIA1")
    assert store.create_signin(session, family, USE)
    assert store.get_session("ASIA1") == session
    assert store.get_token_family("f1") == family
    assert not store.remember_assertion(USE.key, USE.expires, USE.now)  # remembered


def test_a_replay_writes_nothing(store: Store) -> None:
    assert store.create_signin(_session("ASIA1"), _family("f1", "ASIA1"), USE)
    assert not store.create_signin(_session("ASIA2"), _family("f2", "ASIA2"), USE)
    assert store.get_session("ASIA2") is None
    assert store.get_token_family("f2") is None


def test_an_assertion_remembered_before_is_a_replay(store: Store) -> None:
    assert store.remember_assertion(USE.key, USE.expires, USE.now)
    assert not store.create_signin(_session("ASIA1"), _family("f1", "ASIA1"), USE)
    assert store.get_session("ASIA1") is None
    assert store.get_token_family("f1") is None


def test_without_an_assertion_it_writes_both(store: Store) -> None:
    assert store.create_signin(_session("ASIA1"), _family("f1", "ASIA1"))
    assert store.get_session("ASIA1") is not None
    assert store.get_token_family("f1") is not None


def test_expired_entries_are_purged_with_a_first_use(store: Store) -> None:
    assert store.remember_assertion("idp|_old", 5.0, 1.0)
    later = AssertionUse("idp|_a2", 100.0, 10.0)
    assert store.create_signin(_session("ASIA1"), _family("f1", "ASIA1"), later)
    assert store.remember_assertion("idp|_old", 20.0, 10.0)  # forgotten: past its expiry


def test_it_is_all_or_nothing(store: Store) -> None:
    store.create_token_family(_family("f1", "ASIA0"))
    with pytest.raises(Conflict):
        store.create_signin(_session("ASIA1"), _family("f1", "ASIA1"), USE)
    assert store.get_session("ASIA1") is None
    assert store.remember_assertion(USE.key, USE.expires, USE.now)  # not spent


def test_concurrent_sign_ins_with_one_assertion_give_one_session(store_url: str) -> None:
    stores = [_open(store_url) for _ in range(6)]
    try:
        results: list[tuple[int, bool]] = []
        barrier = threading.Barrier(len(stores))

        def sign_in(index: int) -> None:
            key_id = f"ASIA{index}"
            barrier.wait()
            written = stores[index].create_signin(
                _session(key_id), _family(f"f{index}", key_id), USE
            )
            results.append((index, written))

        threads = [threading.Thread(target=sign_in, args=(i,)) for i in range(len(stores))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(written for _, written in results) == [False] * 5 + [True]
        for index, written in results:
            assert (stores[0].get_session(f"ASIA{index}") is not None) is written
            assert (stores[0].get_token_family(f"f{index}") is not None) is written
    finally:
        for backend in stores:
            backend.close()

"""The storage conformance suite, token part: families, tokens, updaters, races, gc, meta
updates and the migration that kept existing tokens (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from connectfed.store import Conflict, Store
from connectfed.store.records import Token, TokenChange, TokenFamily
from connectfed.store.schema import MIGRATIONS
from connectfed.store.sql import migrate
from tests.store.conftest import open_test_store
from tests.store.test_conformance import _instance, _user


def _family(
    family_id: str = "f1",
    expires: float = 100.0,
    user_id: str = "u-agent1",
    instance_id: str = "i-1",
) -> TokenFamily:
    return TokenFamily(family_id, instance_id, user_id, "ASIA1", "arn:role/r", 1.0, expires)


def _token(
    token_hash: str,
    kind: str = "refresh",
    family_id: str = "f1",
    expires: float = 50.0,
    key_id: str = "k0",
) -> Token:
    return Token(token_hash, key_id, kind, family_id, "active", 1.0, expires)


def _race(store_url: str, count: int, work: Callable[[Store], bool]) -> list[bool]:
    """Run ``work`` at once on ``count`` separate store connections; their results."""
    stores = [open_test_store(store_url) for _ in range(count)]
    results: list[bool] = []
    barrier = threading.Barrier(count)

    def run(index: int) -> None:
        barrier.wait()
        results.append(work(stores[index]))

    try:
        threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for backend in stores:
            backend.close()
    return results


def test_a_family_and_its_tokens_round_trip(store: Store) -> None:
    family, tokens = _family(), [_token("h1", "access"), _token("h2")]
    store.create_token_family(family, tokens)
    assert store.get_token_family("f1") == family
    assert store.find_token(["nope", "h2"]) == (tokens[1], family)
    assert store.find_token(["nope"]) is None
    assert store.find_token([]) is None
    with pytest.raises(Conflict):
        store.create_token_family(_family("f2"), [_token("h1", family_id="f2")])
    assert store.get_token_family("f2") is None  # all or nothing


def test_tokens_are_added_only_to_a_live_family(store: Store) -> None:
    store.create_token_family(_family(expires=100.0), [])
    assert store.add_tokens("f1", [_token("h1", "session")], now=10.0)
    assert store.find_token(["h1"]) is not None
    assert not store.add_tokens("f1", [_token("h2")], now=100.0)  # at the horizon
    assert not store.add_tokens("missing", [_token("h3", family_id="missing")], now=10.0)
    assert store.revoke_token_family("f1", "sign-out")
    assert not store.revoke_token_family("f1", "again")  # already revoked
    assert not store.add_tokens("f1", [_token("h4")], now=10.0)
    assert store.find_token(["h2", "h3", "h4"]) is None
    revoked = store.get_token_family("f1")
    assert revoked is not None and revoked.revoked == "sign-out"


def test_update_token_applies_the_updaters_change_in_one_step(store: Store) -> None:
    store.create_token_family(_family(), [_token("h1")])
    seen: list[Token] = []

    def rotate(token: Token, family: TokenFamily) -> TokenChange:
        seen.append(token)
        return TokenChange("used", 5.0, insert=(_token("h2"), _token("h3", "access")))

    after = store.update_token("h1", rotate)
    assert after is not None and after[0].state == "used" and after[0].spent == 5.0
    assert seen[0].state == "active"
    assert store.find_token(["h1"]) == after
    assert store.find_token(["h3"]) is not None

    def reuse(token: Token, family: TokenFamily) -> TokenChange:
        return TokenChange(token.state, token.spent, revoke_family="refresh-token-reuse")

    after = store.update_token("h1", reuse)
    assert after is not None and after[1].revoked == "refresh-token-reuse"
    family = store.get_token_family("f1")
    assert family is not None and family.revoked == "refresh-token-reuse"


def test_update_token_changes_nothing_when_the_updater_refuses(store: Store) -> None:
    store.create_token_family(_family(), [_token("h1")])

    def refuse(token: Token, family: TokenFamily) -> TokenChange:
        raise LookupError("no")

    with pytest.raises(LookupError):
        store.update_token("h1", refuse)
    assert store.update_token("h1", lambda t, f: None) == store.find_token(["h1"])
    found = store.find_token(["h1"])
    assert found is not None and found[0].state == "active"
    called: list[bool] = []
    assert store.update_token("nope", lambda t, f: called.append(True)) is None
    assert called == []


def test_a_single_use_token_has_exactly_one_winner(store_url: str) -> None:
    setup = open_test_store(store_url)
    setup.create_token_family(_family(), [_token("code", "signin")])
    setup.close()

    def spend(backend: Store) -> bool:
        def once(token: Token, family: TokenFamily) -> TokenChange:
            if token.state != "active":
                raise LookupError("spent")
            return TokenChange("used", 2.0)

        try:
            return backend.update_token("code", once) is not None
        except LookupError:
            return False

    assert sorted(_race(store_url, 4, spend)) == [False, False, False, True]


def test_a_refresh_token_rotates_once_and_losers_see_it_rotated(store_url: str) -> None:
    setup = open_test_store(store_url)
    setup.create_token_family(_family(), [_token("r0")])
    setup.close()
    successors = iter(range(100))
    lock = threading.Lock()

    def rotate(backend: Store) -> bool:
        won = False

        def once(token: Token, family: TokenFamily) -> TokenChange:
            nonlocal won
            if token.state == "used":  # presented after its rotation: reuse
                won = False
                return TokenChange("used", token.spent, revoke_family="refresh-token-reuse")
            with lock:
                name = f"r-next-{next(successors)}"
            won = True
            return TokenChange("used", 2.0, insert=(_token(name),))

        backend.update_token("r0", once)
        return won

    assert sorted(_race(store_url, 4, rotate)) == [False, False, False, True]
    check = open_test_store(store_url)
    try:
        family = check.get_token_family("f1")
        assert family is not None and family.revoked == "refresh-token-reuse"
        found = [check.find_token([f"r-next-{i}"]) for i in range(8)]
        assert len([f for f in found if f is not None]) == 1  # one successor, no more
    finally:
        check.close()


def test_revoking_a_users_families_leaves_others_alone(store: Store) -> None:
    store.create_token_family(_family("f1"), [])
    store.create_token_family(_family("f2"), [])
    store.create_token_family(_family("f3", user_id="u-agent2"), [])
    assert store.revoke_user_token_families("i-1", "u-agent1", "user-deleted") == 2
    assert store.revoke_user_token_families("i-1", "u-agent1", "again") == 0
    third = store.get_token_family("f3")
    assert third is not None and third.revoked is None


def test_deleting_the_user_or_the_instance_ends_its_families(store: Store) -> None:
    store.create_instance(_instance(), [])
    store.create_connect_user(_user("agent1"))
    store.create_token_family(_family("f1"), [_token("h1")])
    store.delete_connect_user("i-1", "u-agent1")
    family = store.get_token_family("f1")
    assert family is not None and family.revoked == "user-deleted"
    store.delete_instance("i-1")
    assert store.get_token_family("f1") is None
    assert store.find_token(["h1"]) is None


def test_gc_removes_what_expired_and_keeps_the_rest(store: Store) -> None:
    store.create_token_family(_family("old", expires=10.0), [_token("o1", expires=10.0)])
    store.create_token_family(
        _family("live", expires=100.0),
        [
            _token("expired", family_id="live", expires=20.0),
            _token("used", family_id="live", expires=80.0),
            _token("fresh", family_id="live", expires=90.0),
        ],
    )
    store.update_token("used", lambda t, f: TokenChange("used", 15.0))
    store.put_signin_state("stale", "{}", 20.0)
    store.put_signin_state("pending", "{}", 60.0)
    assert store.gc_tokens(30.0) == 4  # two tokens, one family, one state
    assert store.get_token_family("old") is None
    assert store.find_token(["o1", "expired"]) is None
    assert store.find_token(["used"]) is not None  # kept for reuse detection until it expires
    assert store.find_token(["fresh"]) is not None
    assert store.take_signin_state("pending", 30.0) == "{}"
    assert store.gc_tokens(30.0) == 0


def test_update_meta_creates_then_updates(store: Store) -> None:
    assert store.update_meta("ring", lambda old: (old or "") + "a") == "a"
    assert store.update_meta("ring", lambda old: (old or "") + "b") == "ab"
    assert store.meta_get("ring") == "ab"


def test_concurrent_meta_updates_are_none_lost(store_url: str) -> None:
    def bump(backend: Store) -> bool:
        backend.update_meta("counter", lambda old: str(int(old or "0") + 1))
        return True

    assert len(_race(store_url, 5, bump)) == 5
    check = open_test_store(store_url)
    try:
        assert check.meta_get("counter") == "5"
    finally:
        check.close()


def test_tokens_issued_before_the_token_migration_survive_it(
    store_url: str, tmp_path: Path
) -> None:
    if store_url.startswith("sqlite:"):
        from connectfed.store.sqlite import SqliteDatabase

        db: object = SqliteDatabase(store_url.removeprefix("sqlite://"))
    else:
        from connectfed.store.postgres import PostgresDatabase

        db = PostgresDatabase(store_url)
    migrate(db, MIGRATIONS[:3])  # type: ignore[arg-type]
    with db.transaction() as tx:  # type: ignore[attr-defined]
        for row in (("a1", "access", 0), ("r1", "refresh", 0), ("s1", "signin", 1)):
            tx.execute(
                "INSERT INTO tokens (token_hash, kind, family_id, instance_id, user_id,"
                " session_key_id, created, expires, revoked) VALUES"
                " (?, ?, 'fam', 'i-1', 'u-1', 'ASIA1', 1.0, 99.0, ?)",
                row,
            )
    db.close()  # type: ignore[attr-defined]
    upgraded = open_test_store(store_url)
    try:
        found = upgraded.find_token(["r1"])
        assert found is not None
        token, family = found
        assert (token.key_id, token.state, token.kind) == ("k0", "active", "refresh")
        assert (family.instance_id, family.user_id, family.session_key_id) == (
            "i-1",
            "u-1",
            "ASIA1",
        )
        assert family.revoked is None and family.expires == 99.0
        code = upgraded.find_token(["s1"])
        assert code is not None and code[0].state == "used"  # "revoked" meant "used"
    finally:
        upgraded.close()

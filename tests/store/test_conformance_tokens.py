"""The storage conformance suite, token part: families and their inline tokens, tokens with rows,
updaters (an inline token's first change stores its row), races, revocation, keys, gc, meta
updates and the migrations that kept existing tokens (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from connectfed.store import Conflict, Store, sql_tokens
from connectfed.store.records import Token, TokenChange, TokenFamily
from connectfed.store.schema import MIGRATIONS
from connectfed.store.sql import migrate
from tests.store.conftest import open_test_store, raw_database
from tests.store.test_conformance import _instance, _user


def _family(
    family_id: str = "f1",
    expires: float = 100.0,
    user_id: str = "u-agent1",
    instance_id: str = "i-1",
    inline: tuple[Token, ...] = (),
) -> TokenFamily:
    return TokenFamily(
        family_id, instance_id, user_id, "ASIA1", "arn:role/r", 1.0, expires, None, inline
    )


def _token(
    token_hash: str,
    kind: str = "refresh",
    family_id: str = "f1",
    expires: float = 50.0,
    key_id: str = "k0",
) -> Token:
    """An active token: stored in its family's row when given with the family (minted with
    it), in a row of its own when created after it."""
    return Token(token_hash, key_id, kind, family_id, "active", 1.0, expires)


def _create(store: Store, family: TokenFamily, rows: tuple[Token, ...] = ()) -> None:
    """A family, and tokens with rows of their own (minted later, as by rotation)."""
    store.create_token_family(family)
    if rows:
        assert store.add_tokens(family.family_id, rows, now=0.0)


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


def test_a_family_and_its_inline_tokens_are_one_row(store: Store) -> None:
    inline = (_token("h1", "access"), _token("h2"), _token("h3", "signin", expires=6.0))
    family = _family(inline=inline)
    store.create_token_family(family)
    assert store.get_token_family("f1") == family
    assert store.find_token(["nope", "h2"], "f1") == (inline[1], family)
    assert store.find_token(["h3"], "f1") == (inline[2], family)
    assert store.find_token(["h2"]) is None  # no row of its own: found through its family only
    assert store.find_token(["h2"], "f2") is None
    assert store.find_token(["nope"], "f1") is None
    assert store.find_token([], "f1") is None
    with pytest.raises(Conflict):
        store.create_token_family(_family(inline=(_token("h9"),)))
    found = store.find_token(["h1"], "f1")
    assert found is not None and found[1].inline_tokens == inline  # the first write stands


def test_tokens_with_rows_round_trip(store: Store) -> None:
    family, rows = _family(), (_token("h1", "access"), _token("h2"))
    _create(store, family, rows)
    assert store.find_token(["nope", "h2"]) == (rows[1], family)
    assert store.find_token(["nope", "h2"], "f1") == (rows[1], family)
    assert store.find_token(["h2"], "f2") is None  # only in the family it names
    assert store.find_token(["nope"]) is None
    assert store.find_token([]) is None
    _create(store, _family("f2"))
    with pytest.raises(Conflict):
        store.add_tokens("f2", [_token("h3", family_id="f2"), _token("h1", family_id="f2")], 0.0)
    assert store.find_token(["h3"]) is None  # all or nothing


def test_tokens_are_added_only_to_a_live_family(store: Store) -> None:
    _create(store, _family(expires=100.0))
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
    _create(store, _family(), (_token("h1"),))
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

    after = store.update_token("h1", reuse, family_id="f1")
    assert after is not None and after[1].revoked == "refresh-token-reuse"
    family = store.get_token_family("f1")
    assert family is not None and family.revoked == "refresh-token-reuse"


def test_an_inline_token_changes_in_its_familys_row(store: Store) -> None:
    inline = (_token("h1"), _token("h2", "signin"))
    store.create_token_family(_family(inline=inline))
    seen: list[Token] = []

    def rotate(token: Token, family: TokenFamily) -> TokenChange:
        seen.append(token)
        return TokenChange("used", 5.0, insert=(_token("h3"), _token("h4", "access")))

    assert store.update_token("h1", rotate) is None  # it has no row: only its family finds it
    assert seen == []
    after = store.update_token("h1", rotate, family_id="f1")
    assert seen == [inline[0]]
    used = replace(inline[0], state="used", spent=5.0)
    assert after is not None and after[0] == used
    assert after[1].inline_tokens == (used, inline[1])
    assert store.find_token(["h1"], "f1") == after
    assert store.find_token(["h1"]) is None  # still no row of its own
    assert store.find_token(["h4"], "f1") is not None  # the successors have rows

    again: list[Token] = []
    store.update_token("h1", lambda t, f: again.append(t), family_id="f1")
    assert again == [used]  # the next change starts from the changed state

    def retry_within_grace(token: Token, family: TokenFamily) -> TokenChange:
        return TokenChange(token.state, token.spent, insert=(_token("h5"),))

    assert store.update_token("h1", retry_within_grace, family_id="f1") == after
    assert store.find_token(["h5"], "f1") is not None  # another successor, nothing else
    assert store.update_token("h2", lambda t, f: None, family_id="f1") == (inline[1], after[1])
    called: list[bool] = []
    assert store.update_token("nope", lambda t, f: called.append(True), family_id="f1") is None
    assert store.update_token("h2", lambda t, f: called.append(True), family_id="f2") is None
    assert called == []

    def reuse(token: Token, family: TokenFamily) -> TokenChange:
        return TokenChange(token.state, token.spent, revoke_family="refresh-token-reuse")

    revoked = store.update_token("h1", reuse, family_id="f1")
    assert revoked is not None and revoked[0] == used
    assert revoked[1].revoked == "refresh-token-reuse"
    family = store.get_token_family("f1")
    assert family is not None and family.revoked == "refresh-token-reuse"
    assert family.inline_tokens == (used, inline[1])


def test_update_token_changes_nothing_when_the_updater_refuses(store: Store) -> None:
    _create(store, _family(inline=(_token("h2", "signin"),)), (_token("h1"),))

    def refuse(token: Token, family: TokenFamily) -> TokenChange:
        raise LookupError("no")

    for token_hash in ("h1", "h2"):
        with pytest.raises(LookupError):
            store.update_token(token_hash, refuse, family_id="f1")
        assert store.update_token(token_hash, lambda t, f: None, family_id="f1") == (
            store.find_token([token_hash], "f1")
        )
        found = store.find_token([token_hash], "f1")
        assert found is not None and found[0].state == "active"
    called: list[bool] = []
    assert store.update_token("nope", lambda t, f: called.append(True)) is None
    assert called == []


@pytest.mark.parametrize("stored", ["inline", "row"])
def test_a_single_use_token_has_exactly_one_winner(store_url: str, stored: str) -> None:
    setup = open_test_store(store_url)
    if stored == "inline":
        _create(setup, _family(inline=(_token("code", "signin"),)))
    else:
        _create(setup, _family(), (_token("code", "signin"),))
    setup.close()

    def spend(backend: Store) -> bool:
        def once(token: Token, family: TokenFamily) -> TokenChange:
            if token.state != "active":
                raise LookupError("spent")
            return TokenChange("used", 2.0)

        try:
            return backend.update_token("code", once, family_id="f1") is not None
        except LookupError:
            return False

    assert sorted(_race(store_url, 4, spend)) == [False, False, False, True]
    check = open_test_store(store_url)
    try:
        found = check.find_token(["code"], "f1")
        assert found is not None and (found[0].state, found[0].spent) == ("used", 2.0)
        assert found[1].revoked is None  # the losers raised: nothing else changed
    finally:
        check.close()


@pytest.mark.parametrize("stored", ["inline", "row"])
def test_a_refresh_token_rotates_once_and_losers_see_it_rotated(
    store_url: str, stored: str
) -> None:
    setup = open_test_store(store_url)
    if stored == "inline":
        _create(setup, _family(inline=(_token("r0"),)))
    else:
        _create(setup, _family(), (_token("r0"),))
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

        backend.update_token("r0", once, family_id="f1")
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


def test_revoking_a_family_ends_its_inline_tokens_at_once(store: Store) -> None:
    _create(store, _family(inline=(_token("h1", "access"), _token("h2"))), (_token("h3"),))
    assert store.revoke_token_family("f1", "sign-out")
    for token_hash in ("h1", "h2", "h3"):
        found = store.find_token([token_hash], "f1")
        assert found is not None and found[1].revoked == "sign-out"
    seen: list[str | None] = []
    store.update_token("h2", lambda t, f: seen.append(f.revoked), family_id="f1")
    assert seen == ["sign-out"]  # the updater sees the family revoked (and refuses)


def test_inline_tokens_keep_the_key_that_hashed_them(store: Store) -> None:
    # Families minted before and after a key rotation; a lookup brings one hash per key.
    _create(store, _family("f1", inline=(_token("a-k0", "access"),)))
    _create(
        store,
        _family("f2", inline=(_token("b-k1", "access", "f2", key_id="k1"),)),
        (_token("c-k1", "session", "f2", key_id="k1"),),
    )
    found = store.find_token(["a-k1", "a-k0"], "f1")
    assert found is not None and (found[0].token_hash, found[0].key_id) == ("a-k0", "k0")
    found = store.find_token(["b-k1", "b-k0"], "f2")
    assert found is not None and (found[0].token_hash, found[0].key_id) == ("b-k1", "k1")
    found = store.find_token(["c-k1", "c-k0"], "f2")
    assert found is not None and (found[0].kind, found[0].key_id) == ("session", "k1")


def test_revoking_a_users_families_leaves_others_alone(store: Store) -> None:
    _create(store, _family("f1"))
    _create(store, _family("f2"))
    _create(store, _family("f3", user_id="u-agent2"))
    assert store.revoke_user_token_families("i-1", "u-agent1", "user-deleted") == 2
    assert store.revoke_user_token_families("i-1", "u-agent1", "again") == 0
    third = store.get_token_family("f3")
    assert third is not None and third.revoked is None


def test_deleting_the_user_or_the_instance_ends_its_families(store: Store) -> None:
    store.create_instance(_instance(), [])
    store.create_connect_user(_user("agent1"))
    _create(store, _family("f1", inline=(_token("h2"),)), (_token("h1"),))
    store.delete_connect_user("i-1", "u-agent1")
    family = store.get_token_family("f1")
    assert family is not None and family.revoked == "user-deleted"
    store.delete_instance("i-1")
    assert store.get_token_family("f1") is None
    assert store.find_token(["h1"]) is None
    assert store.find_token(["h2"], "f1") is None


def test_gc_removes_families_past_their_horizon_with_all_their_tokens(store: Store) -> None:
    _create(
        store,
        _family("old", expires=10.0, inline=(_token("o1", family_id="old"),)),
        (_token("o2", family_id="old", expires=10.0),),
    )
    _create(
        store,
        _family("live", expires=100.0, inline=(_token("l1", "signin", "live", 20.0),)),
        (_token("expired", family_id="live", expires=20.0), _token("fresh", family_id="live")),
    )
    store.update_token("l1", lambda t, f: TokenChange("used", 15.0), family_id="live")
    store.put_signin_state("stale", "{}", 20.0)
    store.put_signin_state("pending", "{}", 60.0)
    assert store.gc_tokens(30.0) == 3  # the old family, its token's row, one state
    assert store.get_token_family("old") is None
    assert store.find_token(["o2"]) is None and store.find_token(["o1"], "old") is None
    # A live family keeps every token, expired or not, until it ends.
    for token_hash in ("expired", "fresh", "l1"):
        assert store.find_token([token_hash], "live") is not None, token_hash
    spent = store.find_token(["l1"], "live")
    assert spent is not None and spent[0].state == "used"
    assert store.take_signin_state("pending", 30.0) == "{}"
    assert store.gc_tokens(30.0) == 0
    assert store.gc_tokens(100.0) == 3  # the family and its two rows
    assert store.find_token(["fresh"]) is None


def test_gc_deletes_in_bounded_batches(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sql_tokens, "GC_BATCH", 2)
    for index in range(5):
        family_id = f"f{index}"
        _create(
            store,
            _family(family_id, expires=10.0, inline=(_token(f"i{index}", family_id=family_id),)),
            (_token(f"t{index}", family_id=family_id, expires=10.0),),
        )
        store.put_signin_state(f"s{index}", "{}", 10.0)
    _create(store, _family("live"))
    assert store.gc_tokens(10.0) == 15  # five families, five token rows, five states
    assert store.get_token_family("live") is not None
    assert store.gc_tokens(10.0) == 0


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
    db = raw_database(store_url)
    migrate(db, MIGRATIONS[:3])
    with db.transaction() as tx:
        for row in (("a1", "access", 0), ("r1", "refresh", 0), ("s1", "signin", 1)):
            tx.execute(
                "INSERT INTO tokens (token_hash, kind, family_id, instance_id, user_id,"
                " session_key_id, created, expires, revoked) VALUES"
                " (?, ?, 'fam', 'i-1', 'u-1', 'ASIA1', 1.0, 99.0, ?)",
                row,
            )
    db.close()
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


def test_families_and_tokens_stored_before_inline_tokens_keep_working(store_url: str) -> None:
    db = raw_database(store_url)
    migrate(db, MIGRATIONS[:11])
    with db.transaction() as tx:
        tx.execute(
            "INSERT INTO token_families (family_id, instance_id, user_id, session_key_id,"
            " role_arn, created, expires, revoked) VALUES"
            " ('0b7c4a52-8a41-4c7e-9a55-7d5f0e5b6c11', 'i-1', 'u-1', 'ASIA1', NULL, 1.0, 99.0,"
            " NULL)"
        )
        for token_hash, kind, state in (("a1", "access", "active"), ("s1", "signin", "used")):
            tx.execute(
                "INSERT INTO tokens (token_hash, key_id, kind, family_id, state, created,"
                " expires, spent) VALUES (?, 'k0', ?, '0b7c4a52-8a41-4c7e-9a55-7d5f0e5b6c11', ?,"
                " 1.0, 50.0, NULL)",
                (token_hash, kind, state),
            )
    db.close()
    upgraded = open_test_store(store_url)
    try:
        found = upgraded.find_token(["a1"])  # by hash alone, as such tokens name no family
        assert found is not None and found[0].state == "active"
        assert found[1].inline_tokens == () and found[1].expires == 99.0
        code = upgraded.find_token(["s1"])
        assert code is not None and code[0].state == "used"
        changed = upgraded.update_token("a1", lambda t, f: TokenChange("used", 2.0))
        assert changed is not None and changed[0].state == "used"
        assert upgraded.gc_tokens(99.0) == 3  # the family and both of its tokens
    finally:
        upgraded.close()

"""TokenService on a real store with a fixed clock: minting, verification by kind, expiry, single
use, refresh rotation with reuse detection and grace, family revocation, key rotation, gc."""

from __future__ import annotations

import hmac
import re
import secrets
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectfed.clock import FixedClock
from connectfed.store import Store, open_store
from connectfed.store.records import Token, TokenFamily
from connectfed.tokens import (
    FamilyOwner,
    MintedFamily,
    RejectReason,
    TokenKey,
    TokenKeys,
    TokenKind,
    TokenRejected,
    TokenService,
)

START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
OWNER = FamilyOwner("i-1", "u-1", "ASIA1", "arn:aws:iam::123456789012:role/R")
HOUR = timedelta(hours=1)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "tokens.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    backend = open_store(f"sqlite://{db_path}")
    yield backend
    backend.close()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


def _service(store: Store, clock: FixedClock, **kw: float) -> TokenService:
    return TokenService(store, clock, TokenKeys(store, clock, ttl=0), **kw)


def _family(
    tokens: TokenService, horizon: timedelta = 12 * HOUR, now: datetime = START
) -> MintedFamily:
    return tokens.open_family(
        OWNER,
        now + horizon,
        {
            TokenKind.ACCESS: HOUR,
            TokenKind.REFRESH: 12 * HOUR,
            TokenKind.SIGNIN: timedelta(minutes=5),
        },
    )


def _reason(call: object, *args: object) -> RejectReason:
    with pytest.raises(TokenRejected) as caught:
        call(*args)  # type: ignore[operator]
    return caught.value.reason


def test_tokens_are_256_bit_prefixed_and_stored_only_as_keyed_hashes(
    store: Store, clock: FixedClock, db_path: Path
) -> None:
    minted = _family(_service(store, clock))
    prefixes = {kind: t.token[:4] for kind, t in minted.tokens.items()}
    assert prefixes == {
        TokenKind.ACCESS: "cfa_",
        TokenKind.REFRESH: "cfr_",
        TokenKind.SIGNIN: "cfs_",
    }
    # <prefix><family id, 26><secret, 43 url-safe chars = 256 bits>
    assert all(len(t.token) == 4 + 26 + 43 for t in minted.tokens.values())
    assert all(t.token[4:30] == minted.family_id for t in minted.tokens.values())
    secret_parts = {t.token[30:] for t in minted.tokens.values()}
    assert len(secret_parts) == 3 and all(re.fullmatch(r"[\w-]{43}", s) for s in secret_parts)
    with sqlite3.connect(db_path) as raw:
        dump = "\n".join(raw.iterdump())
    for minted_token in minted.tokens.values():
        assert minted_token.token not in dump and minted_token.token[30:] not in dump
        assert minted_token.token not in repr(minted_token)


def test_verify_checks_kind_expiry_horizon_and_instance(store: Store, clock: FixedClock) -> None:
    tokens = _service(store, clock)
    minted = _family(tokens, horizon=2 * HOUR)
    access = minted.tokens[TokenKind.ACCESS].token
    grant = tokens.verify(access, TokenKind.ACCESS, "i-1")
    assert (grant.instance_id, grant.user_id, grant.session_key_id) == ("i-1", "u-1", "ASIA1")
    assert grant.expires == START + HOUR and grant.horizon == START + 2 * HOUR
    assert minted.tokens[TokenKind.REFRESH].expires == START + 2 * HOUR  # capped at horizon
    assert _reason(tokens.verify, access, TokenKind.REFRESH) is RejectReason.WRONG_KIND
    assert _reason(tokens.verify, access, TokenKind.ACCESS, "i-2") is RejectReason.WRONG_INSTANCE
    for bad in ("", "cfa_short", "cfa_" + "A" * 43, "zz" + access[2:], access + "x"):
        assert _reason(tokens.verify, bad, TokenKind.ACCESS) is RejectReason.INVALID
    clock.advance(3600)
    assert _reason(tokens.verify, access, TokenKind.ACCESS) is RejectReason.EXPIRED
    refresh = minted.tokens[TokenKind.REFRESH].token
    assert tokens.verify(refresh, TokenKind.REFRESH).kind is TokenKind.REFRESH
    clock.advance(3600)
    assert _reason(tokens.verify, refresh, TokenKind.REFRESH) is RejectReason.EXPIRED


def test_a_family_cannot_start_after_its_horizon(store: Store, clock: FixedClock) -> None:
    tokens = _service(store, clock)
    assert _reason(_family, tokens, timedelta(0)) is RejectReason.EXPIRED


def test_single_use_has_a_distinct_used_state_and_a_second_use_revokes(
    store: Store, clock: FixedClock
) -> None:
    tokens = _service(store, clock)
    minted = _family(tokens)
    code = minted.tokens[TokenKind.SIGNIN].token
    assert _reason(tokens.spend, code, TokenKind.SIGNIN, "i-2") is RejectReason.WRONG_INSTANCE
    assert tokens.spend(code, TokenKind.SIGNIN, "i-1").family_id == minted.family_id
    assert _reason(tokens.verify, code, TokenKind.SIGNIN) is RejectReason.REUSED
    digest = TokenKeys(store, clock, 0).ring().current.digest(code)
    found = store.find_token([digest], minted.family_id)
    assert found is not None and found[0].state == "used" and found[1].revoked is None
    assert _reason(tokens.spend, code, TokenKind.SIGNIN) is RejectReason.REUSED
    access = minted.tokens[TokenKind.ACCESS].token
    assert _reason(tokens.verify, access, TokenKind.ACCESS) is RejectReason.REVOKED


def test_refresh_rotates_and_a_rotated_token_presented_again_revokes_the_family(
    store: Store, clock: FixedClock
) -> None:
    tokens = _service(store, clock)
    minted = _family(tokens)
    old = minted.tokens[TokenKind.REFRESH].token
    clock.advance(600)
    issued = tokens.rotate(old, HOUR)
    assert issued.family_id == minted.family_id
    assert issued.access_expires == START + timedelta(seconds=600) + HOUR
    assert issued.refresh_expires == START + 12 * HOUR  # the horizon does not move
    assert issued.refresh_token != old
    tokens.verify(issued.access_token, TokenKind.ACCESS)
    second = tokens.rotate(issued.refresh_token, HOUR)
    assert _reason(tokens.rotate, old, HOUR) is RejectReason.REUSED  # an attacker's copy
    for token, kind in (
        (second.access_token, TokenKind.ACCESS),
        (second.refresh_token, TokenKind.REFRESH),
        (minted.tokens[TokenKind.ACCESS].token, TokenKind.ACCESS),
    ):
        assert _reason(tokens.verify, token, kind) is RejectReason.REVOKED
    assert _reason(tokens.rotate, second.refresh_token, HOUR) is RejectReason.REVOKED


def test_reuse_within_the_grace_window_gets_another_pair(store: Store, clock: FixedClock) -> None:
    tokens = _service(store, clock, reuse_grace_seconds=10)
    old = _family(tokens).tokens[TokenKind.REFRESH].token
    first = tokens.rotate(old, HOUR)
    clock.advance(10)
    retried = tokens.rotate(old, HOUR)  # the answer to the first was lost
    assert retried.refresh_token != first.refresh_token
    tokens.verify(first.access_token, TokenKind.ACCESS)
    clock.advance(1)
    assert _reason(tokens.rotate, old, HOUR) is RejectReason.REUSED
    assert _reason(tokens.verify, retried.access_token, TokenKind.ACCESS) is RejectReason.REVOKED


def test_tokens_added_to_a_family_share_its_fate(store: Store, clock: FixedClock) -> None:
    tokens = _service(store, clock)
    minted = _family(tokens, horizon=2 * HOUR)
    added = tokens.add(minted.family_id, {TokenKind.SESSION: 5 * HOUR})
    session = added[TokenKind.SESSION]
    assert session.token.startswith("cfb_") and session.expires == START + 2 * HOUR
    assert tokens.revoke(session.token, TokenKind.SESSION, "sign-out")
    assert not tokens.revoke(session.token, TokenKind.SESSION, "sign-out")  # already
    assert (
        _reason(tokens.verify, minted.tokens[TokenKind.ACCESS].token, TokenKind.ACCESS)
        is RejectReason.REVOKED
    )
    assert _reason(tokens.add, minted.family_id, {TokenKind.ACCESS: HOUR}) is RejectReason.REVOKED
    other = _family(tokens)
    assert tokens.revoke_user("i-1", "u-1", "user-deleted") == 1
    assert (
        _reason(tokens.verify, other.tokens[TokenKind.ACCESS].token, TokenKind.ACCESS)
        is RejectReason.REVOKED
    )


def test_key_rotation_keeps_live_tokens_and_drops_the_old_key_when_nothing_needs_it(
    store: Store, clock: FixedClock
) -> None:
    keep = 13 * 3600.0
    tokens = _service(store, clock, key_keep_seconds=keep)
    # Another server whose copy of the ring never expires by time: it must re-read the ring
    # when it meets a token it cannot find.
    other_server = TokenService(store, clock, TokenKeys(store, clock, ttl=1e9))
    before = _family(tokens)
    other_server.verify(before.tokens[TokenKind.ACCESS].token, TokenKind.ACCESS)
    assert tokens.rotate_key() == "k1"
    after = _family(tokens)
    for service in (tokens, other_server):
        service.verify(before.tokens[TokenKind.ACCESS].token, TokenKind.ACCESS)
        service.verify(after.tokens[TokenKind.ACCESS].token, TokenKind.ACCESS)
    ring = TokenKeys(store, clock, 0).ring()
    assert [k.key_id for k in ring.keys] == ["k1", "k0"]
    # The inline tokens of each family keep the key they were hashed with.
    for family, key in ((before, ring.keys[1]), (after, ring.current)):
        access = family.tokens[TokenKind.ACCESS].token
        found = store.find_token([key.digest(access)], family.family_id)
        assert found is not None and found[0].key_id == key.key_id
    refreshed = tokens.rotate(before.tokens[TokenKind.REFRESH].token, HOUR)  # k0 → k1 tokens
    found = store.find_token([ring.current.digest(refreshed.refresh_token)])
    assert found is not None and found[0].key_id == "k1"
    clock.advance(keep - 1)
    tokens.gc()
    assert [k.key_id for k in TokenKeys(store, clock, 0).ring().keys] == ["k1", "k0"]
    clock.advance(2)
    tokens.gc()
    assert [k.key_id for k in TokenKeys(store, clock, 0).ring().keys] == ["k1"]
    fresh = tokens.open_family(OWNER, clock.now() + HOUR, {TokenKind.ACCESS: HOUR})
    tokens.verify(fresh.tokens[TokenKind.ACCESS].token, TokenKind.ACCESS)


def test_gc_runs_on_minting_and_removes_families_a_margin_after_their_horizon(
    store: Store, clock: FixedClock
) -> None:
    tokens = _service(store, clock, gc_interval_seconds=600)
    first = _family(tokens, horizon=timedelta(minutes=5))  # the first mint runs gc (no-op)
    digest = TokenKeys(store, clock, 0).ring().current.digest
    spent = first.tokens[TokenKind.SIGNIN].token
    tokens.spend(spent, TokenKind.SIGNIN)
    clock.advance(400)  # the first family is over; 400 s since the last gc
    middle = _family(tokens, now=clock.now())
    tokens.add(middle.family_id, {TokenKind.SESSION: HOUR})
    assert store.get_token_family(first.family_id) is not None  # not collected yet
    clock.advance(200)  # 300 s past the first family's horizon: GC_MARGIN
    second = _family(tokens, horizon=HOUR, now=clock.now())  # runs gc
    assert store.find_token([digest(spent)], first.family_id) is None
    assert store.get_token_family(first.family_id) is None
    clock.advance(3600)  # the second family is over, but not yet by the margin
    assert tokens.gc() == 0
    clock.advance(300)
    assert tokens.gc() == 1  # one row for the whole family
    assert store.get_token_family(second.family_id) is None
    # The 12-hour family in between keeps every token, expired or not, until it goes.
    access = middle.tokens[TokenKind.ACCESS].token  # expired by now
    assert store.find_token([digest(access)], middle.family_id) is not None
    assert tokens.gc() == 0
    clock.advance(12 * 3600)
    assert tokens.gc() == 2  # the family and its session token's row


def test_tokens_issued_before_family_ids_keep_working_until_they_expire(
    store: Store, clock: FixedClock
) -> None:
    # A family and tokens as the previous version stored them: a UUID family id, a row per
    # token, tokens without a family id (prefix + 43 characters).
    tokens = _service(store, clock)
    key = TokenKeys(store, clock, 0).ring().current
    family_id = "0b7c4a52-8a41-4c7e-9a55-7d5f0e5b6c11"
    now, horizon = START.timestamp(), (START + 12 * HOUR).timestamp()
    store.create_token_family(
        TokenFamily(family_id, "i-1", "u-1", "ASIA1", OWNER.role_arn, now, horizon)
    )
    old = {kind: kind.prefix + secrets.token_urlsafe(32) for kind in TokenKind}
    lifetimes = {TokenKind.ACCESS: HOUR, TokenKind.SIGNIN: timedelta(minutes=5)}
    rows = [
        Token(
            key.digest(old[kind]),
            key.key_id,
            kind.value,
            family_id,
            "active",
            now,
            (START + lifetimes.get(kind, 12 * HOUR)).timestamp(),
        )
        for kind in (TokenKind.ACCESS, TokenKind.REFRESH, TokenKind.SIGNIN)
    ]
    assert store.add_tokens(family_id, rows, now)
    assert tokens.verify(old[TokenKind.ACCESS], TokenKind.ACCESS, "i-1").family_id == family_id
    assert tokens.spend(old[TokenKind.SIGNIN], TokenKind.SIGNIN).family_id == family_id
    issued = tokens.rotate(old[TokenKind.REFRESH], HOUR)
    assert len(issued.refresh_token) == 47  # a UUID family's later tokens keep the old format
    tokens.verify(issued.access_token, TokenKind.ACCESS)
    clock.advance(3600)
    assert _reason(tokens.verify, old[TokenKind.ACCESS], TokenKind.ACCESS) is RejectReason.EXPIRED
    assert _reason(tokens.rotate, old[TokenKind.REFRESH], HOUR) is RejectReason.REUSED
    assert _reason(tokens.verify, issued.refresh_token, TokenKind.REFRESH) is RejectReason.REVOKED


@pytest.mark.parametrize("length", [0, 1, 32, 63, 64, 65, 200])
def test_a_token_keys_digest_is_hmac_sha256(length: int) -> None:
    secret = bytes((i * 7 + length) % 256 for i in range(length))
    key = TokenKey("k1", secret)
    for token in ("", "cfa_" + "x" * 69, "é" * 100):
        expected = hmac.digest(secret, token.encode(), "sha256").hex()
        assert key.digest(token) == expected
        assert key.digest(token) == expected  # the precomputed states are not consumed
    assert (secret.hex() not in repr(key) or not secret) and "pads" not in repr(key)
    assert key == TokenKey("k1", secret) and replace(key, retired=1.0).digest("t") == key.digest(
        "t"
    )

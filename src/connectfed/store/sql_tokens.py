"""Token statements: token families and their tokens, pending browser sign-ins, server meta
updates. Read-modify-write goes through updaters run inside one transaction (dex's
``UpdateRefreshToken(id, updater)``), so callers never hand-roll locking.

A family's row carries the tokens minted with it (``inline_tokens``: kind, key id, keyed hash,
expiry, state and time spent of each, as text only this module reads), so creating a family is
one INSERT: on SQLite about 5 pages dirtied per commit instead of 15 for the family and three
token rows (see ``TokenService.open_family`` for the reasoning and the figures). Their state
changes (a sign-in code spent, a refresh token rotated) are compare-and-set UPDATEs of that row;
tokens minted later (rotation, browser sessions) have rows of their own in ``tokens``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from connectfed.store.protocol import Conflict
from connectfed.store.records import Token, TokenChange, TokenFamily
from connectfed.store.sealing import is_sealed
from connectfed.store.sql import RETRIES, Retry, Row, SqlBase, Transaction

_COLUMNS = "t.token_hash, t.key_id, t.kind, t.family_id, t.state, t.created, t.expires, t.spent"
_FAMILY_COLS = (
    "f.family_id, f.instance_id, f.user_id, f.session_key_id, f.role_arn, f.created, f.expires,"
    " f.revoked, f.inline_tokens"
)
_FAMILY_WIDTH = 9
_JOINED = (
    f"SELECT {_COLUMNS}, {_FAMILY_COLS} FROM tokens t"
    " JOIN token_families f ON f.family_id = t.family_id"
)
# Families past their horizon are collected this many at a time, each batch in its own short
# transaction: the write lock is never held for a sweep of a whole table.
GC_BATCH = 500


def _token(row: Row) -> Token:
    token_hash, key_id, kind, family_id, state, created, expires, spent = row
    return Token(
        token_hash,
        key_id,
        kind,
        family_id,
        state,
        float(created),
        float(expires),
        None if spent is None else float(spent),
    )


def _family(row: Row) -> TokenFamily:
    (
        family_id,
        instance_id,
        user_id,
        session_key_id,
        role_arn,
        created,
        expires,
        revoked,
        inline,
    ) = row
    return TokenFamily(
        family_id,
        instance_id,
        user_id,
        session_key_id,
        role_arn,
        float(created),
        float(expires),
        revoked,
        _inline_tokens(family_id, float(created), inline),
    )


def _inline_text(family: TokenFamily, tokens: Sequence[Token]) -> str | None:
    """The ``inline_tokens`` column: ``kind key-id hash expires state spent`` per token
    (``-`` for no spent time), comma-separated."""
    if any((t.family_id, t.created) != (family.family_id, family.created) for t in tokens):
        raise ValueError("an inline token belongs to its family and was created with it")
    if not tokens:
        return None
    return ",".join(
        f"{t.kind} {t.key_id} {t.token_hash} {t.expires!r} {t.state}"
        f" {'-' if t.spent is None else repr(t.spent)}"
        for t in tokens
    )


def _inline_tokens(family_id: str, created: float, text: str | None) -> tuple[Token, ...]:
    if not text:
        return ()
    tokens = []
    for item in text.split(","):
        kind, key_id, token_hash, expires, state, spent = item.split(" ")
        tokens.append(
            Token(
                token_hash,
                key_id,
                kind,
                family_id,
                state,
                created,
                float(expires),
                None if spent == "-" else float(spent),
            )
        )
    return tuple(tokens)


def _inline(family: TokenFamily, token_hashes: Sequence[str]) -> Token | None:
    """The family's inline token stored under one of ``token_hashes`` (the service compares
    the hash again, in constant time, with the one its key gives)."""
    wanted = set(token_hashes)
    return next((t for t in family.inline_tokens if t.token_hash in wanted), None)


def _insert_tokens(tx: Transaction, tokens: Sequence[Token]) -> None:
    if not tokens:
        return
    rows = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?)"] * len(tokens))
    params: list[Any] = []
    for t in tokens:
        params += [
            t.token_hash,
            t.key_id,
            t.kind,
            t.family_id,
            t.state,
            t.created,
            t.expires,
            t.spent,
        ]
    tx.execute(
        "INSERT INTO tokens (token_hash, key_id, kind, family_id, state, created, expires,"
        f" spent) VALUES {rows}",
        params,
    )


def _changed(token: Token, change: TokenChange) -> Token:
    return Token(
        token.token_hash,
        token.key_id,
        token.kind,
        token.family_id,
        change.state,
        token.created,
        token.expires,
        change.spent,
    )


def _revoke(tx: Transaction, family: TokenFamily, change: TokenChange) -> TokenFamily:
    if change.revoke_family is None or family.revoked is not None:
        return family
    tx.execute(
        "UPDATE token_families SET revoked = ? WHERE family_id = ? AND revoked IS NULL",
        (change.revoke_family, family.family_id),
    )
    return replace(family, revoked=change.revoke_family)


def _update_inline(
    tx: Transaction,
    token_hash: str,
    family_id: str,
    updater: Callable[[Token, TokenFamily], TokenChange | None],
) -> tuple[Token, TokenFamily] | None:
    """Change a token kept in its family's row: compare-and-set on the row's inline tokens.

    One UPDATE, no lock taken first: it applies only if the inline tokens are still what the
    updater saw. On SQLite it always is (writers are serialised and this runs inside the write
    transaction). On PostgreSQL (READ COMMITTED) a concurrent change of the same family's
    tokens makes the UPDATE wait for that commit, re-check its condition on the new row and
    change nothing; the whole transaction then runs again (:class:`Retry`) on what the other
    wrote: of concurrent first uses exactly one applies, and the others see it used. The
    ``revoked`` column is only ever set where NULL, so a concurrent revocation is never undone.
    """
    rows = tx.query(
        f"SELECT {_FAMILY_COLS} FROM token_families f WHERE f.family_id = ?", (family_id,)
    )
    if not rows:
        return None
    seen = rows[0][_FAMILY_WIDTH - 1]  # the stored text, compared as it was read
    family = _family(rows[0])
    token = _inline(family, (token_hash,))
    if token is None:
        return None
    change = updater(token, family)
    if change is None:
        return token, family
    after = _changed(token, change)
    revoke = change.revoke_family if family.revoked is None else None
    if after == token and revoke is None:
        _insert_tokens(tx, change.insert)
        return token, family
    inline = tuple(after if t is token else t for t in family.inline_tokens)
    if not tx.execute(
        "UPDATE token_families SET inline_tokens = ?, revoked = COALESCE(revoked, ?)"
        " WHERE family_id = ? AND inline_tokens = ?",
        (_inline_text(family, inline), revoke, family_id, seen),
    ):
        raise Retry("the family's inline tokens changed concurrently")
    _insert_tokens(tx, change.insert)
    family = replace(family, inline_tokens=inline, revoked=family.revoked or revoke)
    return after, family


def family_insert(family: TokenFamily) -> tuple[str, tuple[Any, ...]]:
    """The statement creating ``family`` with its inline tokens (one row)."""
    return (
        "INSERT INTO token_families (family_id, instance_id, user_id, session_key_id,"
        " role_arn, created, expires, revoked, inline_tokens)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            family.family_id,
            family.instance_id,
            family.user_id,
            family.session_key_id,
            family.role_arn,
            family.created,
            family.expires,
            family.revoked,
            _inline_text(family, family.inline_tokens),
        ),
    )


class TokenStatements(SqlBase):
    # -- token families and tokens --------------------------------------------------------------
    def create_token_family(self, family: TokenFamily) -> None:
        self._write_before_reply(*family_insert(family))

    def get_token_family(self, family_id: str) -> TokenFamily | None:
        row = self._one(
            f"SELECT {_FAMILY_COLS} FROM token_families f WHERE f.family_id = ?", (family_id,)
        )
        return None if row is None else _family(row)

    def add_tokens(self, family_id: str, tokens: Sequence[Token], now: float) -> bool:
        with self._db.transaction() as tx:
            live = tx.query(
                "SELECT 1 FROM token_families WHERE family_id = ? AND revoked IS NULL"
                " AND expires > ?",
                (family_id, now),
            )
            if not live:
                return False
            _insert_tokens(tx, tokens)
            return True

    def find_token(
        self, token_hashes: Sequence[str], family_id: str | None = None
    ) -> tuple[Token, TokenFamily] | None:
        if not token_hashes:
            return None
        marks = ", ".join("?" * len(token_hashes))
        if family_id is None:  # a token that names no family: its row, by hash alone
            rows = self._db.query(f"{_JOINED} WHERE t.token_hash IN ({marks})", list(token_hashes))
            if not rows:
                return None
            return _token(rows[0][:8]), _family(rows[0][8:])
        # One read: the family with its inline tokens, and the token's row if it was minted
        # later (an inline token never has a row).
        rows = self._db.query(
            f"SELECT {_FAMILY_COLS}, {_COLUMNS} FROM token_families f"
            f" LEFT JOIN tokens t ON t.token_hash IN ({marks}) AND t.family_id = f.family_id"
            " WHERE f.family_id = ?",
            [*token_hashes, family_id],
        )
        if not rows:
            return None
        family = _family(rows[0][:_FAMILY_WIDTH])
        if rows[0][_FAMILY_WIDTH] is not None:
            return _token(rows[0][_FAMILY_WIDTH:]), family
        token = _inline(family, token_hashes)
        return None if token is None else (token, family)

    def update_token(
        self,
        token_hash: str,
        updater: Callable[[Token, TokenFamily], TokenChange | None],
        *,
        family_id: str | None = None,
    ) -> tuple[Token, TokenFamily] | None:
        def work(tx: Transaction) -> tuple[Token, TokenFamily] | None:
            # A token with a row: a no-op UPDATE takes the row's lock first (PostgreSQL;
            # SQLite's BEGIN IMMEDIATE already serialises writers), so the read below sees the
            # latest committed state and concurrent updaters of one token run one after the
            # other.
            if tx.execute("UPDATE tokens SET state = state WHERE token_hash = ?", (token_hash,)):
                rows = tx.query(f"{_JOINED} WHERE t.token_hash = ?", (token_hash,))
                if not rows:
                    return None
                token, family = _token(rows[0][:8]), _family(rows[0][8:])
                if family_id is not None and token.family_id != family_id:
                    return None
                change = updater(token, family)
                if change is None:
                    return token, family
                tx.execute(
                    "UPDATE tokens SET state = ?, spent = ? WHERE token_hash = ?",
                    (change.state, change.spent, token_hash),
                )
                family = _revoke(tx, family, change)
                _insert_tokens(tx, change.insert)
                return _changed(token, change), family
            if family_id is None:
                return None  # no such token (one that appears later was not locked: ignore it)
            return _update_inline(tx, token_hash, family_id, updater)

        return self._atomic(work)

    def revoke_token_family(self, family_id: str, reason: str) -> bool:
        return (
            self._write(
                "UPDATE token_families SET revoked = ? WHERE family_id = ? AND revoked IS NULL",
                (reason, family_id),
            )
            > 0
        )

    def revoke_user_token_families(self, instance_id: str, user_id: str, reason: str) -> int:
        return self._write(
            "UPDATE token_families SET revoked = ? WHERE instance_id = ? AND user_id = ?"
            " AND revoked IS NULL",
            (reason, instance_id, user_id),
        )

    def gc_tokens(self, now: float) -> int:
        # Tokens go with their family, never alone (none outlives its family's horizon): that
        # spares every token row an index on its expiry, at the price of keeping the expired
        # tokens of a live family (a few rotations' worth) until it ends. A token added by a
        # transaction that read its family as live before this one deleted it would outlive
        # it, unseen and never collected: TokenService.gc passes a `now` minutes behind, so no
        # adder can.
        removed = 0
        while True:
            with self._db.transaction() as tx:
                expired = [
                    row[0]
                    for row in tx.query(
                        "SELECT family_id FROM token_families WHERE expires <= ?"
                        " ORDER BY expires LIMIT ?",
                        (now, GC_BATCH),
                    )
                ]
                if expired:
                    marks = ", ".join("?" * len(expired))
                    removed += tx.execute(
                        f"DELETE FROM token_families WHERE family_id IN ({marks})", expired
                    )
                    removed += tx.execute(
                        f"DELETE FROM tokens WHERE family_id IN ({marks})", expired
                    )
            if len(expired) < GC_BATCH:
                break
        while True:
            batch = self._write(
                "DELETE FROM signin_states WHERE state_hash IN"
                " (SELECT state_hash FROM signin_states WHERE expires <= ? LIMIT ?)",
                (now, GC_BATCH),
            )
            removed += batch
            if batch < GC_BATCH:
                return removed

    # -- server metadata updates ------------------------------------------------------------------
    def update_meta(
        self, key: str, updater: Callable[[str | None], str], *, secret: bool = False
    ) -> str:
        context = f"meta:{key}"

        def read(stored: str) -> str:
            # A secret stored in the clear by a version before sealing is read as it is and
            # sealed by this write.
            return self._box.open(stored, context) if secret and is_sealed(stored) else stored

        def write(value: str) -> str:
            return self._box.seal(value, context) if secret else value

        def work(tx: Transaction) -> str:
            # Take the row lock first; a key absent then is inserted (a concurrent insert makes
            # this one a Conflict, and the update runs again against what the other wrote).
            if not tx.execute("UPDATE meta SET value = value WHERE key = ?", (key,)):
                new = updater(None)
                tx.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (key, write(new)))
                return new
            old = str(tx.query("SELECT value FROM meta WHERE key = ?", (key,))[0][0])
            new = updater(read(old))
            tx.execute("UPDATE meta SET value = ? WHERE key = ?", (write(new), key))
            return new

        for attempt in range(RETRIES):
            try:
                return self._atomic(work)
            except Conflict:  # another writer created the key first: update what it wrote
                if attempt == RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    # -- browser sign-in states (role chooser) ------------------------------------------------
    def put_signin_state(self, state_hash: str, payload: str, expires: float) -> None:
        self._write(
            "INSERT INTO signin_states (state_hash, payload, expires) VALUES (?, ?, ?)",
            (state_hash, payload, expires),
        )

    def take_signin_state(self, state_hash: str, now: float) -> str | None:
        rows = self._db.query(
            "DELETE FROM signin_states WHERE state_hash = ? RETURNING payload, expires",
            (state_hash,),
        )
        if not rows or float(rows[0][1]) <= now:
            return None
        return str(rows[0][0])

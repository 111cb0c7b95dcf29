"""Token statements: token families and their tokens, pending browser sign-ins, server meta
updates. Read-modify-write goes through updaters run inside one transaction (dex's
``UpdateRefreshToken(id, updater)``), so callers never hand-roll locking."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from connectfed.store.protocol import Conflict
from connectfed.store.records import Token, TokenChange, TokenFamily
from connectfed.store.sealing import is_sealed
from connectfed.store.sql import RETRIES, Row, SqlBase, Transaction

_COLUMNS = "t.token_hash, t.key_id, t.kind, t.family_id, t.state, t.created, t.expires, t.spent"
_FAMILY_COLS = (
    "f.family_id, f.instance_id, f.user_id, f.session_key_id, f.role_arn, f.created, f.expires,"
    " f.revoked"
)
_JOINED = (
    f"SELECT {_COLUMNS}, {_FAMILY_COLS} FROM tokens t"
    " JOIN token_families f ON f.family_id = t.family_id"
)


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
    family_id, instance_id, user_id, session_key_id, role_arn, created, expires, revoked = row
    return TokenFamily(
        family_id,
        instance_id,
        user_id,
        session_key_id,
        role_arn,
        float(created),
        float(expires),
        revoked,
    )


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


class TokenStatements(SqlBase):
    # -- token families and tokens --------------------------------------------------------------
    def create_token_family(self, family: TokenFamily, tokens: Sequence[Token]) -> None:
        with self._db.transaction() as tx:
            tx.execute(
                "INSERT INTO token_families (family_id, instance_id, user_id, session_key_id,"
                " role_arn, created, expires, revoked) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    family.family_id,
                    family.instance_id,
                    family.user_id,
                    family.session_key_id,
                    family.role_arn,
                    family.created,
                    family.expires,
                    family.revoked,
                ),
            )
            _insert_tokens(tx, tokens)

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

    def find_token(self, token_hashes: Sequence[str]) -> tuple[Token, TokenFamily] | None:
        if not token_hashes:
            return None
        marks = ", ".join("?" * len(token_hashes))
        rows = self._db.query(f"{_JOINED} WHERE t.token_hash IN ({marks})", list(token_hashes))
        if not rows:
            return None
        return _token(rows[0][:8]), _family(rows[0][8:])

    def update_token(
        self, token_hash: str, updater: Callable[[Token, TokenFamily], TokenChange | None]
    ) -> tuple[Token, TokenFamily] | None:
        def work(tx: Transaction) -> tuple[Token, TokenFamily] | None:
            # A no-op UPDATE takes the row's lock first (PostgreSQL; SQLite's BEGIN IMMEDIATE
            # already serialises writers), so the read below sees the latest committed state and
            # concurrent updaters of one token run one after the other.
            if not tx.execute(
                "UPDATE tokens SET state = state WHERE token_hash = ?", (token_hash,)
            ):
                return None  # no such token (one that appears later was not locked: ignore it)
            rows = tx.query(f"{_JOINED} WHERE t.token_hash = ?", (token_hash,))
            if not rows:
                return None
            token, family = _token(rows[0][:8]), _family(rows[0][8:])
            change = updater(token, family)
            if change is None:
                return token, family
            tx.execute(
                "UPDATE tokens SET state = ?, spent = ? WHERE token_hash = ?",
                (change.state, change.spent, token_hash),
            )
            if change.revoke_family is not None and family.revoked is None:
                tx.execute(
                    "UPDATE token_families SET revoked = ? WHERE family_id = ?",
                    (change.revoke_family, family.family_id),
                )
                family = TokenFamily(
                    family.family_id,
                    family.instance_id,
                    family.user_id,
                    family.session_key_id,
                    family.role_arn,
                    family.created,
                    family.expires,
                    change.revoke_family,
                )
            _insert_tokens(tx, change.insert)
            return Token(
                token.token_hash,
                token.key_id,
                token.kind,
                token.family_id,
                change.state,
                token.created,
                token.expires,
                change.spent,
            ), family

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
        with self._db.transaction() as tx:
            removed = tx.execute(
                "DELETE FROM tokens WHERE expires <= ? OR family_id IN"
                " (SELECT family_id FROM token_families WHERE expires <= ?)",
                (now, now),
            )
            removed += tx.execute("DELETE FROM token_families WHERE expires <= ?", (now,))
            removed += tx.execute("DELETE FROM signin_states WHERE expires <= ?", (now,))
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

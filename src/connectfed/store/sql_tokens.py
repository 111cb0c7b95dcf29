"""Token statements: issued tokens, single-use codes, pending browser sign-ins."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from connectfed.store.records import (
    Token,
)
from connectfed.store.sql import (
    SqlBase,
    _token,
)


class TokenStatements(SqlBase):
    # -- tokens ----------------------------------------------------------------------------------
    def insert_tokens(self, tokens: Sequence[Token]) -> None:
        if not tokens:
            return
        rows = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?)"] * len(tokens))
        params: list[Any] = []
        for token in tokens:
            params += [token.token_hash, token.kind, token.family_id, token.instance_id,
                       token.user_id, token.session_key_id, token.created, token.expires,
                       int(token.revoked)]
        # One statement: its own implicit transaction, so the tokens land together or not at all.
        self._write(
            "INSERT INTO tokens (token_hash, kind, family_id, instance_id, user_id,"
            f" session_key_id, created, expires, revoked) VALUES {rows}",
            params,
        )

    def consume_token(self, token_hash: str, kind: str, now: float) -> Token | None:
        rows = self._db.query(
            "UPDATE tokens SET revoked = 1 WHERE token_hash = ? AND kind = ? AND revoked = 0"
            " AND expires > ? RETURNING token_hash, kind, family_id, instance_id, user_id,"
            " session_key_id, created, expires, revoked",
            (token_hash, kind, now),
        )
        return _token(rows[0]) if rows else None

    def put_signin_state(self, state_hash: str, payload: str, expires: float) -> None:
        self._write("INSERT INTO signin_states (state_hash, payload, expires) VALUES (?, ?, ?)",
                    (state_hash, payload, expires))

    def take_signin_state(self, state_hash: str, now: float) -> str | None:
        rows = self._db.query(
            "DELETE FROM signin_states WHERE state_hash = ? RETURNING payload, expires",
            (state_hash,))
        if not rows or float(rows[0][1]) <= now:
            return None
        return str(rows[0][0])

    def get_token(self, token_hash: str) -> Token | None:
        row = self._one(
            "SELECT token_hash, kind, family_id, instance_id, user_id, session_key_id, created,"
            " expires, revoked FROM tokens WHERE token_hash = ?",
            (token_hash,),
        )
        return None if row is None else _token(row)



"""Decision statements: explanations of denied requests, kept by request id for a while."""

from __future__ import annotations

from connectfed.store.records import DecisionRecord
from connectfed.store.sql import SqlBase


class DecisionStatements(SqlBase):
    def put_decision(self, record: DecisionRecord) -> None:
        self._write(
            "INSERT INTO decisions (request_id, created, expires, document) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (request_id) DO UPDATE SET created = excluded.created,"
            " expires = excluded.expires, document = excluded.document",
            (record.request_id, record.created, record.expires, record.document),
        )

    def get_decision(self, request_id: str, now: float) -> DecisionRecord | None:
        row = self._one(
            "SELECT request_id, created, expires, document FROM decisions"
            " WHERE request_id = ? AND expires > ?",
            (request_id, now),
        )
        if row is None:
            return None
        return DecisionRecord(str(row[0]), float(row[1]), float(row[2]), str(row[3]))

    def gc_decisions(self, now: float, keep_at_most: int) -> int:
        with self._db.transaction() as tx:
            removed = tx.execute("DELETE FROM decisions WHERE expires <= ?", (now,))
            # The newest `keep_at_most` stay: a flood of denials cannot grow the table unbounded.
            cutoff = tx.query(
                "SELECT created FROM decisions ORDER BY created DESC LIMIT 1 OFFSET ?",
                (max(keep_at_most - 1, 0),),
            )
            if cutoff:
                removed += tx.execute("DELETE FROM decisions WHERE created < ?", (cutoff[0][0],))
            return removed

"""Admin API statements: the shared clock offset (a ``meta`` value changed under its row lock,
so concurrent advances all count) and injected faults, whose counts go down
with one conditional UPDATE each, so exactly N calls fail however many servers race."""

from __future__ import annotations

from collections.abc import Callable

from connectfed.store.admin_records import FaultRecord
from connectfed.store.sql import Row, SqlBase, Transaction

CLOCK_OFFSET_KEY = "admin_clock_offset"
_COLUMNS = "fault_id, service, operation, action, error_code, latency_ms, remaining, rate, created"


def _fault(row: Row) -> FaultRecord:
    fault_id, service, operation, action, error_code, latency_ms, remaining, rate, created = row
    return FaultRecord(
        fault_id,
        service,
        operation,
        action,
        error_code,
        None if latency_ms is None else int(latency_ms),
        None if remaining is None else int(remaining),
        None if rate is None else float(rate),
        float(created),
    )


class AdminStatements(SqlBase):
    def clock_offset(self) -> float:
        row = self._one("SELECT value FROM meta WHERE key = ?", (CLOCK_OFFSET_KEY,))
        return 0.0 if row is None else float(row[0])

    def set_clock_offset(self, seconds: float) -> float:
        return self._shift_clock(lambda _old: float(seconds))

    def advance_clock(self, seconds: float) -> float:
        return self._shift_clock(lambda old: old + float(seconds))

    def _shift_clock(self, change: Callable[[float], float]) -> float:
        def work(tx: Transaction) -> float:
            tx.execute(
                "INSERT INTO meta (key, value) VALUES (?, '0') ON CONFLICT (key) DO NOTHING",
                (CLOCK_OFFSET_KEY,),
            )
            # Take the row's lock first, so the read below sees the latest committed offset and
            # concurrent changes apply one after the other.
            tx.execute("UPDATE meta SET value = value WHERE key = ?", (CLOCK_OFFSET_KEY,))
            old = float(tx.query("SELECT value FROM meta WHERE key = ?", (CLOCK_OFFSET_KEY,))[0][0])
            new = change(old)
            tx.execute("UPDATE meta SET value = ? WHERE key = ?", (repr(new), CLOCK_OFFSET_KEY))
            return new

        return self._atomic(work)

    def add_fault(self, fault: FaultRecord) -> None:
        self._write(
            f"INSERT INTO admin_faults ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                fault.fault_id,
                fault.service,
                fault.operation,
                fault.action,
                fault.error_code,
                fault.latency_ms,
                fault.remaining,
                fault.rate,
                fault.created,
            ),
        )

    def list_faults(self) -> list[FaultRecord]:
        rows = self._db.query(f"SELECT {_COLUMNS} FROM admin_faults ORDER BY created, fault_id")
        return [_fault(row) for row in rows]

    def spend_fault(self, fault_id: str) -> bool:
        def work(tx: Transaction) -> bool:
            # The WHERE is re-checked against the latest row version once its lock is held
            # (PostgreSQL; SQLite serialises writers), so no two callers spend the same call.
            if tx.execute(
                "UPDATE admin_faults SET remaining = remaining - 1"
                " WHERE fault_id = ? AND remaining > 0",
                (fault_id,),
            ):
                tx.execute(
                    "DELETE FROM admin_faults WHERE fault_id = ? AND remaining <= 0", (fault_id,)
                )
                return True
            return bool(
                tx.query(
                    "SELECT 1 FROM admin_faults WHERE fault_id = ? AND remaining IS NULL",
                    (fault_id,),
                )
            )

        return self._atomic(work)

    def delete_fault(self, fault_id: str) -> bool:
        return self._write("DELETE FROM admin_faults WHERE fault_id = ?", (fault_id,)) > 0

    def clear_faults(self) -> int:
        return self._write("DELETE FROM admin_faults", ())

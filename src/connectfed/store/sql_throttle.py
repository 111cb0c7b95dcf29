"""The shared rate limit: token buckets in the database, so every process sharing it spends
from one bucket per key (``serve --throttle-shared``)."""

from __future__ import annotations

from connectfed.store.protocol import Conflict
from connectfed.store.sql import RETRIES, SqlBase, Transaction


class ThrottleStatements(SqlBase):
    def take_throttle(self, bucket: str, now: float, rate: float, burst: float) -> bool:
        def work(tx: Transaction) -> bool:
            # Take the row's lock first (as the other updaters do), so concurrent takers in any
            # process apply one after the other and none is lost; a missing bucket is created
            # full (a concurrent creation makes this a Conflict: run again against it).
            if not tx.execute(
                "UPDATE throttle_buckets SET tokens = tokens WHERE bucket = ?", (bucket,)
            ):
                tx.execute(
                    "INSERT INTO throttle_buckets (bucket, tokens, updated) VALUES (?, ?, ?)",
                    (bucket, burst - 1.0, now),
                )
                return True
            tokens, updated = tx.query(
                "SELECT tokens, updated FROM throttle_buckets WHERE bucket = ?", (bucket,)
            )[0]
            # Servers' clocks may disagree a little: time never runs backwards for a bucket.
            elapsed = max(0.0, now - float(updated))
            available = min(burst, float(tokens) + elapsed * rate)
            if available < 1.0:
                return False  # nothing to write: the next taker refills from the same point
            tx.execute(
                "UPDATE throttle_buckets SET tokens = ?, updated = ? WHERE bucket = ?",
                (available - 1.0, max(now, float(updated)), bucket),
            )
            return True

        for attempt in range(RETRIES):
            try:
                return self._atomic(work)
            except Conflict:
                if attempt == RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

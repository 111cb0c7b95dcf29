"""The store's writer thread (store/deferred.py): batches what queued while it was busy, tries a
failed batch's writes alone, and keeps going whatever a waiter's callback does."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest

from connectfed.store.deferred import BatchWriter, PendingWrite


class _Table:
    """A stand-in backend recording which statements were committed, and how."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.batches: list[list[str]] = []
        self.committed: list[str] = []

    def run_batch(self, writes: Sequence[PendingWrite]) -> None:
        self.gate.wait(timeout=30)
        self.batches.append([w.sql for w in writes])
        if any(w.sql == "bad" for w in writes):
            raise ValueError("one statement of the batch failed")
        self.committed += [w.sql for w in writes]

    def run_one(self, write: PendingWrite) -> None:
        if write.sql == "bad":
            raise ValueError("refused")
        self.committed.append(write.sql)


def _done(write: PendingWrite) -> bool:
    event = threading.Event()
    write.add_done_callback(lambda _: event.set())
    return event.wait(timeout=30)


def test_writes_queued_while_the_writer_is_busy_commit_in_one_batch() -> None:
    table = _Table()
    writer = BatchWriter(table.run_batch, table.run_one)
    first = writer.submit("a", ())
    rest = [writer.submit(sql, ()) for sql in ("b", "c", "d")]  # queued while "a" waits
    table.gate.set()
    assert all(_done(w) for w in (first, *rest))
    assert table.committed == ["a", "b", "c", "d"]
    assert len(table.batches) <= 2  # "a" alone at most, then the rest together
    writer.close()


def test_a_failed_batch_is_tried_write_by_write_and_only_the_bad_one_fails() -> None:
    table = _Table()
    writer = BatchWriter(table.run_batch, table.run_one)
    writes = [writer.submit(sql, ()) for sql in ("a", "bad", "c")]
    table.gate.set()
    assert all(_done(w) for w in writes)
    assert [w.error is None for w in writes] == [True, False, True]
    assert isinstance(writes[1].error, ValueError)
    assert sorted(table.committed) == ["a", "c"]
    writer.close()


def test_a_waiter_that_fails_does_not_stop_the_writer() -> None:
    table = _Table()
    writer = BatchWriter(table.run_batch, table.run_one)
    first = writer.submit("a", ())

    def broken(_: PendingWrite) -> None:
        raise RuntimeError("the event loop is closed")

    first.add_done_callback(broken)
    table.gate.set()
    assert _done(first)
    later = writer.submit("b", ())
    assert _done(later) and later.error is None
    assert table.committed == ["a", "b"]
    writer.close()


def test_close_commits_what_was_queued_and_refuses_more() -> None:
    table = _Table()
    table.gate.set()
    writer = BatchWriter(table.run_batch, table.run_one)
    writes = [writer.submit(sql, ()) for sql in ("a", "b")]
    writer.close()
    assert all(w.done and w.error is None for w in writes)
    with pytest.raises(RuntimeError, match="closed"):
        writer.submit("c", ())

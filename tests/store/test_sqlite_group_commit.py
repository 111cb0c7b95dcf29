"""SQLite's group commit: concurrent write transactions of one process share a COMMIT, yet
each behaves as its own transaction (its failure rolls back only its own rows) and returns only
once its rows are committed (readable from another connection)."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from connectfed.store import Conflict, Unavailable
from connectfed.store import sqlite as sqlite_module
from connectfed.store.sqlite import SqliteDatabase


@pytest.fixture
def db(tmp_path: Path) -> SqliteDatabase:
    database = SqliteDatabase(str(tmp_path / "g.db"))
    with database.transaction() as tx:
        tx.execute("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)")
    return database


def _committed(path: Path) -> set[str]:
    """What another connection (another process) sees: only committed rows."""
    conn = sqlite3.connect(str(path))
    try:
        return {row[0] for row in conn.execute("SELECT k FROM t")}
    finally:
        conn.close()


def test_every_writer_returns_after_its_rows_are_committed(
    db: SqliteDatabase, tmp_path: Path
) -> None:
    seen_after_return: dict[str, bool] = {}
    barrier = threading.Barrier(16)

    def write(index: int) -> None:
        barrier.wait()
        with db.transaction() as tx:
            tx.execute("INSERT INTO t VALUES (?, ?)", (f"k{index}", index))
        seen_after_return[f"k{index}"] = f"k{index}" in _committed(tmp_path / "g.db")

    threads = [threading.Thread(target=write, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen_after_return == {f"k{i}": True for i in range(16)}
    db.close()


def test_a_failing_member_rolls_back_alone(db: SqliteDatabase, tmp_path: Path) -> None:
    with db.transaction() as tx:
        tx.execute("INSERT INTO t VALUES ('taken', 0)")
    outcomes: dict[int, str] = {}
    barrier = threading.Barrier(12)

    def write(index: int) -> None:
        barrier.wait()
        try:
            with db.transaction() as tx:
                tx.execute("INSERT INTO t VALUES (?, ?)", (f"own{index}", index))
                if index % 3 == 0:  # a clash after a first write: the whole member undone
                    tx.execute("INSERT INTO t VALUES ('taken', ?)", (index,))
            outcomes[index] = "committed"
        except Conflict:
            outcomes[index] = "conflict"

    threads = [threading.Thread(target=write, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes == {i: "conflict" if i % 3 == 0 else "committed" for i in range(12)}
    assert _committed(tmp_path / "g.db") == {"taken"} | {f"own{i}" for i in range(12) if i % 3}
    db.close()


def test_reads_outside_a_transaction_see_only_committed_rows(db: SqliteDatabase) -> None:
    inside = threading.Event()
    release = threading.Event()

    def slow_writer() -> None:
        with db.transaction() as tx:
            tx.execute("INSERT INTO t VALUES ('pending', 1)")
            inside.set()
            release.wait()

    writer = threading.Thread(target=slow_writer)
    writer.start()
    inside.wait()
    assert db.query("SELECT k FROM t") == []  # not committed yet: not visible
    release.set()
    writer.join()
    assert db.query("SELECT k FROM t") == [("pending",)]
    db.close()


def test_the_wal_stays_bounded_under_a_steady_stream_of_writes(tmp_path: Path) -> None:
    """A PASSIVE checkpoint never waits, so with writers always busy the WAL is never started
    again from its beginning and would grow without end; past its bound the checkpointer
    empties it. Once the writers stop, the WAL is back within the bound (polled, not timed)."""
    path = tmp_path / "w.db"
    limit_pages = 64
    database = SqliteDatabase(str(path), wal_limit_pages=limit_pages)
    with database.transaction() as tx:
        tx.execute("CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT)")
    wal = Path(f"{path}-wal")

    def write(worker: int) -> None:
        for index in range(600):
            with database.transaction() as tx:
                tx.execute("INSERT INTO t VALUES (?, ?)", (f"{worker}-{index}", "x" * 400))

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        page = 4096
        assert database.query("SELECT COUNT(*) FROM t")[0][0] == 2400
        # Unbounded, the WAL keeps every frame written (several MB here); bounded, it is cut
        # back to at most limit_pages once the checkpointer next runs.
        deadline = time.monotonic() + 30
        while wal.stat().st_size > limit_pages * page and time.monotonic() < deadline:
            time.sleep(0.1)
        assert wal.stat().st_size <= limit_pages * page
        assert _count(path) == 2400  # every committed row is in the database file's view
    finally:
        database.close()


def _count(path: Path) -> int:
    conn = sqlite3.connect(str(path))
    try:
        return int(conn.execute("SELECT COUNT(*) FROM t").fetchone()[0])
    finally:
        conn.close()


def test_a_writer_waits_for_another_process_writer_within_the_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer waits for a write lock held by another connection (another process, as far
    as SQLite is concerned) in short steps: it gets the lock once released, and gives up with
    SQLite's own "database is locked", as the store's Unavailable (a 503 to the client), once
    the bound has passed."""
    monkeypatch.setattr(sqlite_module, "BUSY_SECONDS", 0.3)
    path = tmp_path / "b.db"
    database = SqliteDatabase(str(path))
    with database.transaction() as tx:
        tx.execute("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)")
    other = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    try:
        other.execute("BEGIN IMMEDIATE")
        with (
            pytest.raises(Unavailable, match="locked"),
            database.transaction() as tx,
        ):
            tx.execute("INSERT INTO t VALUES ('never', 1)")
        release = threading.Timer(0.1, lambda: other.execute("ROLLBACK"))
        release.start()
        with database.transaction() as tx:  # waits for the release, well within the bound
            tx.execute("INSERT INTO t VALUES ('after', 2)")
        release.join()
        assert _committed(path) == {"after"}
    finally:
        other.close()
        database.close()

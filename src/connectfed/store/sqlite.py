"""The embedded default backend: one SQLite file, WAL mode, safe across threads and processes.

One writer connection per process, behind a lock (SQLite serialises writers anyway), whose
concurrent transactions are committed in groups (see :class:`SqliteDatabase`); write
transactions start with ``BEGIN IMMEDIATE`` so writers of other processes queue on the busy
timeout instead of failing half-way. Reads use a connection per thread.

The database file is created 0600 before SQLite opens it (SQLite gives its ``-wal`` and ``-shm``
files the database's permissions); looser permissions found on an existing database, its WAL or
shared-memory file are tightened, with a warning. ``secure_delete`` overwrites deleted content,
so replaced rows do not linger in free pages.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

from connectfed.store.protocol import Conflict, Unavailable
from connectfed.store.schema import MIGRATIONS
from connectfed.store.sealing import MasterKey
from connectfed.store.sql import Row, migrate
from connectfed.store.sql_store import SqlStore


def _busy(exc: sqlite3.OperationalError) -> bool:
    """Whether SQLite said another connection holds what it needs: SQLITE_BUSY, or one of
    its extended codes (another connection recovering the WAL, a stale snapshot)."""
    return (getattr(exc, "sqlite_errorcode", 0) & 0xFF) == sqlite3.SQLITE_BUSY


def _clash(exc: sqlite3.IntegrityError) -> bool:
    """Whether SQLite refused a row for a unique key it would have duplicated."""
    return "UNIQUE" in str(exc) or "PRIMARY KEY" in str(exc)


# What SQLite says when the file cannot be used now, whatever the statement: the disk (or a
# file size limit) is full, the file cannot be read or written (I/O error, a read-only file
# system, a file that went away), another process held the lock past the busy timeout, memory
# ran out, the file is damaged or not a database.
_OUT_OF_SERVICE = frozenset(
    {
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_READONLY,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_NOMEM,
        sqlite3.SQLITE_CORRUPT,
        sqlite3.SQLITE_NOTADB,
    }
)


_SQLITE = "SQLite: "


def _store_error(error: sqlite3.Error) -> Exception:
    """The store's exception for a driver error (the error itself when it is none of them)."""
    if isinstance(error, sqlite3.IntegrityError) and _clash(error):
        return Conflict(str(error))
    if (getattr(error, "sqlite_errorcode", 0) & 0xFF) in _OUT_OF_SERVICE:
        return Unavailable(f"{_SQLITE}{error}")
    return error


@contextmanager
def _translated() -> Iterator[None]:
    """Driver errors raised inside as the store's exceptions."""
    try:
        yield
    except sqlite3.Error as exc:
        raise _store_error(exc) from None


class _Transaction:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        try:
            return self._conn.execute(sql, params).rowcount
        except sqlite3.Error as exc:
            raise _store_error(exc) from None

    def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        try:
            self._conn.executemany(sql, rows)
        except sqlite3.Error as exc:
            raise _store_error(exc) from None

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        try:
            return self._conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise _store_error(exc) from None


_log = logging.getLogger("connectfed.store")
_PRIVATE = 0o600


def _private_files(path: str) -> None:
    """Create the database file 0600 if absent; tighten it and its companions if looser."""
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _PRIVATE))
    for name in (path, f"{path}-wal", f"{path}-shm", f"{path}-journal"):
        try:
            mode = stat.S_IMODE(os.stat(name).st_mode)
        except FileNotFoundError:
            continue
        if mode & 0o077:
            os.chmod(name, _PRIVATE)
            _log.warning("tightened permissions of %s from %o to 600", name, mode)


# A batch commits at this many transactions even while more writers queue (bounds the wait of
# the first member of a batch behind the others).
GROUP_COMMIT_LIMIT = 64
# How often the checkpointer copies the WAL back into the database file: often, so that each
# copy is small and the blocking RESTART below finds little left to copy.
CHECKPOINT_SECONDS = 0.1
# The WAL's bound, in pages (16 MiB of 4 KiB pages). A PASSIVE checkpoint never waits, so under
# a steady stream of writes it never finds the WAL fully copied at a moment when a writer could
# start it again from the beginning: the file would grow for as long as the writes go on (seen:
# 240 MB in 8 s of four busy writers). Past this bound the checkpointer runs a RESTART
# checkpoint, which waits for the writers of the moment (bounded: one batch), copies what is
# left and makes the next writer start the WAL again from its beginning (journal_size_limit
# then cuts the file back); writers wait for that copy only, once per bound. RESTART rather
# than TRUNCATE (which also empties the file; used only when everything is already copied,
# i.e. the writers are idle) and checkpoints every 0.1 s rather than 0.5 s: measured under a
# steady GetFederationToken load (wrk, 32 connections), the blocking checkpoint's wait fell
# from 40-110 ms to 25-60 ms, and the federations' p99 from ~130 ms to ~80-120 ms.
WAL_LIMIT_PAGES = 4096
# How long a writer waits for another process's writer (as the busy timeout), and the steps of
# that wait (see SqliteDatabase._begin).
BUSY_SECONDS = 30.0
BUSY_FIRST_DELAY = 0.00025
BUSY_MAX_DELAY = 0.002


class _Batch:
    """Transactions committed together; each member waits for ``done`` before returning."""

    __slots__ = ("done", "error", "members")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.error: BaseException | None = None
        self.members = 0


class SqliteDatabase:
    """One SQLite file in WAL mode, used from the server's store threads (never its event loop).

    **Group commit.** SQLite allows one writer at a time, and a commit costs far more than the
    few rows a request writes (every page it dirtied is appended to the WAL). So concurrent
    write transactions of this process share one database transaction: each runs inside its own
    ``SAVEPOINT`` (a failing one rolls back alone, and its caller gets its own exception, e.g.
    :class:`Conflict`), and the last writer of a burst (no other writer waiting for the
    connection, or :data:`GROUP_COMMIT_LIMIT` members) commits for all. **Every member returns
    only after that COMMIT**: a response built from a write is sent only once the write is
    durable, exactly as with one transaction per request; if the COMMIT fails, every member
    raises. Isolation is unchanged for callers: a member sees the rows of the members before it,
    which all commit or fail together with its own. A transaction opened inside another on the
    same thread is a nested savepoint of it (it neither joins nor waits for a batch).

    **Reads** outside a transaction use per-thread read connections: WAL readers see the last
    committed state and never wait for the writer. Inside a transaction they go through the
    writer's connection (they must see the transaction's own rows), and so do all reads of an
    in-memory database, which cannot share its data between connections.

    **Checkpoints** (copying the WAL into the database file, which fsyncs) run on a background
    thread instead of inside some writer's COMMIT, so no request waits for one. Durability is
    ``synchronous = NORMAL``: a committed transaction survives a crash of the process.

    Written by hand: neither :mod:`sqlite3` nor the usual wrappers batch commits across threads.
    """

    def __init__(self, path: str, *, wal_limit_pages: int = WAL_LIMIT_PAGES) -> None:
        self._path = path
        self._wal_limit = wal_limit_pages
        self._memory = path == ":memory:"
        if not self._memory:
            _private_files(path)
        self._conn = self._connect()
        # The writer connection (and, in memory, every read). Re-entrant: a nested transaction
        # or a read inside a transaction's body runs on the thread that holds it.
        self._lock = threading.RLock()
        self._queue_lock = threading.Lock()
        self._waiting = 0  # writers waiting for the connection: the batch stays open for them
        self._batch: _Batch | None = None
        self._local = threading.local()  # per thread: its read connection, its nesting depth
        self._reader_conns: list[sqlite3.Connection] = []
        self._closed = threading.Event()
        with self._lock:
            if not self._memory:
                self._conn.execute("PRAGMA journal_mode = WAL")
                self._conn.execute("PRAGMA wal_autocheckpoint = 0")  # the checkpointer's job
                # A WAL started again from its beginning is cut back to the bound, too.
                page_size = self._conn.execute("PRAGMA page_size").fetchone()[0]
                self._conn.execute(f"PRAGMA journal_size_limit = {self._wal_limit * page_size}")
            # From here the writer waits for other processes' writers itself, in short steps
            # (_begin); its other statements run inside the write lock it then holds.
            self._conn.execute("PRAGMA busy_timeout = 0")
        self._checkpointer: threading.Thread | None = None
        if not self._memory:
            self._checkpointer = threading.Thread(
                target=self._checkpoint_loop, name="connectfed-sqlite-checkpoint", daemon=True
            )
            self._checkpointer.start()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self._path, isolation_level=None, check_same_thread=False, timeout=30.0
        )
        try:
            conn.execute("PRAGMA busy_timeout = 30000")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA secure_delete = ON")
        except BaseException:
            conn.close()
            raise
        return conn

    def _depth(self) -> int:
        depth: int = getattr(self._local, "depth", 0)
        return depth

    @contextmanager
    def transaction(self) -> Iterator[_Transaction]:
        depth = self._depth()
        if depth:
            with self._nested(depth) as tx:
                yield tx
            return
        with self._queue_lock:
            self._waiting += 1
        self._lock.acquire()
        with self._queue_lock:
            self._waiting -= 1
        self._local.depth = 1
        try:
            if self._batch is None:
                with _translated():
                    self._begin()
                self._batch = _Batch()
            batch = self._batch
            batch.members += 1
            self._conn.execute("SAVEPOINT member")
            try:
                yield _Transaction(self._conn)
            except BaseException:
                try:
                    self._conn.execute("ROLLBACK TO member")
                    self._conn.execute("RELEASE member")
                except sqlite3.Error as exc:  # SQLite ended the whole transaction itself
                    self._fail_batch(exc)
                else:
                    self._end_batch_unless_more_come()
                raise
            self._conn.execute("RELEASE member")
            self._end_batch_unless_more_come()
        finally:
            self._local.depth = 0
            self._lock.release()
        batch.done.wait()
        if batch.error is not None:
            error = batch.error
            if isinstance(error, sqlite3.Error) and isinstance(_store_error(error), Unavailable):
                raise Unavailable(f"{_SQLITE}commit failed: {error}")
            raise sqlite3.OperationalError(f"commit failed: {error}") from error

    def _begin(self) -> None:
        """``BEGIN IMMEDIATE``, waiting for another process's writer in short steps.

        SQLite's own busy handler (``busy_timeout``) sleeps 1, 2, 5, 10, ... up to 100 ms
        between tries: a writer of another process (``serve --workers 2``, or two servers on
        one file) held the lock for a few milliseconds and the waiter slept up to 100 ms,
        which was the federations' p99 with two workers (333-549 ms). The writer connection
        has no busy handler (its other statements run under the write lock this takes) and
        tries again every 0.25-2 ms, within the same 30 s bound: p99 66 ms, req/s +17 %."""
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if not _busy(exc):
                raise
        deadline = time.monotonic() + BUSY_SECONDS
        delay = BUSY_FIRST_DELAY
        while True:
            time.sleep(delay)
            try:
                conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if not _busy(exc) or time.monotonic() > deadline:
                    raise
            delay = min(delay * 2, BUSY_MAX_DELAY)

    @contextmanager
    def _nested(self, depth: int) -> Iterator[_Transaction]:
        name = f"nested{depth}"
        self._local.depth = depth + 1
        try:
            self._conn.execute(f"SAVEPOINT {name}")
            try:
                yield _Transaction(self._conn)
            except BaseException:
                self._conn.execute(f"ROLLBACK TO {name}")
                self._conn.execute(f"RELEASE {name}")
                raise
            self._conn.execute(f"RELEASE {name}")
        finally:
            self._local.depth = depth

    def _end_batch_unless_more_come(self) -> None:
        """Commit the open batch unless another writer is queued to join it (the last one
        commits); the caller holds the writer lock."""
        batch = self._batch
        assert batch is not None
        with self._queue_lock:
            more = self._waiting > 0
        if more and batch.members < GROUP_COMMIT_LIMIT:
            return
        self._batch = None
        try:
            self._conn.execute("COMMIT")
        except BaseException as exc:
            batch.error = exc
            with suppress(sqlite3.Error):
                self._conn.execute("ROLLBACK")
        finally:
            batch.done.set()

    def _fail_batch(self, error: BaseException) -> None:
        batch, self._batch = self._batch, None
        with suppress(sqlite3.Error):
            self._conn.execute("ROLLBACK")
        if batch is not None:
            batch.error = error
            batch.done.set()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        with self.transaction() as tx:  # joins the batch: returns once durable
            return tx.execute(sql, params)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with _translated():
            if self._memory or self._depth():
                with self._lock:
                    return self._conn.execute(sql, params).fetchall()
            conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
            if conn is None:
                conn = self._local.conn = self._connect()
                with self._queue_lock:
                    self._reader_conns.append(conn)
            return conn.execute(sql, params).fetchall()

    def _checkpoint_loop(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            while not self._closed.wait(CHECKPOINT_SECONDS):
                try:
                    # Opened here: a file that cannot be used now (a full disk) is tried again
                    # next round, like a busy one, instead of ending the thread.
                    conn = conn or self._connect()
                    _, wal_pages, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    if wal_pages > self._wal_limit:
                        # All copied (the writers are idle): empty the file now, nothing to
                        # wait for. Else RESTART, and the next writer starts the WAL over.
                        mode = "TRUNCATE" if copied == wal_pages else "RESTART"
                        conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
                except sqlite3.Error as exc:  # busy or closing: the next round tries again
                    _log.debug("checkpoint skipped: %s", exc)
        finally:
            if conn is not None:
                conn.close()

    def close(self) -> None:
        self._closed.set()
        if self._checkpointer is not None:
            self._checkpointer.join()
        with self._lock:
            if not self._memory:
                with suppress(sqlite3.Error):
                    self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            self._conn.close()
        with self._queue_lock:
            for conn in self._reader_conns:
                conn.close()
            self._reader_conns.clear()


class SqliteStore(SqlStore):
    def __init__(self, path: str, master_key: MasterKey | None = None) -> None:
        try:
            db = SqliteDatabase(path)
        except (OSError, sqlite3.Error) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise Unavailable(f"cannot open the SQLite database {path}: {reason}") from None
        try:
            migrate(db, MIGRATIONS)
            super().__init__(db, master_key)
        except Unavailable as exc:
            db.close()
            reason = str(exc).removeprefix(_SQLITE)
            raise Unavailable(f"cannot use the SQLite database {path}: {reason}") from None
        except BaseException:
            db.close()
            raise

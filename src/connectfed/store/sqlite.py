"""The embedded default backend: one SQLite file, WAL mode, safe across threads and processes.

A single connection is shared by the process behind a lock (SQLite serialises writers anyway);
write transactions start with ``BEGIN IMMEDIATE`` so concurrent writers queue on the busy timeout
instead of failing half-way. Other processes may open the same file.

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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

from connectfed.store.protocol import Conflict
from connectfed.store.schema import MIGRATIONS
from connectfed.store.sealing import MasterKey
from connectfed.store.sql import Row, migrate
from connectfed.store.sql_store import SqlStore


class _Transaction:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        try:
            return self._conn.execute(sql, params).rowcount
        except sqlite3.IntegrityError as exc:
            if "UNIQUE" in str(exc) or "PRIMARY KEY" in str(exc):
                raise Conflict(str(exc)) from None
            raise

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._conn.execute(sql, params).fetchall()


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


class SqliteDatabase:
    def __init__(self, path: str) -> None:
        if path != ":memory:":
            _private_files(path)
        self._conn = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, timeout=30.0
        )
        self._lock = threading.RLock()
        with self._lock:
            self._conn.execute("PRAGMA busy_timeout = 30000")
            if path != ":memory:":
                self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = NORMAL")
            self._conn.execute("PRAGMA foreign_keys = ON")
            self._conn.execute("PRAGMA secure_delete = ON")

    @contextmanager
    def transaction(self) -> Iterator[_Transaction]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield _Transaction(self._conn)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        with self._lock:
            return _Transaction(self._conn).execute(sql, params)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class SqliteStore(SqlStore):
    inline = True

    def __init__(self, path: str, master_key: MasterKey | None = None) -> None:
        db = SqliteDatabase(path)
        try:
            migrate(db, MIGRATIONS)
            super().__init__(db, master_key)
        except BaseException:
            db.close()
            raise

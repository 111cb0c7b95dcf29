"""The PostgreSQL backend: many stateless servers, one database.

Uses psycopg 3 with a connection pool. Statements run at READ COMMITTED; every multi-statement
change in :mod:`connectfed.store.sql` is written to be correct there (single-statement
conditional inserts, unique keys, and read-modify-write updaters that first take the row's lock
with a no-op UPDATE, a portable ``SELECT … FOR UPDATE``). Serialisation failures and deadlocks
are raised as :class:`~connectfed.store.sql.Retry`, and the updaters run again on them. Store
calls block; the server makes them off its event loop (:mod:`connectfed.offload`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg_pool import ConnectionPool, PoolTimeout

from connectfed.store.protocol import Conflict, Unavailable
from connectfed.store.schema import MIGRATIONS
from connectfed.store.sealing import MasterKey
from connectfed.store.sql import Retry, Row, migrate
from connectfed.store.sql_store import SqlStore

_MIGRATION_LOCK = 0x636F6E6E  # "conn"
_PLACEHOLDER_CACHE: dict[str, str] = {}


def _pg(sql: str) -> str:
    converted = _PLACEHOLDER_CACHE.get(sql)
    if converted is None:
        # No statement in the store has a literal '?' or '%', so this is a plain substitution.
        converted = sql.replace("?", "%s")
        _PLACEHOLDER_CACHE[sql] = converted
    return converted


class _Transaction:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        try:
            with self._conn.cursor() as cur:
                cur.execute(_pg(sql), params, prepare=False)
                return cur.rowcount
        except pg_errors.UniqueViolation as exc:
            raise Conflict(str(exc)) from None
        except (pg_errors.SerializationFailure, pg_errors.DeadlockDetected) as exc:
            raise Retry(str(exc)) from None

    def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        # psycopg sends the rows pipelined (one round trip), not one statement at a time.
        try:
            with self._conn.cursor() as cur:
                cur.executemany(_pg(sql), rows)
        except pg_errors.UniqueViolation as exc:
            raise Conflict(str(exc)) from None
        except (pg_errors.SerializationFailure, pg_errors.DeadlockDetected) as exc:
            raise Retry(str(exc)) from None

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        try:
            with self._conn.cursor() as cur:
                cur.execute(_pg(sql), params)
                rows: list[Row] = list(cur.fetchall())
                return rows
        except (pg_errors.SerializationFailure, pg_errors.DeadlockDetected) as exc:
            raise Retry(str(exc)) from None


def _one_line(error: Exception) -> str:
    """psycopg's message without its hint lines ("Is the server running on that host…")."""
    return " ".join(str(error).split("\n")[0].split())


class PostgresDatabase:
    def __init__(self, url: str, *, min_size: int = 1, max_size: int = 10) -> None:
        # One direct connection first: the pool retries a refused or misconfigured server in
        # the background and reports only a timeout, where this says what is wrong at once.
        try:
            psycopg.connect(url, connect_timeout=10).close()
        except psycopg.Error as exc:
            raise Unavailable(f"cannot connect to PostgreSQL: {_one_line(exc)}") from None
        self._pool = ConnectionPool(
            url,
            min_size=min_size,
            max_size=max_size,
            open=True,
            kwargs={"autocommit": True},
        )
        try:
            self._pool.wait(timeout=10.0)
        except PoolTimeout as exc:
            self._pool.close()
            raise Unavailable(f"cannot connect to PostgreSQL: {_one_line(exc)}") from None

    @contextmanager
    def transaction(self) -> Iterator[_Transaction]:
        with self._pool.connection() as conn, conn.transaction():
            yield _Transaction(conn)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        with self._pool.connection() as conn:
            return _Transaction(conn).execute(sql, params)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._pool.connection() as conn, conn.cursor() as cur:
            cur.execute(_pg(sql), params)
            rows: list[Row] = list(cur.fetchall())
            return rows

    def close(self) -> None:
        self._pool.close()


class PostgresStore(SqlStore):
    def __init__(self, url: str, master_key: MasterKey | None = None) -> None:
        db = PostgresDatabase(url)
        # Servers starting together must not race on DDL: migrate under an advisory lock.
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (_MIGRATION_LOCK,))
            try:
                migrate(db, MIGRATIONS)
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (_MIGRATION_LOCK,))
        try:
            super().__init__(db, master_key)
        except BaseException:
            db.close()
            raise

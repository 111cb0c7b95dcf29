"""The PostgreSQL backend: many stateless servers, one database.

Uses psycopg 3 with a connection pool. Statements run at READ COMMITTED; every multi-statement
change in :mod:`connectfed.store.sql` is written to be correct there (single-statement
conditional inserts, unique keys, and read-modify-write updaters that first take the row's lock
with a no-op UPDATE, a portable ``SELECT … FOR UPDATE``). Serialisation failures and deadlocks
are raised as :class:`~connectfed.store.sql.Retry`, and the updaters run again on them. Store
calls block; the server makes them off its event loop (:mod:`connectfed.offload`).

**Outages.** A store call that finds PostgreSQL gone (down, restarting, unreachable, out of disk
space, read-only after a failover) raises :class:`~connectfed.store.protocol.Unavailable`, which
the server answers as ``503 ServiceUnavailable``; it waits at most
:data:`CONNECTION_WAIT_SECONDS` for a connection. Once PostgreSQL is back the next call gets a
new connection at once: the pool gives up replacing lost connections in the background after
:data:`RECONNECT_SECONDS` (psycopg_pool's default, 5 minutes of attempts with doubling delays,
kept a restarted database unused for 20-40 s), and a call needing a connection starts a new
attempt. Connections a restart ended are found on their next use: the pool is then checked as a
whole (:meth:`ConnectionPool.check`), and what had not begun on the server (a read, a
``BEGIN``, a statement on a session the server had already ended) is run again on a new
connection, so a restart costs requests nothing; a write whose fate is unknown is Unavailable.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
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
# How long a store call waits for a connection before it is Unavailable (PostgreSQL is down or
# unreachable; the pool's default, 30 s, made each of a request's store calls wait that long, so
# that clients timed out before any answer came).
CONNECTION_WAIT_SECONDS = 5.0
# ... and, once one has waited that long in vain, until a call gets a connection again: a
# request makes several store calls, and five 5 s waits outlast the SDKs' 60 s read timeout.
UNREACHABLE_WAIT_SECONDS = 0.5
# How long the pool keeps trying to replace a lost connection by itself (see the docstring).
RECONNECT_SECONDS = 1.0
# How many connections one call tries when it finds the ones it is given ended by a restart.
_ATTEMPTS = 3
# The server ended the session (shut down or restarted, pg_terminate_backend, a crashed backend
# elsewhere): whatever the session was running did not complete.
_SESSION_ENDED = frozenset({"57P01", "57P02", "57P03"})
# Class 08: the connection failed; class 53: out of disk space, memory or connections;
# 25006: a read-only transaction (a standby promoted back, a database set read-only).
_OUT_OF_SERVICE_CLASSES = ("08", "53", "57P")
_READ_ONLY = "25006"


def _pg(sql: str) -> str:
    converted = _PLACEHOLDER_CACHE.get(sql)
    if converted is None:
        # No statement in the store has a literal '?' or '%', so this is a plain substitution.
        converted = sql.replace("?", "%s")
        _PLACEHOLDER_CACHE[sql] = converted
    return converted


def _one_line(error: Exception) -> str:
    """psycopg's message without its hint lines ("Is the server running on that host…")."""
    return " ".join(str(error).split("\n")[0].split()) or type(error).__name__


def _out_of_service(error: psycopg.Error) -> bool:
    """Whether ``error`` says the database cannot serve now (rather than refusing a statement)."""
    state = error.sqlstate
    if state is None:  # the connection itself failed: no answer from the server at all
        return isinstance(error, psycopg.OperationalError)
    return state.startswith(_OUT_OF_SERVICE_CLASSES) or state == _READ_ONLY


def _store_error(error: psycopg.Error) -> Exception:
    """The store's exception for a driver error (the error itself when it is none of them)."""
    if isinstance(error, pg_errors.UniqueViolation):
        return Conflict(str(error))
    if isinstance(error, pg_errors.SerializationFailure | pg_errors.DeadlockDetected):
        return Retry(str(error))
    if _out_of_service(error):
        return Unavailable(f"PostgreSQL is unavailable: {_one_line(error)}")
    return error


def _lost(error: psycopg.Error, conn: psycopg.Connection[Any]) -> bool:
    """Whether ``conn`` turned out to be dead (found so by this call, not caused by it)."""
    return conn.broken or (error.sqlstate or "") in _SESSION_ENDED


class _Transaction:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        try:
            with self._conn.cursor() as cur:
                cur.execute(_pg(sql), params, prepare=False)
                return cur.rowcount
        except psycopg.Error as exc:
            raise _store_error(exc) from None

    def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        # psycopg sends the rows pipelined (one round trip), not one statement at a time.
        try:
            with self._conn.cursor() as cur:
                cur.executemany(_pg(sql), rows)
        except psycopg.Error as exc:
            raise _store_error(exc) from None

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        try:
            with self._conn.cursor() as cur:
                cur.execute(_pg(sql), params)
                rows: list[Row] = list(cur.fetchall())
                return rows
        except psycopg.Error as exc:
            raise _store_error(exc) from None


@contextmanager
def _translated() -> Iterator[None]:
    """Driver errors raised inside (a COMMIT's, a pool's) as the store's exceptions."""
    try:
        yield
    except psycopg.Error as exc:
        raise _store_error(exc) from None


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
            timeout=CONNECTION_WAIT_SECONDS,
            reconnect_timeout=RECONNECT_SECONDS,
        )
        try:
            self._pool.wait(timeout=10.0)
        except PoolTimeout as exc:
            self._pool.close()
            raise Unavailable(f"cannot connect to PostgreSQL: {_one_line(exc)}") from None
        self._wait = CONNECTION_WAIT_SECONDS

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        wait = self._wait
        try:
            conn = self._pool.getconn(timeout=wait)
        except PoolTimeout:
            self._wait = UNREACHABLE_WAIT_SECONDS
            raise Unavailable(
                f"PostgreSQL is unavailable: no connection within {wait:g} s"
            ) from None
        self._wait = CONNECTION_WAIT_SECONDS
        try:
            yield conn
        finally:
            self._pool.putconn(conn)  # (a broken one is discarded and replaced)

    @contextmanager
    def transaction(self) -> Iterator[_Transaction]:
        with _translated(), self._begun() as conn:
            yield _Transaction(conn)

    @contextmanager
    def _begun(self) -> Iterator[psycopg.Connection[Any]]:
        """A connection in an open transaction (``BEGIN`` sent again on another connection when
        the first was found dead: nothing had run yet); committed when the body ends."""
        for attempt in range(_ATTEMPTS):
            with ExitStack() as stack:
                conn = stack.enter_context(self._connection())
                try:
                    stack.enter_context(conn.transaction())
                except psycopg.Error as exc:
                    if not _lost(exc, conn) or attempt + 1 == _ATTEMPTS:
                        raise
                else:
                    yield conn
                    return
            self._pool.check()
        raise AssertionError("unreachable")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        for attempt in range(_ATTEMPTS):
            with self._connection() as conn:
                try:
                    with conn.cursor() as cur:
                        cur.execute(_pg(sql), params, prepare=False)
                        return cur.rowcount
                except psycopg.Error as exc:
                    # Again only on a session the server had ended, where the statement did not
                    # run; a connection failing otherwise leaves its fate unknown.
                    ended = (exc.sqlstate or "") in _SESSION_ENDED
                    if not ended or attempt + 1 == _ATTEMPTS:
                        raise _store_error(exc) from None
            self._pool.check()
        raise AssertionError("unreachable")

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        for attempt in range(_ATTEMPTS):
            with self._connection() as conn:
                try:
                    with conn.cursor() as cur:
                        cur.execute(_pg(sql), params)
                        rows: list[Row] = list(cur.fetchall())
                        return rows
                except psycopg.Error as exc:
                    if not _lost(exc, conn) or attempt + 1 == _ATTEMPTS:
                        raise _store_error(exc) from None
            self._pool.check()  # a read changes nothing: run it again on another connection
        raise AssertionError("unreachable")

    def close(self) -> None:
        self._pool.close()


class PostgresStore(SqlStore):
    def __init__(self, url: str, master_key: MasterKey | None = None) -> None:
        db = PostgresDatabase(url)
        try:
            # Servers starting together must not race on DDL: migrate under an advisory lock.
            with _translated(), psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
                conn.execute("SELECT pg_advisory_lock(%s)", (_MIGRATION_LOCK,))
                try:
                    migrate(db, MIGRATIONS)
                finally:
                    if not conn.broken:
                        conn.execute("SELECT pg_advisory_unlock(%s)", (_MIGRATION_LOCK,))
            super().__init__(db, master_key)
        except BaseException:
            db.close()
            raise

"""Shared fixtures: real servers on real ports, PostgreSQL databases, CI awareness."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server import Server, start_server

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
POSTGRES_ADMIN_URL = os.environ.get("CONNECTFED_TEST_POSTGRES", "postgresql://127.0.0.1:5432/test")
# Databases this run created; dropped when the session ends so no run leaves any behind.
_CREATED_DATABASES: list[str] = []


def postgres_or_skip(icu_locale: str | None = None) -> str:
    """A URL of a fresh, empty PostgreSQL database; skips outside CI when none is reachable.
    With ``icu_locale`` (e.g. ``en``), the database sorts text by that ICU collation, as
    databases created with a language's locale do, instead of the server's default."""
    try:
        import psycopg

        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
            # The creating process's pid in the name: a later run can tell a leftover of a
            # killed run (pid gone) from a database a concurrent run still uses.
            name = f"connectfed_p{os.getpid()}_{uuid.uuid4().hex[:12]}"
            collation = (
                f" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE '{icu_locale}'"
                if icu_locale
                else ""
            )
            conn.execute(f'CREATE DATABASE "{name}"{collation}')
        _CREATED_DATABASES.append(name)
    except Exception as exc:
        if IN_CI:
            raise RuntimeError(f"PostgreSQL must be reachable in CI: {exc}") from exc
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {exc}")
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the session, throttling off (tests of throttling start their own)."""
    srv = start_server(tmp_path_factory.mktemp("server"), "--throttle-rate", "0")
    yield srv
    srv.stop()


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[Server]:
    srv = start_server(tmp_path, "--throttle-rate", "0")
    yield srv
    srv.stop()


_NAMED = re.compile(r"connectfed_p(\d+)_[0-9a-f]{12}")
_LEGACY = re.compile(r"connectfed_[0-9a-f]{12}")  # named before the pid was part of the name


def _abandoned(name: str) -> bool:
    """A test database whose creating process is gone (a run killed before it could drop it)."""
    named = _NAMED.fullmatch(name)
    if named is None:
        return _LEGACY.fullmatch(name) is not None
    try:
        os.kill(int(named.group(1)), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def pytest_sessionstart(session: pytest.Session) -> None:
    """Drop what killed runs left behind (best effort: no PostgreSQL, nothing to do)."""
    try:
        import psycopg

        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
            rows = conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE 'connectfed%'"
            ).fetchall()
            for (name,) in rows:
                if _abandoned(name):
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except Exception:  # PostgreSQL unreachable: the tests that need it say so themselves
        return


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Drop every database :func:`postgres_or_skip` created (servers are stopped by now)."""
    if not _CREATED_DATABASES:
        return
    import psycopg

    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
        for name in _CREATED_DATABASES:
            # FORCE ends connections a crashed test's server may have left open.
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _CREATED_DATABASES.clear()

"""Shared fixtures: real servers on real ports, PostgreSQL databases, CI awareness."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server import Server, start_server

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
POSTGRES_ADMIN_URL = os.environ.get("CONNECTFED_TEST_POSTGRES", "postgresql://127.0.0.1:5432/test")


def postgres_or_skip() -> str:
    """A URL of a fresh, empty PostgreSQL database; skips outside CI when none is reachable."""
    try:
        import psycopg

        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
            name = f"connectfed_{uuid.uuid4().hex[:12]}"
            conn.execute(f'CREATE DATABASE "{name}"')
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

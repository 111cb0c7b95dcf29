"""Fixtures of the storage conformance suite: every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connectfed.store import StaticKey, Store, open_store
from connectfed.store.sql import Database
from tests.conftest import postgres_or_skip

TEST_KEY = StaticKey(b"k" * 32, "the test key")


def raw_database(url: str) -> Database:
    """The backend's database alone, unmigrated (for tests of the migrations themselves)."""
    if url.startswith("sqlite:"):
        from connectfed.store.sqlite import SqliteDatabase

        return SqliteDatabase(url.removeprefix("sqlite://"))
    from connectfed.store.postgres import PostgresDatabase

    return PostgresDatabase(url)


def open_test_store(url: str) -> Store:
    """A store on ``url`` sealing its secrets with the suite's fixed master key."""
    return open_store(url, TEST_KEY)


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite://{tmp_path / 'store.db'}"
    return postgres_or_skip()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    backend = open_test_store(store_url)
    yield backend
    backend.close()

"""Fixtures of the conformance suite shared by its files: each test runs on SQLite and on
PostgreSQL. (``test_conformance.py`` still defines the same two for itself.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connectfed.store import Store, open_store
from tests.conftest import postgres_or_skip


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite://{tmp_path / 'store.db'}"
    return postgres_or_skip()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    backend = open_store(store_url)
    yield backend
    backend.close()

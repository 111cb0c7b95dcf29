"""A server on each storage backend, for the end-to-end tests that hold a property on both."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import postgres_or_skip
from tests.support.server import Server, start_server

BACKENDS = ["sqlite", "postgres"]  # a module-scoped fixture's params


@contextmanager
def server_on(backend: str, data_dir: Path, *args: str) -> Iterator[Server]:
    """``connectfed serve`` (throttling off, output followed) on a fresh database of
    ``backend``: a PostgreSQL one runs in CI and skips outside it when none is reachable."""
    url = postgres_or_skip() if backend == "postgres" else None
    server = start_server(data_dir, "--throttle-rate", "0", *args, database_url=url)
    server.follow_output()
    try:
        yield server
    finally:
        server.stop()


def logged_errors(lines: Sequence[str]) -> list[str]:
    """The lines of a server's output that report an error or a traceback."""
    return [line for line in lines if " ERROR " in line or "Traceback" in line]

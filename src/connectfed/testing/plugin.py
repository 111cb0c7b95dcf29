"""The pytest plugin, registered by the package's ``pytest11`` entry point (disable it with
``-p no:connectfed``). Documentation: docs/pytest-plugin.md.

Fixtures:

- ``connectfed`` — a :class:`~connectfed.testing.handle.Connectfed` for the test: world builder,
  boto3 clients, clock, faults, SAML. After each test the clock offset and the faults it set
  are undone.
- ``connectfed_session`` — the same handle for fixtures of a wider scope (a world built once).
- ``connectfed_server`` — the :class:`~connectfed.testing.server.ServerProcess`.

The server lives for the session, or per module/test with ``--connectfed-scope`` (ini
``connectfed_scope``); ``--connectfed-database-url`` (ini ``connectfed_database_url``, env
``CONNECTFED_TEST_DATABASE_URL``) runs it on PostgreSQL; ``--connectfed-server-arg`` (ini
``connectfed_server_args``) passes more options to ``connectfed serve``. A project's fixtures
built on ``connectfed_session`` take the same scope with ``scope=server_scope``.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # imported when a fixture is used: pytest starts fast wherever we're installed
    from connectfed.testing.handle import Connectfed
    from connectfed.testing.server import ServerProcess

SCOPES = ("session", "package", "module", "class", "function")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("connectfed", "connectfed test server")
    group.addoption(
        "--connectfed-scope",
        choices=SCOPES,
        default=None,
        help="how long one connectfed server lives (default: session)",
    )
    group.addoption(
        "--connectfed-database-url",
        default=None,
        help="run the server on this PostgreSQL database (default: SQLite in a "
        "temporary folder; env CONNECTFED_TEST_DATABASE_URL)",
    )
    group.addoption(
        "--connectfed-server-arg",
        action="append",
        default=[],
        help="another option for `connectfed serve` (repeatable), e.g. "
        "--connectfed-server-arg=--throttle-rate=2",
    )
    parser.addini("connectfed_scope", "how long one connectfed server lives", default="session")
    parser.addini("connectfed_database_url", "PostgreSQL URL for the connectfed server", default="")
    parser.addini(
        "connectfed_server_args", "more options for `connectfed serve`", type="args", default=[]
    )


def server_scope(fixture_name: str, config: pytest.Config) -> str:
    """The server's scope, for a project's own fixtures built on ``connectfed_session`` (a
    world built once per server): ``@pytest.fixture(scope=server_scope)``. A fixed
    ``scope="session"`` is a ScopeMismatch once servers start per module, class or test."""
    scope = config.getoption("connectfed_scope") or config.getini("connectfed_scope")
    if scope not in SCOPES:
        raise pytest.UsageError(f"connectfed_scope must be one of {', '.join(SCOPES)}")
    return str(scope)


def _database_url(config: pytest.Config) -> str | None:
    return (
        config.getoption("connectfed_database_url")
        or os.environ.get("CONNECTFED_TEST_DATABASE_URL")
        or config.getini("connectfed_database_url")
        or None
    )


@pytest.fixture(scope=server_scope)  # type: ignore[arg-type]  # pytest accepts a callable scope
def connectfed_server(
    tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> Iterator[ServerProcess]:
    """A ``connectfed serve`` subprocess on a free port (see the module's docstring)."""
    from connectfed.testing.server import ServerProcess

    args = [*pytestconfig.getini("connectfed_server_args")]
    for extra in pytestconfig.getoption("connectfed_server_arg"):
        args += shlex.split(extra)
    server = ServerProcess.start(
        tmp_path_factory.mktemp("connectfed"), database_url=_database_url(pytestconfig), args=args
    )
    yield server
    server.stop()


@pytest.fixture(scope=server_scope)  # type: ignore[arg-type]
def connectfed_session(connectfed_server: ServerProcess) -> Iterator[Connectfed]:
    """The handle of the current server, for fixtures wider than one test."""
    from connectfed.testing.handle import Connectfed

    handle = Connectfed(connectfed_server)
    yield handle
    handle.close()


@pytest.fixture
def connectfed(connectfed_session: Connectfed) -> Iterator[Connectfed]:
    """The connectfed server for this test: worlds, clients, clock, faults, SAML."""
    yield connectfed_session
    connectfed_session.reset()

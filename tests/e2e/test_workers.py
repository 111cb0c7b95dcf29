"""``serve --workers N`` on SQLite and PostgreSQL: a burst of federations and of single-use
sign-ins served by several processes sharing only the database — no token issued twice, no
issued family missing from the database, each sign-in code accepted exactly once, and with
``--throttle-shared`` exactly the configured quota across all workers."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import postgres_or_skip
from tests.support.browser import Browser
from tests.support.server import Server, start_server
from tests.support.world import build_world

BURST = 24  # the shared quota: the burst, with a rate too low to refill during the test
ATTEMPTS = 32


def _at_once(count: int, work: Callable[[int], Any]) -> list[Any]:
    results: list[Any] = [None] * count
    barrier = threading.Barrier(count)

    def run(index: int) -> None:
        barrier.wait()
        results[index] = work(index)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _workers_of(server: Server) -> list[str]:
    pid = server.process.pid
    return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()


def _families(database: str, server: Server) -> int:
    if database == "sqlite":
        conn = sqlite3.connect(str(server.data_dir / "connectfed.db"))
        try:
            return int(conn.execute("SELECT COUNT(*) FROM token_families").fetchone()[0])
        finally:
            conn.close()
    import psycopg

    with psycopg.connect(server.database_url) as conn:  # type: ignore[attr-defined]
        row = conn.execute("SELECT COUNT(*) FROM token_families").fetchone()
        assert row is not None
        return int(row[0])


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_workers_share_one_quota_and_issue_each_token_once(database: str, tmp_path: Path) -> None:
    url = postgres_or_skip() if database == "postgres" else None
    server = start_server(
        tmp_path / "data",
        "--workers",
        "3",
        "--throttle-shared",
        "--throttle-rate",
        "0.0001",
        "--throttle-burst",
        str(BURST),
        database_url=url,
    )
    server.database_url = url  # type: ignore[attr-defined]
    try:
        assert len(_workers_of(server)) == 3
        world = build_world(server, "workers")
        creds = world.assume("agent1")

        def federate(_: int) -> dict[str, Any] | str:
            connect = server.client(
                "connect", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
            )
            try:
                return dict(connect.get_federation_token(InstanceId=world.instance_id))
            except connect.exceptions.ClientError as exc:
                return str(exc.response["Error"]["Code"])

        results = _at_once(ATTEMPTS, federate)
        issued = [r for r in results if isinstance(r, dict)]
        # Exactly the quota, across every worker; the rest throttled, nothing else.
        assert len(issued) == BURST
        assert [r for r in results if not isinstance(r, dict)] == (
            ["ThrottlingException"] * (ATTEMPTS - BURST)
        )
        for kind in ("AccessToken", "RefreshToken"):
            assert len({r["Credentials"][kind] for r in issued}) == BURST  # none issued twice
        assert len({r["SignInUrl"] for r in issued}) == BURST
        assert _families(database, server) == BURST  # every family answered is stored

        # Sign-in codes used once each, all at once (separate connections, so spread over the
        # workers): every one signs in.
        once = [r["SignInUrl"] for r in issued[:8]]
        assert _at_once(len(once), lambda i: Browser(server.url).get(once[i]).status) == (
            [303] * len(once)
        )
        # Each of other codes presented twice at once: never two sign-ins. (The loser's replay
        # revokes what the code was spent for, RFC 6749 §4.1.2, so when it lands before the
        # winner's session is made, both are refused: single use may cost the winner too.)
        twice = [r["SignInUrl"] for r in issued[8:16]]
        statuses = _at_once(2 * len(twice), lambda i: Browser(server.url).get(twice[i // 2]).status)
        for index in range(len(twice)):
            pair = sorted(statuses[2 * index : 2 * index + 2])
            assert pair in ([303, 401], [401, 401])
    finally:
        server.stop()

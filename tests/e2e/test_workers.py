"""``serve --workers N`` on SQLite and PostgreSQL: a burst of federations and of single-use
sign-ins served by several processes sharing only the database — no token issued twice, no
issued family missing from the database, each sign-in code accepted exactly once, and with
``--throttle-shared`` exactly the configured quota across all workers."""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from connectfed.client import AdminClient, FaultSpec, botocore_clock
from tests.conftest import postgres_or_skip
from tests.support.admin import start_admin_server
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


def test_workers_share_the_admin_clock_and_faults(tmp_path: Path) -> None:
    """The admin API's clock offset and counted faults live in the database: every worker
    answers with the same clock, and a fault of count 3 fails exactly three calls, whichever
    workers they land on (each call on a new connection)."""
    server = start_admin_server(tmp_path / "data", "--workers", "2")
    try:
        assert len(_workers_of(server)) == 2
        world = build_world(server, "admin")
        admin = AdminClient(server.url)
        admin.advance(600)
        assert {AdminClient(server.url).clock().offset_seconds for _ in range(8)} == {600}
        with botocore_clock(600):
            creds = world.assume("agent1", DurationSeconds=3600)
            admin.add_fault(
                FaultSpec("connect", "GetFederationToken", error="ThrottlingException", count=3)
            )
            outcomes = []
            for _ in range(6):
                agent = server.client(  # a new client: a new connection, any worker
                    "connect", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
                )
                try:
                    agent.get_federation_token(InstanceId=world.instance_id)
                    outcomes.append("ok")
                except ClientError as error:
                    outcomes.append(str(error.response["Error"]["Code"]))
        assert outcomes == ["ThrottlingException"] * 3 + ["ok"] * 3
        assert admin.faults() == []
    finally:
        server.stop()


def test_a_worker_that_dies_stops_the_server(tmp_path: Path) -> None:
    """A supervisor restarts a whole server: a worker killed from outside stops the others, and
    the command exits non-zero instead of serving on with fewer workers."""
    server = start_server(tmp_path / "data", "--workers", "2")
    try:
        workers = _workers_of(server)
        assert len(workers) == 2
        os.kill(int(workers[0]), signal.SIGKILL)
        assert server.process.wait(timeout=30) == 1
        for pid in workers[1:]:
            assert not Path(f"/proc/{pid}").exists() or "Z" in _state(pid)
    finally:
        server.stop()


def test_stopping_the_server_stops_every_worker(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data", "--workers", "3")
    workers = _workers_of(server)
    assert len(workers) == 3
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=30) == 0
    assert all(not Path(f"/proc/{pid}").exists() for pid in workers)


def _state(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2]
    except FileNotFoundError:
        return "Z"

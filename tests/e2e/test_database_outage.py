"""PostgreSQL going away under a running server, as operators see it: a restart (every session
ended by the server) costs no request; while the database refuses connections every request is
answered ``503 ServiceUnavailable`` in its protocol's form, soon (not after the client gave up),
pages included; once it accepts connections again the server serves by itself, at once.

The database is made to go away alone, on the shared PostgreSQL server: its sessions are ended
with ``pg_terminate_backend`` (what a restart does to them) and new ones refused with
``ALLOW_CONNECTIONS false`` (what a stopped server does)."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from botocore.exceptions import ClientError

from tests.conftest import POSTGRES_ADMIN_URL, postgres_or_skip
from tests.support.server import Server, start_server
from tests.support.world import build_world


@pytest.fixture
def on_postgres(tmp_path: Path) -> Iterator[tuple[Server, str]]:
    url = postgres_or_skip()
    server = start_server(tmp_path, "--throttle-rate", "0", database_url=url)
    server.follow_output()
    yield server, url.rsplit("/", 1)[1]
    server.stop()


def _admin(statement: str, *params: Any) -> None:
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(statement, params)  # type: ignore[arg-type]


def _end_sessions(database: str) -> None:
    _admin(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = %s AND pid <> pg_backend_pid()",
        database,
    )


def _calls(server: Server, instance_id: str) -> dict[str, Callable[[], Any]]:
    """One store-reading call per protocol, each of the same caller."""
    connect = server.client("connect", read_timeout=60)
    iam = server.client("iam", read_timeout=60)
    return {
        "connect": lambda: connect.list_users(InstanceId=instance_id),
        "iam": lambda: iam.list_users(),
    }


def test_a_postgres_restart_costs_no_request(on_postgres: tuple[Server, str]) -> None:
    server, database = on_postgres
    world = build_world(server, "restart")
    calls = _calls(server, world.instance_id)
    creds = world.assume("agent1")
    agent = server.client(
        "connect", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
    )
    for call in calls.values():
        call()  # the pool's connections have been used
    _end_sessions(database)
    # Every call finds its pooled session ended, and is answered all the same.
    users = calls["connect"]()["UserSummaryList"]
    assert {"agent1", "agent2"} <= {user["Username"] for user in users}
    assert "caller-restart" in {user["UserName"] for user in calls["iam"]()["Users"]}
    assert agent.get_federation_token(InstanceId=world.instance_id)["Credentials"]
    _end_sessions(database)
    # A write first: an ended session had run nothing, so the write runs on a new one.
    server.client("iam").create_user(UserName="after-restart")
    assert server.client("iam").get_user(UserName="after-restart")["User"]["UserName"]


def test_while_postgres_refuses_connections_requests_are_503_and_then_served_again(
    on_postgres: tuple[Server, str],
) -> None:
    server, database = on_postgres
    world = build_world(server, "outage")
    calls = _calls(server, world.instance_id)
    for call in calls.values():
        call()
    _admin(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
    try:
        _end_sessions(database)
        for name, call in calls.items():
            started = time.monotonic()
            with pytest.raises(ClientError) as refused:
                call()
            error = refused.value.response
            assert error["ResponseMetadata"]["HTTPStatusCode"] == 503, (name, error)
            assert error["Error"]["Code"] == "ServiceUnavailable", (name, error)
            assert error["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
            # Answered while the client still waits (botocore gives up after 60 s).
            assert time.monotonic() - started < 20, name
        page = f"{server.url}/connect/{world.instance_id}/ccp-v2/"
        with pytest.raises(urllib.error.HTTPError) as failed:
            urllib.request.urlopen(page, timeout=30)
        assert failed.value.code == 503
        assert failed.value.headers["Content-Type"].startswith("text/html")
    finally:
        _admin(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
    # Back: served again by itself, within seconds.
    deadline = time.monotonic() + 10
    while True:
        try:
            for call in calls.values():
                call()
            break
        except ClientError:
            assert time.monotonic() < deadline, "not served again 10 s after PostgreSQL was back"
            time.sleep(0.2)
    assert "Traceback" not in "".join(server.output)

"""kill -9 under load: every write a client saw acknowledged survives, and the database is intact.

A real server (SQLite or PostgreSQL) takes concurrent IAM CreateUser, STS AssumeRole and Connect
GetFederationToken calls from threads; it is SIGKILLed mid-load and restarted on the same data.
Counts and time are bounded; nothing waits on wall-clock assertions.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest

from connectfed.clock import SystemClock
from connectfed.store import KeyFile, MasterKey, StaticKey, open_store
from connectfed.store.sealing import decode_key
from connectfed.tokens import TokenKeys
from connectfed.tokens import format as token_format
from tests.conftest import postgres_or_skip
from tests.support.server import SHARED_MASTER_KEY, Server, start_server
from tests.support.world import World, build_world

WORKERS = 4
KILL_AFTER_ACKS = 45  # acknowledged writes before the kill (the load keeps running meanwhile)
LOAD_LIMIT_SECONDS = 20.0  # bound on the load phase if the server is slow
pytestmark = pytest.mark.timeout(240)
QUICK: dict[str, Any] = {"connect_timeout": 3, "read_timeout": 10}  # single attempt


@dataclass
class Acknowledged:
    users: list[str] = field(default_factory=list)
    sessions: list[dict[str, Any]] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self) -> int:
        with self.lock:
            return len(self.users) + len(self.sessions) + len(self.tokens)


def _worker(world: World, index: int, acked: Acknowledged, stop: threading.Event) -> None:
    server = world.server
    iam = server.client("iam", **QUICK)
    sts = server.client("sts", world.caller_key, world.caller_secret, **QUICK)
    number = 0
    while True:
        number += 1
        try:
            name = f"crash-{index}-{number}"
            iam.create_user(UserName=name)
            with acked.lock:
                acked.users.append(name)
            creds = sts.assume_role(RoleArn=world.role_arn, RoleSessionName="agent1")["Credentials"]
            with acked.lock:
                acked.sessions.append(creds)
            connect = server.client(
                "connect",
                creds["AccessKeyId"],
                creds["SecretAccessKey"],
                creds["SessionToken"],
                **QUICK,
            )
            tokens = connect.get_federation_token(InstanceId=world.instance_id)["Credentials"]
            with acked.lock:
                acked.tokens += [tokens["AccessToken"], tokens["RefreshToken"]]
        except Exception:  # the server died under us: only acknowledged writes count
            if stop.is_set():
                return
            raise


def _load_then_kill(world: World) -> Acknowledged:
    acked, stop = Acknowledged(), threading.Event()
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            _worker(world, index, acked, stop)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(WORKERS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + LOAD_LIMIT_SECONDS
    while acked.count() < KILL_AFTER_ACKS and time.monotonic() < deadline and not errors:
        time.sleep(0.02)
    stop.set()  # from now on a failed request is the kill's doing; requests are still in flight
    world.server.process.kill()  # SIGKILL, mid-load
    world.server.process.wait(timeout=10)
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert acked.users and acked.sessions and acked.tokens, "no load was acknowledged"
    return acked


def _check_acknowledged(server: Server, acked: Acknowledged, url: str, key: MasterKey) -> None:
    iam = server.client("iam")
    names = {user["UserName"] for user in iam.list_users()["Users"]}
    assert set(acked.users) <= names
    for creds in acked.sessions:  # the session row and its sealed secret both survived
        sts = server.client(
            "sts", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
        )
        assert sts.get_caller_identity()["Arn"].endswith("/agent1")
    store = open_store(url, key)
    try:
        ring = TokenKeys(store, SystemClock(), ttl=0).ring()
        for token in acked.tokens:
            hashes = [key.digest(token) for key in ring.keys]
            assert store.find_token(hashes, token_format.family_of(token)) is not None
    finally:
        store.close()


def _crash_and_restart(data_dir: Path, url: str | None) -> tuple[Server, Acknowledged]:
    server = start_server(data_dir, "--throttle-rate", "0", database_url=url)
    world = build_world(server, "crash")
    acked = _load_then_kill(world)
    return start_server(data_dir, "--throttle-rate", "0", database_url=url), acked


def _assert_consistent(rows: Callable[[str], list[tuple[Any, ...]]]) -> None:
    orphans = rows(
        "SELECT count(*) FROM access_keys k WHERE k.user_id IS NOT NULL AND NOT EXISTS"
        " (SELECT 1 FROM iam_users u WHERE u.user_id = k.user_id)"
    )
    assert orphans == [(0,)]
    # Each GetFederationToken wrote its family with all of its tokens (access, refresh, sign-in
    # code) in its one row, and no token row outlived its family.
    assert (
        rows(
            "SELECT family_id FROM token_families"
            " WHERE length(inline_tokens) - length(replace(inline_tokens, ',', '')) <> 2"
            " OR inline_tokens IS NULL"
        )
        == []
    )
    assert rows(
        "SELECT count(*) FROM tokens t WHERE NOT EXISTS"
        " (SELECT 1 FROM token_families f WHERE f.family_id = t.family_id)"
    ) == [(0,)]


def test_sqlite_keeps_every_acknowledged_write_through_kill_9(tmp_path: Path) -> None:
    data = tmp_path / "crash"
    server, acked = _crash_and_restart(data, None)
    try:
        db = data / "connectfed.db"
        _check_acknowledged(server, acked, f"sqlite://{db}", KeyFile(data / "master.key"))
        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            _assert_consistent(lambda sql: conn.execute(sql).fetchall())
    finally:
        server.stop()


def test_postgres_keeps_every_acknowledged_write_through_kill_9(tmp_path: Path) -> None:
    url = postgres_or_skip()
    server, acked = _crash_and_restart(tmp_path / "crash", url)
    try:
        _check_acknowledged(server, acked, url, StaticKey(decode_key(SHARED_MASTER_KEY, "test")))
        with psycopg.connect(url) as conn:
            _assert_consistent(lambda sql: conn.execute(sql).fetchall())
    finally:
        server.stop()

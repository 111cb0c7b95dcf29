"""Another process holding SQLite's write lock stalls only the requests that must write, never
the server: while a second connection to the database file sits in ``BEGIN IMMEDIATE``, a
GetFederationToken waits for the lock, and meanwhile health, GetCallerIdentity (which reads
only) and reads of the Connect API are answered; once the lock is released the waiting
federation completes with its tokens stored. No timing assertions: the waiting call is seen to
be still waiting (not done) while the others answer."""

from __future__ import annotations

import sqlite3
import threading
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.saml_world import build_saml_world, post_saml
from tests.support.server import start_server
from tests.support.world import build_world


def test_a_write_lock_held_elsewhere_stalls_only_the_writers(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data", "--throttle-rate", "0")
    try:
        world = build_world(server, "stall")
        creds = world.assume("agent1")
        agent = server.client(
            "connect", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
        )
        sts = server.client(
            "sts", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
        )
        agent.get_federation_token(InstanceId=world.instance_id)  # warm: the user is bound

        holder = sqlite3.connect(str(server.data_dir / "connectfed.db"), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another process's writer, as far as the server sees
        done = threading.Event()
        result: dict[str, Any] = {}

        def federate() -> None:
            try:
                result["token"] = agent.get_federation_token(InstanceId=world.instance_id)
            except Exception as exc:  # reported by the assertion below
                result["error"] = exc
            finally:
                done.set()

        waiting = threading.Thread(target=federate)
        try:
            waiting.start()
            for _ in range(5):
                with urllib.request.urlopen(server.url + "/_connectfed/health", timeout=10) as r:
                    assert r.status == 200
                assert sts.get_caller_identity()["Arn"].endswith("/agent1")
                listed = server.client("connect").list_instances()["InstanceSummaryList"]
                assert [i["Id"] for i in listed] == [world.instance_id]
            assert not done.is_set(), "the federation should still wait for the write lock"
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        waiting.join(timeout=60)
        assert done.is_set() and "error" not in result, result.get("error")
        access = result["token"]["Credentials"]["AccessToken"]
        assert access.startswith("cfa_")
    finally:
        server.stop()


def test_cached_credentials_answer_get_caller_identity_while_every_store_thread_waits(
    tmp_path: Path,
) -> None:
    """GetCallerIdentity needs nothing from the store once the caller's credentials are in
    memory: it is answered on the event loop, not queued behind the store's threads. With one
    store thread, held by an IAM write waiting for a write lock taken elsewhere, it still
    answers (a long cache lifetime keeps the credentials in memory for the whole test), while a
    call that must read the store waits its turn. A federation waiting for that lock does not
    hold the store thread: its token family is committed by the store's writer before its
    reply (store/deferred.py), so a read is answered while the federation still waits."""
    server = start_server(
        tmp_path / "data", "--throttle-rate", "0", "--store-threads", "1", "--cache-ttl", "300"
    )
    try:
        world = build_world(server, "stall1")
        creds = world.assume("agent1")
        keys = (creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
        agent, sts = server.client("connect", *keys), server.client("sts", *keys)
        agent.get_federation_token(InstanceId=world.instance_id)  # warm: the user is bound
        assert sts.get_caller_identity()["Arn"].endswith("/agent1")  # its credentials cached

        holder = sqlite3.connect(str(server.data_dir / "connectfed.db"), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        federated, created, listed = threading.Event(), threading.Event(), threading.Event()

        def federate() -> None:
            agent.get_federation_token(InstanceId=world.instance_id)
            federated.set()

        def create_user() -> None:
            server.client("iam").create_user(UserName="while-stalled")
            created.set()

        def list_instances() -> None:
            server.client("connect").list_instances()
            listed.set()

        waiting = [
            threading.Thread(target=federate),
            threading.Thread(target=create_user),
            threading.Thread(target=list_instances),
        ]
        try:
            waiting[0].start()
            # The federation waits for the lock without its store thread: reads still answer.
            listing = server.client("connect").list_instances()["InstanceSummaryList"]
            assert [i["Id"] for i in listing] == [world.instance_id]
            assert not federated.is_set(), "the federation should still wait for the write lock"
            waiting[1].start()
            for _ in range(20):  # the IAM write now holds the only store thread
                assert sts.get_caller_identity()["Arn"].endswith("/agent1")
            waiting[2].start()
            for _ in range(5):
                assert sts.get_caller_identity()["UserId"].endswith(":agent1")
            assert not federated.is_set(), "the federation should still wait for the write lock"
            assert not created.is_set(), "CreateUser should still wait for the write lock"
            assert not listed.is_set(), "ListInstances should wait for the one store thread"
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        for thread in waiting:
            thread.join(timeout=60)
        assert federated.is_set() and created.is_set() and listed.is_set()
    finally:
        server.stop()


def test_a_federation_whose_tokens_cannot_be_stored_is_an_internal_error(tmp_path: Path) -> None:
    """The token family is committed before the reply (store/deferred.py): when that commit
    fails, the caller gets Connect's internal error, not tokens that were never stored."""
    server = start_server(tmp_path / "data", "--throttle-rate", "0")
    try:
        world = build_world(server, "unstored")
        creds = world.assume("agent1")
        keys = (creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
        agent = server.client("connect", *keys, attempts=1)
        agent.get_federation_token(InstanceId=world.instance_id)
        database = sqlite3.connect(str(server.data_dir / "connectfed.db"), isolation_level=None)
        try:
            database.execute(
                "CREATE TRIGGER refuse_families BEFORE INSERT ON token_families"
                " BEGIN SELECT RAISE(ABORT, 'the disk is full'); END"
            )
            with pytest.raises(ClientError) as refused:
                agent.get_federation_token(InstanceId=world.instance_id)
            error = refused.value.response
            assert error["ResponseMetadata"]["HTTPStatusCode"] == 500
            assert error["Error"]["Code"] == "InternalServiceException"
            headers = error["ResponseMetadata"]["HTTPHeaders"]
            assert headers["x-amzn-errortype"].startswith("InternalServiceException")
            assert "Credentials" not in error
            families = database.execute("SELECT COUNT(*) FROM token_families").fetchone()[0]
            database.execute("DROP TRIGGER refuse_families")
        finally:
            database.close()
        issued = agent.get_federation_token(InstanceId=world.instance_id)["Credentials"]
        assert issued["AccessToken"].startswith("cfa_")
        assert families == 1  # the first federation's only
    finally:
        server.stop()


def test_a_sign_in_whose_session_cannot_be_stored_is_an_internal_error(tmp_path: Path) -> None:
    """A SAML sign-in's STS session and console token are committed before its reply: when
    that commit fails, the browser gets the internal-error page and no cookie, never a cookie
    for a session that was not stored, and the next sign-in works."""
    server = start_server(tmp_path / "data", "--throttle-rate", "0")
    try:
        saml = build_saml_world(server, "unstored-signin")
        assert post_saml(server, saml.assertion()).status == 200
        database = sqlite3.connect(str(server.data_dir / "connectfed.db"), isolation_level=None)
        try:
            database.execute(
                "CREATE TRIGGER refuse_families BEFORE INSERT ON token_families"
                " BEGIN SELECT RAISE(ABORT, 'the disk is full'); END"
            )
            status, cookie, page = post_saml(server, saml.assertion())
            families = database.execute("SELECT COUNT(*) FROM token_families").fetchone()[0]
            database.execute("DROP TRIGGER refuse_families")
        finally:
            database.close()
        assert (status, cookie) == (500, None)
        assert "Something went wrong" in page
        assert families == 1  # the first sign-in's only
        status, cookie, _ = post_saml(server, saml.assertion())
        assert status == 200 and cookie is not None
    finally:
        server.stop()

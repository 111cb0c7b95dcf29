"""Concurrent writes share a commit (SQLite's group commit); a request that fails inside its
transaction, after writing (DeleteUser that finds a key still attached: its DELETE is rolled
back) or on writing (CreateUser of a taken name), rolls back alone: every other request of the
burst keeps its rows, and the failing ones change nothing."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from botocore.exceptions import ClientError

from tests.support.server import Server

ROUNDS = 4
GOOD = 24
PINNED = 8


def _outcome(call: Any) -> str:
    try:
        call()
    except ClientError as error:
        return str(error.response["Error"]["Code"])
    return "ok"


def test_failing_requests_in_a_burst_lose_no_other_requests_rows(fresh_server: Server) -> None:
    iam = fresh_server.client("iam", max_pool_connections=64)
    for index in range(PINNED):
        iam.create_user(UserName=f"pinned-{index}")
        iam.create_access_key(UserName=f"pinned-{index}")
    for round_ in range(ROUNDS):
        calls = [
            *(partial(iam.create_user, UserName=f"good-{round_}-{i}") for i in range(GOOD)),
            *(partial(iam.delete_user, UserName=f"pinned-{i}") for i in range(PINNED)),
            *(partial(iam.create_user, UserName=f"pinned-{i}") for i in range(PINNED)),
        ]
        with ThreadPoolExecutor(len(calls)) as pool:
            outcomes = Counter(pool.map(_outcome, calls))
        assert outcomes == {"ok": GOOD, "DeleteConflict": PINNED, "EntityAlreadyExists": PINNED}
    names = {
        user["UserName"]
        for page in iam.get_paginator("list_users").paginate()
        for user in page["Users"]
    }
    expected = {f"good-{r}-{i}" for r in range(ROUNDS) for i in range(GOOD)}
    assert expected | {f"pinned-{i}" for i in range(PINNED)} <= names
    for index in range(PINNED):
        keys = iam.list_access_keys(UserName=f"pinned-{index}")["AccessKeyMetadata"]
        assert len(keys) == 1

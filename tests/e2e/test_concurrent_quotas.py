"""IAM's quotas hold under concurrent calls: a server with two workers, on SQLite and on
PostgreSQL, takes a burst of calls for one owner at once.

* Two access keys per user (and for the root): two keys are created, every other call is
  ``409 LimitExceeded``. (The count was read before the key was added, outside its transaction:
  7-9 keys out of 12 calls.)
* A user's inline policies together may hold 2,048 characters (not counting whitespace): of
  twelve policies of 641 characters each, put at once under twelve names, three are stored.
  (The total was read outside the write, so more got in together.)"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import postgres_or_skip
from tests.support.server import start_server

CALLS = 12


def _burst(call: Callable[[], Any]) -> Counter[str]:
    outcomes: Counter[str] = Counter()
    lock, start = threading.Lock(), threading.Barrier(CALLS)

    def run() -> None:
        start.wait()
        try:
            call()
            outcome = "created"
        except ClientError as error:
            status = error.response["ResponseMetadata"]["HTTPStatusCode"]
            outcome = f"{status} {error.response['Error']['Code']}"
        with lock:
            outcomes[outcome] += 1

    threads = [threading.Thread(target=run) for _ in range(CALLS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_concurrent_create_access_key_creates_at_most_two(tmp_path: Path, database: str) -> None:
    url = postgres_or_skip() if database == "postgres" else None
    server = start_server(tmp_path, "--throttle-rate", "0", "--workers", "2", database_url=url)
    try:
        iam = server.client("iam", max_pool_connections=CALLS)
        iam.create_user(UserName="burst")
        by_user = _burst(lambda: iam.create_access_key(UserName="burst"))
        assert by_user == {"created": 2, "409 LimitExceeded": CALLS - 2}
        assert len(iam.list_access_keys(UserName="burst")["AccessKeyMetadata"]) == 2
        # The root holds one key (the server's); one more may be added.
        by_root = _burst(lambda: iam.create_access_key())
        assert by_root == {"created": 1, "409 LimitExceeded": CALLS - 1}
        assert len(iam.list_access_keys()["AccessKeyMetadata"]) == 2
    finally:
        server.stop()


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_concurrent_put_user_policy_stays_within_the_size_quota(
    tmp_path: Path, database: str
) -> None:
    url = postgres_or_skip() if database == "postgres" else None
    server = start_server(tmp_path, "--throttle-rate", "0", "--workers", "2", database_url=url)
    try:
        iam = server.client("iam", max_pool_connections=CALLS)
        iam.create_user(UserName="policies")
        statement = '{"Effect":"Allow","Action":"sts:GetCallerIdentity","Resource":"*"}'
        padding = ",".join([statement] * 9)
        document = '{"Version":"2012-10-17","Statement":[' + padding + "]}"
        size = len(document)  # no whitespace: counted as it is
        names = iter(range(CALLS))
        lock = threading.Lock()

        def put() -> None:
            with lock:
                name = f"p{next(names)}"
            iam.put_user_policy(UserName="policies", PolicyName=name, PolicyDocument=document)

        outcomes = _burst(put)
        fits = 2048 // size
        assert outcomes == {"created": fits, "409 LimitExceeded": CALLS - fits}, size
        assert len(iam.list_user_policies(UserName="policies")["PolicyNames"]) == fits
    finally:
        server.stop()

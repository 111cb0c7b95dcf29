"""IAM's list operations page as IAM does (``MaxItems`` 1 to 1000, default 100; ``IsTruncated``
and an opaque ``Marker``), driven by boto3's paginators, direct calls and the AWS CLI's
``--page-size``/``--max-items``/``--starting-token``: every item exactly once, in pages of the
size asked for, and a Marker that was not issued refused as IAM refuses it."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.aws_env import clean_env
from tests.support.server import ROOT_KEY, ROOT_SECRET, Server
from tests.support.world import trust_account

PATH = "/paging/"
NAMES = [f"pg-{c}" for c in "bEaDcFg"]  # mixed case: IAM names sort case-insensitively
POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"}],
    }
)


@pytest.fixture(scope="module")
def iam(server: Server) -> Any:
    client = server.client("iam")
    for name in NAMES:
        client.create_user(UserName=name, Path=PATH)
        client.create_role(RoleName=name, Path=PATH, AssumeRolePolicyDocument=trust_account())
        client.put_user_policy(UserName=NAMES[0], PolicyName=name, PolicyDocument=POLICY)
        client.put_role_policy(RoleName=NAMES[0], PolicyName=name, PolicyDocument=POLICY)
    return client


LISTINGS: list[tuple[str, str, dict[str, str], Callable[[Any], str]]] = [
    ("list_users", "Users", {"PathPrefix": PATH}, lambda u: u["UserName"]),
    ("list_roles", "Roles", {"PathPrefix": PATH}, lambda r: r["RoleName"]),
    ("list_user_policies", "PolicyNames", {"UserName": NAMES[0]}, str),
    ("list_role_policies", "PolicyNames", {"RoleName": NAMES[0]}, str),
]


@pytest.mark.parametrize("operation,member,params,name", LISTINGS)
def test_paginators_get_every_item_once_in_pages_of_the_size_asked(
    iam: Any, operation: str, member: str, params: dict[str, str], name: Callable[[Any], str]
) -> None:
    pages = list(iam.get_paginator(operation).paginate(PaginationConfig={"PageSize": 2}, **params))
    assert [len(p[member]) for p in pages] == [2, 2, 2, 1]
    assert [p["IsTruncated"] for p in pages] == [True, True, True, False]
    assert "Marker" not in pages[-1]
    names = [name(item) for p in pages for item in p[member]]
    assert sorted(names) == sorted(NAMES)


@pytest.mark.parametrize("operation,member,params,name", LISTINGS)
def test_max_items_and_marker_by_hand(
    iam: Any, operation: str, member: str, params: dict[str, str], name: Callable[[Any], str]
) -> None:
    call = getattr(iam, operation)
    first = call(MaxItems=3, **params)
    assert len(first[member]) == 3 and first["IsTruncated"] is True
    rest = call(Marker=first["Marker"], **params)
    assert rest["IsTruncated"] is False and "Marker" not in rest
    together = [name(i) for i in first[member] + rest[member]]
    assert together == [name(i) for i in call(**params)[member]]
    assert len(set(together)) == len(NAMES)


@pytest.mark.parametrize("marker", ["garbage", "eyJhZnRlciI6IDF9", "x" * 300])
def test_a_marker_iam_did_not_issue_is_a_validation_error(iam: Any, marker: str) -> None:
    with pytest.raises(ClientError) as refused:
        iam.list_users(Marker=marker)
    error = refused.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Error"]["Code"] == "ValidationError"
    assert error["Error"]["Message"] == "Invalid Marker."


def test_a_marker_continues_only_the_listing_that_issued_it(iam: Any) -> None:
    # A Marker of ListUsers was taken by ListRoles (and by ListUsers of another path), which
    # then listed from a key it never had.
    marker = iam.list_users(PathPrefix=PATH, MaxItems=2)["Marker"]
    assert iam.list_users(PathPrefix=PATH, Marker=marker)["Users"]
    for call in (
        lambda: iam.list_roles(PathPrefix=PATH, Marker=marker),
        lambda: iam.list_users(PathPrefix="/", Marker=marker),
        lambda: iam.list_user_policies(UserName=NAMES[0], Marker=marker),
    ):
        with pytest.raises(ClientError) as refused:
            call()
        assert refused.value.response["Error"]["Code"] == "ValidationError"
        assert refused.value.response["Error"]["Message"] == "Invalid Marker."


def test_the_aws_cli_pages_iam_with_page_size_max_items_and_starting_token(
    iam: Any, server: Server, tmp_path: Path
) -> None:
    env = clean_env(tmp_path, AWS_ACCESS_KEY_ID=ROOT_KEY, AWS_SECRET_ACCESS_KEY=ROOT_SECRET)
    base = [sys.executable, "-m", "awscli", "iam", "list-users", "--path-prefix", PATH]
    base += ["--endpoint-url", server.url, "--region", "us-east-1", "--output", "json"]

    def run(*extra: str) -> dict[str, Any]:
        result = subprocess.run(
            [*base, *extra], env=env, text=True, capture_output=True, timeout=60, check=False
        )
        assert result.returncode == 0, result.stderr
        return dict(json.loads(result.stdout))

    def traced(*extra: str) -> list[str]:
        result = subprocess.run(
            [*base, *extra, "--debug"], env=env, text=True, capture_output=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
        return [line for line in result.stderr.splitlines() if "<IsTruncated>" in line]

    # --page-size: the CLI still prints everything, fetched two by two.
    assert len(traced("--page-size", "2")) == 4
    seen: list[str] = []
    token: str | None = None
    while True:
        out = run(
            "--max-items", "3", "--page-size", "2", *(["--starting-token", token] if token else [])
        )
        seen += [u["UserName"] for u in out["Users"]]
        token = out.get("NextToken")
        if token is None:
            break
    assert seen == sorted(NAMES, key=str.lower)

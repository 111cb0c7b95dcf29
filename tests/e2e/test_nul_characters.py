"""A NUL character (U+0000) in any string of a request: a validation error in the operation's
own form on every backend, never a 500 (PostgreSQL's text cannot hold it), and the audit trail
keeps every event written beside the refused ones."""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.support.backends import BACKENDS, server_on
from tests.support.errors import aws_error
from tests.support.server import Server
from tests.support.world import World, build_world, federate_policy, make_role


@pytest.fixture(scope="module", params=BACKENDS)
def nul_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    with server_on(request.param, tmp_path_factory.mktemp("nul")) as server:
        yield server


@pytest.fixture(scope="module")
def world(nul_server: Server) -> World:
    return build_world(nul_server, "nul")


@pytest.fixture(scope="module")
def calls(world: World) -> dict[str, tuple[Any, str]]:
    """Each call with a NUL somewhere in its input, and the error code its model names for
    invalid input."""
    root = world.server.client("connect")
    wide = make_role(world.server, "NulWide", federate_policy("*"))
    agent = world.connect_as("agent1", wide)
    user_id = root.list_users(InstanceId=world.instance_id)["UserSummaryList"][0]["Id"]
    user = {
        "PhoneConfig": {"PhoneType": "SOFT_PHONE"},
        "SecurityProfileIds": [world.security_profile],
        "RoutingProfileId": world.routing_profile,
    }
    return {
        "GetFederationToken": (
            lambda: agent.get_federation_token(InstanceId="a\x00b"),
            "InvalidParameterException",
        ),
        "DescribeInstance": (
            lambda: root.describe_instance(InstanceId="a\x00b"),
            "InvalidRequestException",
        ),
        "ListUsers": (lambda: root.list_users(InstanceId="a\x00b"), "InvalidParameterException"),
        "DescribeUser": (
            lambda: root.describe_user(InstanceId=world.instance_id, UserId="a\x00b"),
            "InvalidParameterException",
        ),
        "DeleteUser": (
            lambda: root.delete_user(InstanceId=world.instance_id, UserId="a\x00b"),
            "InvalidParameterException",
        ),
        "CreateUser": (
            lambda: root.create_user(
                InstanceId=world.instance_id,
                Username="nul1",
                IdentityInfo={"FirstName": "a\x00b"},
                **user,
            ),
            "InvalidParameterException",
        ),
        "UpdateUserIdentityInfo": (
            lambda: root.update_user_identity_info(
                InstanceId=world.instance_id, UserId=user_id, IdentityInfo={"LastName": "\x00"}
            ),
            "InvalidParameterException",
        ),
        "CreateAgentStatus": (
            lambda: root.create_agent_status(
                InstanceId=world.instance_id, Name="s\x00", State="ENABLED"
            ),
            "InvalidParameterException",
        ),
        "LookupEvents": (
            lambda: world.server.client("cloudtrail").lookup_events(
                LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": "a\x00"}]
            ),
            "InvalidLookupAttributesException",
        ),
    }


def test_a_nul_character_is_invalid_input_never_an_internal_error(
    world: World, calls: dict[str, tuple[Any, str]]
) -> None:
    for name, (call, code) in calls.items():
        error = aws_error(call)
        assert (name, error["Status"], error["Code"]) == (name, 400, code), error
        assert "null character" in error["Message"]
    # Nothing was stored: no user with the NUL, and the user updated keeps its name.
    root = world.server.client("connect")
    users = root.list_users(InstanceId=world.instance_id)["UserSummaryList"]
    assert "nul1" not in {u["Username"] for u in users}


def test_the_audit_trail_keeps_the_events_beside_a_refused_nul(world: World) -> None:
    root = world.server.client("connect")
    aws_error(lambda: root.describe_user(InstanceId=world.instance_id, UserId="x\x00"))
    created = root.create_agent_status(
        InstanceId=world.instance_id, Name="after-nul", State="ENABLED"
    )
    trail = world.server.client("cloudtrail")
    events = trail.lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateAgentStatus"}]
    )["Events"]
    assert any(created["AgentStatusId"] in e["CloudTrailEvent"] for e in events)


def test_the_server_logged_no_error(
    nul_server: Server, world: World, calls: dict[str, tuple[Any, str]]
) -> None:
    for call, _ in calls.values():
        aws_error(call)
    world.server.client("cloudtrail").lookup_events(MaxResults=1)  # the trail is written first
    assert not any(" ERROR " in line for line in nul_server.output), nul_server.output


def _forged_token(instance_id: str, after: str) -> str:
    """A NextToken for ListUsers of ``instance_id`` that resumes after ``after``, made as the
    server makes them (their format is no secret: base64 of JSON and a digest of the listing)."""
    listing = json.dumps(["connect", "ListUsers", {"InstanceId": instance_id}], sort_keys=True)
    document = {"after": after, "for": hashlib.sha256(listing.encode()).hexdigest()[:16]}
    return base64.urlsafe_b64encode(json.dumps(document).encode()).decode()


@pytest.mark.parametrize("after", ["agent1\x00", "\ud800"], ids=["nul", "lone-surrogate"])
def test_a_page_token_resuming_after_what_no_key_holds_is_invalid(
    nul_server: Server, world: World, after: str
) -> None:
    """The key a NextToken resumes after reaches the store: one holding a NUL (PostgreSQL's
    text cannot hold it) or a lone surrogate (not text: no driver encodes it) was never issued,
    and is refused as any token not issued is, on every backend."""
    root = world.server.client("connect")
    genuine = root.list_users(InstanceId=world.instance_id, MaxResults=1)["NextToken"]
    assert root.list_users(InstanceId=world.instance_id, NextToken=genuine)["UserSummaryList"]
    token = _forged_token(world.instance_id, after)
    error = aws_error(root.list_users, InstanceId=world.instance_id, NextToken=token)
    assert (error["Status"], error["Code"]) == (400, "InvalidParameterException"), error
    assert error["Message"] == "The NextToken is not valid."
    assert not any(" ERROR " in line for line in nul_server.output), nul_server.output


@pytest.mark.parametrize(
    ("path", "service", "status", "code"),
    [
        ("/instance?", "connect", 403, "UnrecognizedClientException"),
        ("/?Action=GetCallerIdentity&Version=2011-06-15&", "sts", 403, "InvalidClientTokenId"),
    ],
    ids=["connect", "sts"],
)
@pytest.mark.parametrize("key_id", ["AKIA%00EXAMPLE", "AKIA%ED%A0%80"], ids=["nul", "not-utf8"])
def test_a_presigned_access_key_id_no_key_holds_is_an_unknown_key(
    nul_server: Server, path: str, service: str, status: int, code: str, key_id: str
) -> None:
    """A presigned URL's X-Amz-Credential names the key looked up in the store: one holding a
    NUL is a key no one has (it was a 500 on PostgreSQL), as any unknown key is."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    query = (
        f"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={key_id}%2F{stamp[:8]}%2F"
        f"us-east-1%2F{service}%2Faws4_request&X-Amz-Date={stamp}&X-Amz-Expires=60"
        f"&X-Amz-SignedHeaders=host&X-Amz-Signature={'0' * 64}"
    )
    logged = len(nul_server.output)
    parts = urlsplit(nul_server.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.request("GET", path + query)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    said = response.getheader("x-amzn-ErrorType") or data.decode()
    assert (response.status, code in said) == (status, True), data
    assert not any(" ERROR " in line for line in nul_server.output[logged:]), nul_server.output

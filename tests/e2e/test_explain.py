"""Denials that explain themselves, through the real server and boto3: the wire keeps AWS's
error, and ``GET /_connectfed/explain/<request-id>`` (JSON) shows for each kind of denial the
principal, action, resource, context keys and what every statement made of them, or which
federation step failed and why."""

from __future__ import annotations

import itertools
import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.server import ACCOUNT_ID, Server, start_server
from tests.support.world import World, build_world, federate_policy, make_role

_names = itertools.count()


@pytest.fixture(scope="module")
def admin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(tmp_path_factory.mktemp("explain"), "--throttle-rate", "0", "--admin")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def world(admin: Server) -> World:
    return build_world(admin, "explain")


def explain(server: Server, request_id: str, accept: str = "application/json") -> Any:
    request = urllib.request.Request(
        f"{server.url}/_connectfed/explain/{request_id}", headers={"Accept": accept}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        body = response.read()
        return json.loads(body) if accept == "application/json" else (response.headers, body)


def refused(call: Callable[..., Any], **kwargs: Any) -> tuple[dict[str, str], str]:
    """The AWS error of a call that must fail, and its request id."""
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    response = caught.value.response
    return response["Error"], response["ResponseMetadata"]["RequestId"]


def statements(check: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for policy in check["policies"] for s in policy["statements"]]


def step(found: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in found["steps"] if s["name"] == name)


def _user(server: Server, policy: dict[str, Any] | None) -> tuple[Any, str]:
    iam = server.client("iam")
    name = f"explained{next(_names)}"
    arn = iam.create_user(UserName=name)["User"]["Arn"]
    if policy is not None:
        iam.put_user_policy(UserName=name, PolicyName="only", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return server.client("iam", key["AccessKeyId"], key["SecretAccessKey"]), arn


def test_an_identity_policy_implicit_deny_lists_every_statement_and_why(admin: Server) -> None:
    iam, arn = _user(
        admin,
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "ReadUsers", "Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}
            ],
        },
    )
    error, request_id = refused(iam.list_users)
    # The wire is AWS's, untouched.
    assert error["Code"] == "AccessDenied"
    assert error["Message"] == (
        f"User: {arn} is not authorized to perform: iam:ListUsers on "
        f"resource: arn:aws:iam::{ACCOUNT_ID}:user/"
    )
    found = explain(admin, request_id)
    assert (found["request_id"], found["operation"], found["principal"]) == (
        request_id,
        "iam:ListUsers",
        arn,
    )
    assert found["error"] == "AccessDenied"  # the code the caller saw (awsQuery's spelling)
    [check] = found["checks"]
    assert (check["kind"], check["decision"], check["action"]) == (
        "identity",
        "implicitDeny",
        "iam:ListUsers",
    )
    assert check["resource"] == f"arn:aws:iam::{ACCOUNT_ID}:user/"
    assert check["context"]["aws:username"] == arn.rsplit("/", 1)[1]
    assert check["context"]["aws:principaltype"] == "User"
    [statement] = statements(check)
    assert (statement["sid"], statement["outcome"], statement["element"]) == (
        "ReadUsers",
        "no match",
        "Action",
    )
    assert "iam:GetUser" in statement["detail"] and "iam:ListUsers" in statement["detail"]
    assert "Implicitly denied" in found["summary"]


def test_a_principal_without_policies_is_said_to_have_none(admin: Server) -> None:
    iam, arn = _user(admin, None)
    _, request_id = refused(iam.list_roles)
    found = explain(admin, request_id)
    assert found["checks"][0]["policies"] == []
    assert f"{arn} has no identity policy" in found["summary"]


def test_an_explicit_deny_names_the_statement(admin: Server, world: World) -> None:
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "connect:*", "Resource": "*"},
            {
                "Sid": "NoFederation",
                "Effect": "Deny",
                "Action": "connect:GetFederationToken",
                "Resource": "*",
            },
        ],
    }
    role = make_role(admin, f"Denied{next(_names)}", policy)
    connect = world.connect_as("agent1", role)
    error, request_id = refused(connect.get_federation_token, InstanceId=world.instance_id)
    assert error["Code"] == "AccessDeniedException"
    found = explain(admin, request_id)
    assert found["error"] == "AccessDeniedException"  # restJson1 spells it so
    assert 'statement "NoFederation"' in found["summary"]
    assert step(found, "authorize")["ok"] is False
    [check] = found["checks"]
    assert check["decision"] == "explicitDeny"
    outcomes = {s["sid"]: s["outcome"] for s in statements(check)}
    assert outcomes == {None: "allows", "NoFederation": "denies"}


def test_a_condition_mismatch_shows_operator_key_and_values(admin: Server, world: World) -> None:
    role = make_role(
        admin,
        f"Cond{next(_names)}",
        federate_policy("*", {"StringEquals": {"connect:InstanceId": world.instance_id.upper()}}),
    )
    connect = world.connect_as("agent1", role)
    _, request_id = refused(connect.get_federation_token, InstanceId=world.instance_id)
    [check] = explain(admin, request_id)["checks"]
    assert check["context"]["connect:instanceid"] == world.instance_id
    [statement] = statements(check)
    assert (statement["outcome"], statement["element"]) == ("no match", "Condition")
    [condition] = statement["conditions"]
    assert (
        condition["operator"],
        condition["key"],
        condition["values"],
        condition["actual"],
        condition["holds"],
    ) == (
        "StringEquals",
        "connect:InstanceId",
        [world.instance_id.upper()],
        [world.instance_id],
        False,
    )
    assert "letter case" in condition["note"]


def test_a_trust_policy_denial_shows_the_trust_statement(admin: Server, world: World) -> None:
    iam = admin.client("iam")
    name = f"External{next(_names)}"
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": "s3cret"}},
            }
        ],
    }
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    sts = admin.client("sts", world.caller_key, world.caller_secret)
    error, request_id = refused(sts.assume_role, RoleArn=arn, RoleSessionName="agent1")
    assert error["Code"] == "AccessDenied"
    found = explain(admin, request_id)
    assert (found["operation"], found["error"]) == ("sts:AssumeRole", "AccessDenied")
    assert step(found, "trust")["ok"] is False
    [check] = found["checks"]
    assert (check["kind"], check["resource"], check["decision"]) == ("trust", arn, "implicitDeny")
    assert check["missing_keys"] == ["sts:ExternalId"]
    [statement] = statements(check)
    assert statement["conditions"][0]["actual"] is None


@pytest.mark.parametrize(
    "session,hint",
    [
        ("Agent1", "Differs only in letter case: 'agent1'"),
        ("agent3", "Near matches: 'agent2', 'agent1'"),  # nearest first
        ("zz", "Users present: 'agent1', 'agent2'"),  # runs before other tests add users
    ],
)
def test_a_wrong_session_name_shows_the_user_names_present(
    admin: Server, world: World, session: str, hint: str
) -> None:
    connect = world.connect_as(session)
    error, request_id = refused(connect.get_federation_token, InstanceId=world.instance_id)
    assert error["Code"] == "UserNotFoundException"
    found = explain(admin, request_id)
    assert [(s["name"], s["ok"]) for s in found["steps"]] == [
        ("throttle", True),
        ("caller", True),
        ("authorize", True),
        ("instance", True),
        ("user", False),
    ]
    assert repr(session) in step(found, "user")["detail"]
    assert any(hint in h for h in found["hints"]), found["hints"]


def test_a_user_bound_to_another_role_shows_the_bound_role(admin: Server, world: World) -> None:
    first = make_role(admin, f"First{next(_names)}", federate_policy("*"))
    second = make_role(admin, f"Second{next(_names)}", federate_policy("*"))
    world.add_agent(username := f"bound{next(_names)}")
    world.connect_as(username, first).get_federation_token(InstanceId=world.instance_id)
    connect = world.connect_as(username, second)
    error, request_id = refused(connect.get_federation_token, InstanceId=world.instance_id)
    assert error["Code"] == "DuplicateResourceException"
    found = explain(admin, request_id)
    assert step(found, "binding")["ok"] is False
    assert any(first in h for h in found["hints"])
    assert any("--allow-multiple-roles-per-user" in h and second in h for h in found["hints"])


def test_an_instance_that_is_not_saml_is_named(admin: Server) -> None:
    managed = build_world(admin, f"managed{next(_names)}", identity="CONNECT_MANAGED")
    connect = managed.connect_as("agent1")
    error, request_id = refused(connect.get_federation_token, InstanceId=managed.instance_id)
    assert error["Code"] == "InvalidRequestException"
    detail = step(explain(admin, request_id), "instance")
    assert detail["ok"] is False and "CONNECT_MANAGED" in detail["detail"]


def test_an_unknown_instance_and_root_are_steps_too(admin: Server, world: World) -> None:
    anywhere = make_role(admin, f"Anywhere{next(_names)}", federate_policy("*"))
    connect = world.connect_as("agent1", anywhere)
    error, request_id = refused(connect.get_federation_token, InstanceId="no-such-instance")
    assert error["Code"] == "ResourceNotFoundException"
    assert "no instance no-such-instance" in step(explain(admin, request_id), "instance")["detail"]
    error, request_id = refused(
        admin.client("connect").get_federation_token, InstanceId=world.instance_id
    )
    assert error["Code"] == "InvalidRequestException"
    found = explain(admin, request_id)
    assert step(found, "caller")["ok"] is False and found["principal"].endswith(":root")


def test_throttling_is_explained(tmp_path: Path) -> None:
    srv = start_server(tmp_path, "--throttle-rate", "0.001", "--throttle-burst", "1", "--admin")
    try:
        world = build_world(srv, "throttled")
        connect = world.connect_as("agent1")
        connect.get_federation_token(InstanceId=world.instance_id)
        error, request_id = refused(connect.get_federation_token, InstanceId=world.instance_id)
        assert error["Code"] == "ThrottlingException"
        assert step(explain(srv, request_id), "throttle")["ok"] is False
    finally:
        srv.stop()


def test_an_allowed_or_unknown_request_has_no_explanation(admin: Server, world: World) -> None:
    response = world.connect_as("agent1").get_federation_token(InstanceId=world.instance_id)
    allowed = response["ResponseMetadata"]["RequestId"]
    for request_id, status in ((allowed, 404), ("no-such-id", 404), ("bad%20id", 400)):
        with pytest.raises(urllib.error.HTTPError) as caught:
            explain(admin, request_id)
        assert caught.value.code == status
        assert json.loads(caught.value.read())["message"]


def test_a_browser_gets_a_readable_page(admin: Server, world: World) -> None:
    role = make_role(
        admin,
        f"Html{next(_names)}",
        federate_policy("*", {"StringEquals": {"connect:InstanceId": "<i>i-1</i>"}}),
    )
    _, request_id = refused(
        world.connect_as("agent1", role).get_federation_token, InstanceId=world.instance_id
    )
    headers, body = explain(admin, request_id, accept="text/html,application/xhtml+xml")
    assert headers["Content-Type"].startswith("text/html")
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    page = body.decode()
    assert f"Why request {request_id} was refused" in page
    assert "StringEquals connect:InstanceId" in page
    assert "&lt;i&gt;i-1&lt;/i&gt;" in page and "<i>i-1" not in page  # values are escaped


def test_the_admin_route_is_off_without_admin_or_demo(server: Server) -> None:
    with pytest.raises(urllib.error.HTTPError) as caught:
        explain(server, "anything")
    assert caught.value.code == 403  # the AWS API's answer to an unsigned request
    assert b"Missing Authentication Token" in caught.value.read()

"""IAM's policy simulator through boto3 against a real server, held against the real calls:
for each role policy, ``SimulatePrincipalPolicy`` with the live call's context decides exactly
what ``GetFederationToken`` decided (allowed, or the explicit/implicit deny its explanation
records). Plus the answer's shape: matched statements with positions, missing context keys,
permissions boundaries, paging, and honest refusals."""

from __future__ import annotations

import itertools
import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.server import ACCOUNT_ID, Server, start_server
from tests.support.world import DOCUMENTED_USERID_POLICY, World, build_world, make_role

_names = itertools.count()


@pytest.fixture(scope="module")
def admin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(tmp_path_factory.mktemp("simulate"), "--throttle-rate", "0", "--admin")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def world(admin: Server) -> World:
    return build_world(admin, "simulate")


def _policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


FED = {"Effect": "Allow", "Action": "connect:GetFederationToken"}
POLICIES = {
    "documented userid resource": lambda w: _policy({**FED, "Resource": userid_resource(w)}),
    "instance condition matches": lambda w: _policy(
        {
            **FED,
            "Resource": "*",
            "Condition": {"StringEquals": {"connect:InstanceId": w.instance_id}},
        }
    ),
    "instance condition differs": lambda w: _policy(
        {**FED, "Resource": "*", "Condition": {"StringEquals": {"connect:InstanceId": "i-x"}}}
    ),
    "explicit deny wins": lambda w: _policy(
        {"Effect": "Allow", "Action": "connect:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "connect:GetFederation*", "Resource": "*"},
    ),
    "NotAction excludes it": lambda w: _policy(
        {"Effect": "Allow", "NotAction": "connect:GetFederationToken", "Resource": "*"}
    ),
    "another user's resource": lambda w: _policy(
        {**FED, "Resource": userid_resource(w).replace("${aws:userid}", "AROAOTHER:agent1")}
    ),
    "deny unless tls": lambda w: _policy(
        {**FED, "Resource": "*"},
        {
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
    ),
}


def userid_resource(world: World) -> str:
    return DOCUMENTED_USERID_POLICY.format(
        region="us-east-1", account=ACCOUNT_ID, instance=world.instance_id
    )


def _live(admin: Server, world: World, role_arn: str, session: str) -> str:
    """What the real call decided: allowed, or the denial its explanation records."""
    connect = world.connect_as(session, role_arn)
    try:
        connect.get_federation_token(InstanceId=world.instance_id)
    except ClientError as error:
        assert error.response["Error"]["Code"] == "AccessDeniedException"
        request_id = error.response["ResponseMetadata"]["RequestId"]
        url = f"{admin.url}/_connectfed/explain/{request_id}"
        with urllib.request.urlopen(url, timeout=30) as response:
            return str(json.loads(response.read())["checks"][0]["decision"])
    return "allowed"


@pytest.mark.parametrize("case", sorted(POLICIES))
def test_simulate_principal_policy_decides_as_the_real_call(
    admin: Server, world: World, case: str
) -> None:
    number = next(_names)
    role_arn = make_role(admin, f"Sim{number}", POLICIES[case](world))
    role_id = admin.client("iam").get_role(RoleName=f"Sim{number}")["Role"]["RoleId"]
    session = f"sim{number}"
    world.add_agent(session)
    live = _live(admin, world, role_arn, session)
    resource = (
        f"arn:aws:connect:us-east-1:{ACCOUNT_ID}:instance/{world.instance_id}/user/"
        f"{role_id}:{session}"
    )
    result = admin.client("iam").simulate_principal_policy(
        PolicySourceArn=role_arn,
        ActionNames=["connect:GetFederationToken"],
        ResourceArns=[resource],
        ContextEntries=[
            {
                "ContextKeyName": "aws:userid",
                "ContextKeyValues": [f"{role_id}:{session}"],
                "ContextKeyType": "string",
            },
            {
                "ContextKeyName": "connect:InstanceId",
                "ContextKeyValues": [world.instance_id],
                "ContextKeyType": "string",
            },
            {
                "ContextKeyName": "aws:SecureTransport",
                "ContextKeyValues": ["false"],
                "ContextKeyType": "boolean",
            },
        ],
    )
    [evaluation] = result["EvaluationResults"]
    assert evaluation["EvalDecision"] == live
    [specific] = evaluation["ResourceSpecificResults"]
    assert (specific["EvalResourceName"], specific["EvalResourceDecision"]) == (resource, live)


PRETTY = """{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "All", "Effect": "Allow", "Action": "connect:*", "Resource": "*"},
    {
      "Sid": "NoDelete",
      "Effect": "Deny",
      "Action": "connect:DeleteInstance",
      "Resource": "*"
    }
  ]
}"""


def test_matched_statements_carry_their_source_and_position(admin: Server) -> None:
    iam = admin.client("iam")
    results = iam.simulate_custom_policy(
        PolicyInputList=[PRETTY],
        ActionNames=["connect:DeleteInstance", "connect:ListInstances", "iam:CreateUser"],
    )["EvaluationResults"]
    decisions = {r["EvalActionName"]: r["EvalDecision"] for r in results}
    assert decisions == {
        "connect:DeleteInstance": "explicitDeny",
        "connect:ListInstances": "allowed",
        "iam:CreateUser": "implicitDeny",
    }
    deny, allow, none = results
    # Only the deny is reported when a deny decides; its span is lines 5-10.
    assert deny["MatchedStatements"] == [
        {
            "SourcePolicyId": "PolicyInputList.1",
            "SourcePolicyType": "none",
            "StartPosition": {"Line": 5, "Column": 5},
            "EndPosition": {"Line": 10, "Column": 5},
        }
    ]
    assert allow["MatchedStatements"][0]["StartPosition"] == {"Line": 4, "Column": 5}
    assert none["MatchedStatements"] == [] and none["EvalResourceName"] == "*"
    stored = make_role(admin, f"Stored{next(_names)}", json.loads(PRETTY))
    [principal] = iam.simulate_principal_policy(
        PolicySourceArn=stored, ActionNames=["connect:ListInstances"]
    )["EvaluationResults"]
    assert principal["MatchedStatements"][0]["SourcePolicyId"] == "p"
    assert principal["MatchedStatements"][0]["SourcePolicyType"] == "role"


def test_missing_context_values_and_permissions_boundaries(admin: Server) -> None:
    iam = admin.client("iam")
    conditional = json.dumps(
        _policy(
            {**FED, "Resource": "*", "Condition": {"StringEquals": {"connect:InstanceId": "i-1"}}}
        )
    )
    [missing] = iam.simulate_custom_policy(
        PolicyInputList=[conditional],
        ActionNames=["connect:GetFederationToken"],
    )["EvaluationResults"]
    assert missing["EvalDecision"] == "implicitDeny"
    assert missing["MissingContextValues"] == ["connect:InstanceId"]
    boundary = json.dumps(_policy({"Effect": "Allow", "Action": "iam:*", "Resource": "*"}))
    allow_all = json.dumps(_policy({"Effect": "Allow", "Action": "*", "Resource": "*"}))
    capped, inside = iam.simulate_custom_policy(
        PolicyInputList=[allow_all],
        PermissionsBoundaryPolicyInputList=[boundary],
        ActionNames=["connect:GetFederationToken", "iam:GetUser"],
    )["EvaluationResults"]
    assert capped["EvalDecision"] == "implicitDeny"
    assert capped["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": False}
    assert inside["EvalDecision"] == "allowed"
    assert {m["SourcePolicyId"] for m in inside["MatchedStatements"]} == {
        "PolicyInputList.1",
        "PermissionsBoundaryPolicyInputList.1",
    }


def test_a_principals_own_tags_are_not_filled_in(admin: Server) -> None:
    """As AWS documents the simulator (it evaluates the policies and the inputs given; the
    ContextEntries supply the values of the keys the policies use), a tagged role's tags are
    not its simulation's ``aws:PrincipalTag/<key>``: the key is missing until an entry gives it,
    though a session of the role has it (docs/compatibility.md)."""
    iam = admin.client("iam")
    name = f"tagged-sim-{next(_names)}"
    trust = _policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"},
            "Action": "sts:AssumeRole",
        }
    )
    arn = iam.create_role(
        RoleName=name,
        AssumeRolePolicyDocument=json.dumps(trust),
        Tags=[{"Key": "team", "Value": "agents"}],
    )["Role"]["Arn"]
    condition = {"StringEquals": {"aws:PrincipalTag/team": "agents"}}
    iam.put_role_policy(
        RoleName=name,
        PolicyName="by-team",
        PolicyDocument=json.dumps(_policy({**FED, "Resource": "*", "Condition": condition})),
    )
    [bare] = iam.simulate_principal_policy(
        PolicySourceArn=arn, ActionNames=["connect:GetFederationToken"]
    )["EvaluationResults"]
    assert bare["EvalDecision"] == "implicitDeny"
    assert bare["MissingContextValues"] == ["aws:PrincipalTag/team"]
    [given] = iam.simulate_principal_policy(
        PolicySourceArn=arn,
        ActionNames=["connect:GetFederationToken"],
        ContextEntries=[
            {
                "ContextKeyName": "aws:PrincipalTag/team",
                "ContextKeyValues": ["agents"],
                "ContextKeyType": "string",
            }
        ],
    )["EvaluationResults"]
    assert given["EvalDecision"] == "allowed" and given["MissingContextValues"] == []


def test_results_page_with_max_items_and_marker(admin: Server) -> None:
    iam = admin.client("iam")
    allow_all = json.dumps(_policy({"Effect": "Allow", "Action": "*", "Resource": "*"}))
    actions = ["connect:A", "connect:B", "connect:C"]
    first = iam.simulate_custom_policy(PolicyInputList=[allow_all], ActionNames=actions, MaxItems=2)
    assert first["IsTruncated"] is True and len(first["EvaluationResults"]) == 2
    rest = iam.simulate_custom_policy(
        PolicyInputList=[allow_all], ActionNames=actions, MaxItems=2, Marker=first["Marker"]
    )
    assert rest["IsTruncated"] is False
    assert [
        r["EvalActionName"] for r in first["EvaluationResults"] + rest["EvaluationResults"]
    ] == actions
    paginated = iam.get_paginator("simulate_custom_policy").paginate(
        PolicyInputList=[allow_all], ActionNames=actions, PaginationConfig={"PageSize": 1}
    )
    assert [r["EvalActionName"] for page in paginated for r in page["EvaluationResults"]] == actions


@pytest.mark.parametrize(
    "kwargs,code,text",
    [
        ({"PolicyInputList": ["{"]}, "InvalidInput", "PolicyInputList.1: Syntax errors"),
        ({"ResourcePolicy": "{}"}, "InvalidInput", "does not simulate ResourcePolicy"),
        ({"ActionNames": ["connect:*"]}, "InvalidInput", "wildcard"),
        ({"ActionNames": ["nocolon"]}, "InvalidInput", "must be prefaced by a service"),
        (
            {
                "ContextEntries": [
                    {
                        "ContextKeyName": "aws:EpochTime",
                        "ContextKeyValues": ["soon"],
                        "ContextKeyType": "numeric",
                    }
                ]
            },
            "InvalidInput",
            "not a valid numeric",
        ),
        ({"PermissionsBoundaryPolicyInputList": [PRETTY, PRETTY]}, "InvalidInput", "Only one"),
    ],
)
def test_what_cannot_be_simulated_is_refused(
    admin: Server, kwargs: dict[str, Any], code: str, text: str
) -> None:
    call = {"PolicyInputList": [PRETTY], "ActionNames": ["connect:ListInstances"], **kwargs}
    with pytest.raises(ClientError) as caught:
        admin.client("iam").simulate_custom_policy(**call)
    assert caught.value.response["Error"]["Code"] == code
    assert text in caught.value.response["Error"]["Message"]


def test_the_policy_source_must_exist_and_the_caller_needs_permission(admin: Server) -> None:
    iam = admin.client("iam")
    missing = iam.exceptions.NoSuchEntityException
    with pytest.raises(missing):
        iam.simulate_principal_policy(
            PolicySourceArn=f"arn:aws:iam::{ACCOUNT_ID}:user/ghost",
            ActionNames=["connect:ListInstances"],
        )
    name = f"simulator{next(_names)}"
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    mine = admin.client("iam", key["AccessKeyId"], key["SecretAccessKey"])
    with pytest.raises(ClientError) as caught:
        mine.simulate_custom_policy(PolicyInputList=[PRETTY], ActionNames=["connect:A"])
    assert caught.value.response["Error"]["Code"] == "AccessDenied"
    iam.put_user_policy(
        UserName=name,
        PolicyName="sim",
        PolicyDocument=json.dumps(
            _policy({"Effect": "Allow", "Action": "iam:SimulateCustomPolicy", "Resource": "*"})
        ),
    )
    result = mine.simulate_custom_policy(PolicyInputList=[PRETTY], ActionNames=["connect:A"])
    assert result["EvaluationResults"][0]["EvalDecision"] == "allowed"


def test_simulation_and_explanations_work_on_postgres_too(tmp_path: Any) -> None:
    from tests.conftest import postgres_or_skip

    srv = start_server(tmp_path, "--throttle-rate", "0", "--admin", database_url=postgres_or_skip())
    try:
        role = make_role(srv, "PgSim", _policy({**FED, "Resource": "*"}))
        [result] = srv.client("iam").simulate_principal_policy(
            PolicySourceArn=role, ActionNames=["connect:GetFederationToken"]
        )["EvaluationResults"]
        assert result["EvalDecision"] == "allowed"
        world = build_world(srv, "pg")
        assert (
            _live(
                srv,
                world,
                make_role(
                    srv,
                    "PgNone",
                    _policy({"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}),
                ),
                "agent1",
            )
            == "implicitDeny"
        )
    finally:
        srv.stop()

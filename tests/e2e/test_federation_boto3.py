"""GetFederationToken end to end with the unmodified boto3 client against a real server."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.support.server import ACCOUNT_ID, Server, start_server
from tests.support.world import (
    DOCUMENTED_USERID_POLICY,
    World,
    build_world,
    federate_policy,
    make_role,
)

_names = itertools.count()


@pytest.fixture
def world(server: Server) -> World:
    return build_world(server, f"b{next(_names)}")


def test_assumed_role_session_federates_as_the_connect_user_named_by_the_session(
    world: World,
) -> None:
    connect = world.connect_as("agent1")
    before = datetime.now(UTC)
    result = connect.get_federation_token(InstanceId=world.instance_id)
    users = world.server.client("connect").list_users(InstanceId=world.instance_id)
    agent1 = next(u for u in users["UserSummaryList"] if u["Username"] == "agent1")
    assert result["UserId"] == agent1["Id"]
    assert result["UserArn"] == (
        f"arn:aws:connect:us-east-1:{ACCOUNT_ID}:instance/{world.instance_id}/agent/{agent1['Id']}"
    )
    creds = result["Credentials"]
    assert creds["AccessToken"].startswith("cfa_") and creds["RefreshToken"].startswith("cfr_")
    assert len(creds["AccessToken"]) >= 4 + 43
    assert creds["AccessToken"] != creds["RefreshToken"]
    access_exp = creds["AccessTokenExpiration"]
    assert before + timedelta(minutes=59) < access_exp <= before + timedelta(hours=1, seconds=5)
    assert result["SignInUrl"].startswith(world.server.url + "/")
    assert world.instance_id in result["SignInUrl"]


def test_tokens_never_outlive_the_callers_session(world: World) -> None:
    creds = world.assume("agent1", DurationSeconds=900)
    connect = world.server.client(
        "connect", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
    )
    result = connect.get_federation_token(InstanceId=world.instance_id)["Credentials"]
    assert result["AccessTokenExpiration"] <= creds["Expiration"]
    assert result["RefreshTokenExpiration"] <= creds["Expiration"]


def test_each_call_issues_new_tokens(world: World) -> None:
    connect = world.connect_as("agent1")
    first = connect.get_federation_token(InstanceId=world.instance_id)["Credentials"]
    second = connect.get_federation_token(InstanceId=world.instance_id)["Credentials"]
    assert first["AccessToken"] != second["AccessToken"]


def test_session_name_must_match_username_exactly(world: World) -> None:
    connect = world.connect_as("Agent1")
    with pytest.raises(connect.exceptions.UserNotFoundException) as caught:
        connect.get_federation_token(InstanceId=world.instance_id)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert "No user with the specified credentials" in caught.value.response["Error"]["Message"]


def test_unknown_instance_is_resource_not_found(world: World) -> None:
    role = make_role(world.server, f"Wide-{next(_names)}", federate_policy("*"))
    connect = world.connect_as("agent1", role)
    with pytest.raises(connect.exceptions.ResourceNotFoundException) as caught:
        connect.get_federation_token(InstanceId="00000000-0000-0000-0000-000000000000")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_instance_id_longer_than_100_is_invalid_parameter(world: World) -> None:
    connect = world.connect_as("agent1")
    with pytest.raises(connect.exceptions.InvalidParameterException) as caught:
        connect.get_federation_token(InstanceId="x" * 101)
    assert "Member must have length less than or equal to 100" in str(caught.value)


def test_non_saml_instance_is_invalid_request(server: Server) -> None:
    world = build_world(server, f"m{next(_names)}", identity="CONNECT_MANAGED")
    server.client("connect").create_user(
        InstanceId=world.instance_id,
        Username="agent1",
        Password="Passw0rd!x",
        PhoneConfig={"PhoneType": "SOFT_PHONE"},
        SecurityProfileIds=[world.security_profile],
        RoutingProfileId=world.routing_profile,
    )
    connect = world.connect_as("agent1")
    with pytest.raises(connect.exceptions.InvalidRequestException) as caught:
        connect.get_federation_token(InstanceId=world.instance_id)
    assert "SAML" in caught.value.response["Error"]["Message"]


def test_root_credentials_are_refused_with_the_documented_message(world: World) -> None:
    root = world.server.client("connect")
    with pytest.raises(root.exceptions.InvalidRequestException) as caught:
        root.get_federation_token(InstanceId=world.instance_id)
    assert caught.value.response["Error"]["Message"] == (
        f"Provided identity: Principal: arn:aws:iam::{ACCOUNT_ID}:root User: {ACCOUNT_ID} "
        "cannot be used for federation with Amazon Connect"
    )


def test_role_without_permission_is_access_denied(world: World) -> None:
    role = make_role(world.server, f"NoPerm-{next(_names)}", None)
    connect = world.connect_as("agent1", role)
    with pytest.raises(connect.exceptions.AccessDeniedException) as caught:
        connect.get_federation_token(InstanceId=world.instance_id)
    error = caught.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert error["Error"]["Message"].startswith(
        f"User: arn:aws:sts::{ACCOUNT_ID}:assumed-role/{role.split('/')[-1]}/agent1 is not "
        "authorized to perform: connect:GetFederationToken on resource: "
    )


def test_explicit_deny_wins_over_allow(world: World) -> None:
    policy = federate_policy("*")
    policy["Statement"].append({"Effect": "Deny", "Action": "connect:*", "Resource": "*"})
    role = make_role(world.server, f"Deny-{next(_names)}", policy)
    connect = world.connect_as("agent1", role)
    with pytest.raises(connect.exceptions.AccessDeniedException):
        connect.get_federation_token(InstanceId=world.instance_id)


def test_documented_condition_policies(world: World) -> None:
    single = make_role(
        world.server,
        f"CondOne-{next(_names)}",
        federate_policy("*", {"StringEquals": {"connect:InstanceId": world.instance_id}}),
    )
    many = make_role(
        world.server,
        f"CondMany-{next(_names)}",
        federate_policy(
            "*", {"StringEquals": {"connect:InstanceId": ["other", world.instance_id]}}
        ),
    )
    wrong = make_role(
        world.server,
        f"CondWrong-{next(_names)}",
        federate_policy("*", {"StringEquals": {"connect:InstanceId": "another-instance"}}),
    )
    world.add_agent("cond1")
    world.add_agent("cond2")
    world.add_agent("cond3")
    assert world.connect_as("cond1", single).get_federation_token(InstanceId=world.instance_id)
    assert world.connect_as("cond2", many).get_federation_token(InstanceId=world.instance_id)
    denied = world.connect_as("cond3", wrong)
    with pytest.raises(denied.exceptions.AccessDeniedException):
        denied.get_federation_token(InstanceId=world.instance_id)


def test_userid_policy_only_covers_the_callers_own_userid(world: World) -> None:
    other_user = DOCUMENTED_USERID_POLICY.format(
        region="us-east-1", account=ACCOUNT_ID, instance=world.instance_id
    ).replace("${aws:userid}", "AROAOTHERROLE:agent1")
    role = make_role(world.server, f"Other-{next(_names)}", federate_policy(other_user))
    connect = world.connect_as("agent1", role)
    with pytest.raises(connect.exceptions.AccessDeniedException):
        connect.get_federation_token(InstanceId=world.instance_id)


def test_second_role_for_same_user_is_duplicate_resource(world: World) -> None:
    world.connect_as("agent2").get_federation_token(InstanceId=world.instance_id)
    other = make_role(world.server, f"Second-{next(_names)}", federate_policy("*"))
    connect = world.connect_as("agent2", other)
    with pytest.raises(connect.exceptions.DuplicateResourceException) as caught:
        connect.get_federation_token(InstanceId=world.instance_id)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert caught.value.response["Error"]["Message"] == (
        f"The user agent2 is already associated with the Amazon Connect instance "
        f"{world.instance_id}"
    )
    # the first role keeps working
    assert world.connect_as("agent2").get_federation_token(InstanceId=world.instance_id)


def test_server_setting_allows_several_roles_per_user(tmp_path: Path) -> None:
    srv = start_server(tmp_path, "--throttle-rate", "0", "--allow-multiple-roles-per-user")
    try:
        world = build_world(srv, "multi")
        world.connect_as("agent1").get_federation_token(InstanceId=world.instance_id)
        other = make_role(srv, "SecondRole", federate_policy("*"))
        result = world.connect_as("agent1", other).get_federation_token(
            InstanceId=world.instance_id
        )
        assert result["Credentials"]["AccessToken"]
    finally:
        srv.stop()


def test_throttling_after_burst_is_429(tmp_path: Path) -> None:
    srv = start_server(tmp_path, "--throttle-rate", "2", "--throttle-burst", "5")
    try:
        world = build_world(srv, "throttle")
        connect = world.connect_as("agent1")
        outcomes = []
        for _ in range(8):
            try:
                connect.get_federation_token(InstanceId=world.instance_id)
                outcomes.append("ok")
            except connect.exceptions.ThrottlingException as exc:
                assert exc.response["ResponseMetadata"]["HTTPStatusCode"] == 429
                outcomes.append("throttled")
        assert outcomes[:5] == ["ok"] * 5
        assert "throttled" in outcomes[5:]
    finally:
        srv.stop()


def test_iam_user_federates_as_connect_user_with_its_name(world: World) -> None:
    iam = world.server.client("iam")
    iam.create_user(UserName="agent1-iam")
    world.add_agent("agent1-iam")
    iam.put_user_policy(
        UserName="agent1-iam",
        PolicyName="f",
        PolicyDocument=json.dumps(
            federate_policy("*", {"StringEquals": {"connect:InstanceId": world.instance_id}})
        ),
    )
    key = iam.create_access_key(UserName="agent1-iam")["AccessKey"]
    connect = world.server.client("connect", key["AccessKeyId"], key["SecretAccessKey"])
    result = connect.get_federation_token(InstanceId=world.instance_id)
    assert result["UserArn"].endswith(result["UserId"])


def test_bad_secret_is_invalid_signature(world: World) -> None:
    creds = world.assume("agent1")
    connect = world.server.client(
        "connect", creds["AccessKeyId"], "wrong" + creds["SecretAccessKey"], creds["SessionToken"]
    )
    with pytest.raises(ClientError) as caught:
        connect.get_federation_token(InstanceId=world.instance_id)
    assert caught.value.response["Error"]["Code"] == "InvalidSignatureException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_unknown_key_is_unrecognized_client(world: World) -> None:
    connect = world.server.client("connect", "AKIAUNKNOWNKEY000000", "x" * 40)
    with pytest.raises(ClientError) as caught:
        connect.get_federation_token(InstanceId=world.instance_id)
    assert caught.value.response["Error"]["Code"] == "UnrecognizedClientException"
    assert caught.value.response["Error"]["Message"] == (
        "The security token included in the request is invalid."
    )


def test_session_key_without_its_token_is_refused(world: World) -> None:
    creds = world.assume("agent1")
    connect = world.server.client("connect", creds["AccessKeyId"], creds["SecretAccessKey"])
    with pytest.raises(ClientError) as caught:
        connect.get_federation_token(InstanceId=world.instance_id)
    assert caught.value.response["Error"]["Code"] == "UnrecognizedClientException"


def test_session_token_of_another_session_is_refused(world: World) -> None:
    one, two = world.assume("agent1"), world.assume("agent2")
    connect = world.server.client(
        "connect", one["AccessKeyId"], one["SecretAccessKey"], two["SessionToken"]
    )
    with pytest.raises(ClientError) as caught:
        connect.get_federation_token(InstanceId=world.instance_id)
    assert caught.value.response["Error"]["Code"] == "UnrecognizedClientException"

"""Session policies (AssumeRole's and AssumeRoleWithSAML's ``Policy``) narrow the session: it
may do only what both its role's policies and the session policy allow, and an explicit deny in
either refuses (IAM User Guide, "Session policies"). Seen through boto3: GetFederationToken,
whose ``connect:GetFederationToken`` permission the role grants, is refused to a session whose
policy does not grant it too, and the refusal is explained like any other."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.admin import start_admin_server
from tests.support.saml_world import SamlWorld, build_saml_world
from tests.support.server import Server
from tests.support.world import World, build_world


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


ALLOW_FEDERATION = {"Effect": "Allow", "Action": "connect:GetFederationToken", "Resource": "*"}
ALLOW_OTHER = {"Effect": "Allow", "Action": "connect:DescribeUser", "Resource": "*"}
DENY_FEDERATION = {"Effect": "Deny", "Action": "connect:GetFederationToken", "Resource": "*"}
ALLOW_ALL = {"Effect": "Allow", "Action": "*", "Resource": "*"}


@pytest.fixture(scope="module")
def world(server: Server) -> World:
    return build_world(server, "session-policies")


def _federate(world: World, creds: dict[str, Any]) -> str:
    """ "ok", or the error code GetFederationToken answers with."""
    connect = world.server.client(
        "connect", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
    )
    try:
        connect.get_federation_token(InstanceId=world.instance_id)
    except ClientError as error:
        return str(error.response["Error"]["Code"])
    return "ok"


@pytest.mark.parametrize(
    ("statements", "outcome"),
    [
        ((), "ok"),  # no session policy: the role's policies alone
        ((ALLOW_FEDERATION,), "ok"),
        ((ALLOW_ALL,), "ok"),  # a session policy never grants more than the role has
        ((ALLOW_OTHER,), "AccessDeniedException"),  # not allowed by the session policy
        ((ALLOW_ALL, DENY_FEDERATION), "AccessDeniedException"),  # its explicit deny
    ],
)
def test_assume_role_session_policy_narrows_the_session(
    world: World, statements: tuple[dict[str, Any], ...], outcome: str
) -> None:
    extra = {"Policy": _policy(*statements)} if statements else {}
    creds = world.assume("agent1", **extra)
    assert _federate(world, creds) == outcome


def test_a_session_policy_grants_nothing_the_role_lacks(server: Server, world: World) -> None:
    """The role may not ListInstances; a session policy allowing everything changes nothing."""
    creds = world.assume("agent1", Policy=_policy(ALLOW_ALL))
    connect = server.client(
        "connect", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
    )
    with pytest.raises(ClientError) as caught:
        connect.list_instances()
    assert caught.value.response["Error"]["Code"] == "AccessDeniedException"


def test_the_refusal_names_the_session_policy_in_its_explanation(tmp_path: Path) -> None:
    admin = start_admin_server(tmp_path / "explain")  # explanations are read on the admin API
    try:
        world = build_world(admin, "explained")
        creds = world.assume("agent1", Policy=_policy(ALLOW_OTHER))
        connect = admin.client(
            "connect", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
        )
        with pytest.raises(ClientError) as caught:
            connect.get_federation_token(InstanceId=world.instance_id)
        request_id = caught.value.response["ResponseMetadata"]["RequestId"]
        url = f"{admin.url}/_connectfed/explain/{request_id}"
        with urllib.request.urlopen(url, timeout=30) as answer:
            explained = json.loads(answer.read())
        (check,) = explained["checks"]
        assert (check["kind"], check["decision"]) == ("session", "implicitDeny")
        assert [p["name"] for p in check["policies"]] == ["session policy"]
        assert "session policies" in explained["summary"]
    finally:
        admin.stop()


def test_assume_role_with_saml_session_policy_narrows_the_session(server: Server) -> None:
    saml: SamlWorld = build_saml_world(server, "saml-session-policy")
    narrowed = saml.assume(saml.assertion("agent1"), Policy=_policy(ALLOW_OTHER))
    assert _federate(saml.world, narrowed["Credentials"]) == "AccessDeniedException"
    allowed = saml.assume(saml.assertion("agent1"), Policy=_policy(ALLOW_FEDERATION))
    assert _federate(saml.world, allowed["Credentials"]) == "ok"


def test_a_malformed_saml_session_policy_is_refused_before_the_assertion_is_used(
    server: Server,
) -> None:
    saml = build_saml_world(server, "saml-bad-session-policy")
    assertion = saml.assertion("agent1")
    sts = server.client("sts")
    with pytest.raises(ClientError) as caught:
        sts.assume_role_with_saml(
            RoleArn=saml.role_arn,
            PrincipalArn=saml.provider_arn,
            SAMLAssertion=assertion,
            Policy='{"Version":"2012-10-17","Statement":[{"Effect":"Maybe"}]}',
        )
    assert caught.value.response["Error"]["Code"] == "MalformedPolicyDocument"
    assert saml.assume(assertion)["Credentials"]["AccessKeyId"].startswith("ASIA")


def test_managed_session_policies_are_refused_not_ignored(world: World) -> None:
    """Ignoring PolicyArns would give the session more than its caller asked for."""
    with pytest.raises(ClientError) as caught:
        world.assume("agent1", PolicyArns=[{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}])
    error = caught.value.response["Error"]
    assert error["Code"] == "ValidationError"
    assert "PolicyArns" in error["Message"]
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400

"""Principal tags from IAM users' and roles' tags, through boto3 against a real server.

AWS (IAM User Guide, "Controlling access to and for IAM users and roles using tags" and
"Passing session tags in AWS STS"): a request signed by an IAM user has ``aws:PrincipalTag/<key>``
from the user's tags; one signed by a role session from the role's tags, a session tag of the
same key (in any case) overriding the role's; AssumeRole sees the role's ``aws:ResourceTag/<key>``.
A change made through this server applies to the very next request.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.test_iam_tags import _allow, _document, _error, _name, _tags
from tests.support.server import ACCOUNT_ID, Server
from tests.support.world import World, build_world

# -- principal tags (ABAC) -----------------------------------------------------------------------

ABAC_FEDERATION = _allow(
    "connect:GetFederationToken", StringEquals={"aws:PrincipalTag/team": "agents"}
)


def _federates(world: World, creds: tuple[str, str, str | None]) -> str:
    """ "ok", or the error code GetFederationToken answers with."""
    connect = world.server.client("connect", *creds)
    try:
        connect.get_federation_token(InstanceId=world.instance_id)
    except ClientError as error:
        return str(error.response["Error"]["Code"])
    return "ok"


def test_a_users_tags_are_its_principal_tags(server: Server) -> None:
    world = build_world(server, _name("usertags"))
    iam = server.client("iam")
    user = _name("agent-")
    iam.create_user(UserName=user, Tags=_tags(Team="agents"))
    iam.put_user_policy(UserName=user, PolicyName="p", PolicyDocument=_document(ABAC_FEDERATION))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    world.add_agent(user)  # the Connect user an IAM user federates as: its name
    creds = (key["AccessKeyId"], key["SecretAccessKey"], None)
    assert _federates(world, creds) == "ok"
    iam.tag_user(UserName=user, Tags=_tags(TEAM="supervisors"))  # replaces Team, at once
    assert _federates(world, creds) == "AccessDeniedException"
    iam.untag_user(UserName=user, TagKeys=["team"])
    assert _federates(world, creds) == "AccessDeniedException"
    iam.tag_user(UserName=user, Tags=_tags(team="agents"))
    assert _federates(world, creds) == "ok"


def _allow_tag_session(server: Server, world: World, role_name: str) -> None:
    iam = server.client("iam")
    trust = _document(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
        }
    )
    iam.update_assume_role_policy(RoleName=role_name, PolicyDocument=trust)
    caller = server.client("sts", world.caller_key, world.caller_secret)
    caller_name = caller.get_caller_identity()["Arn"].rsplit("/", 1)[1]
    iam.put_user_policy(
        UserName=caller_name,
        PolicyName="assume",
        PolicyDocument=_document(_allow(["sts:AssumeRole", "sts:TagSession"])),
    )


@pytest.mark.parametrize(
    ("role_tags", "session_tags", "outcome"),
    [
        (_tags(Team="agents"), [], "ok"),  # the role's tag
        ([], [], "AccessDeniedException"),
        (_tags(Team="supervisors"), [], "AccessDeniedException"),
        (_tags(Team="supervisors"), _tags(TEAM="agents"), "ok"),  # the session's overrides
        (_tags(team="agents"), _tags(Team="supervisors"), "AccessDeniedException"),
        (_tags(team="agents"), _tags(Site="lyon"), "ok"),  # other keys: both kept
    ],
)
def test_a_roles_tags_are_its_sessions_principal_tags_under_their_session_tags(
    server: Server,
    role_tags: list[dict[str, str]],
    session_tags: list[dict[str, str]],
    outcome: str,
) -> None:
    world = build_world(server, _name("roletags"))
    iam = server.client("iam")
    role_name = world.role_arn.rsplit("/", 1)[1]
    _allow_tag_session(server, world, role_name)
    iam.put_role_policy(
        RoleName=role_name, PolicyName="p", PolicyDocument=_document(ABAC_FEDERATION)
    )
    if role_tags:
        iam.tag_role(RoleName=role_name, Tags=role_tags)
    kw: dict[str, Any] = {"Tags": session_tags} if session_tags else {}
    c = world.assume("agent1", **kw)
    creds = (c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
    assert _federates(world, creds) == outcome


def test_a_session_sees_its_roles_tags_change_at_once(server: Server) -> None:
    world = build_world(server, _name("roletags"))
    iam = server.client("iam")
    role_name = world.role_arn.rsplit("/", 1)[1]
    iam.put_role_policy(
        RoleName=role_name, PolicyName="p", PolicyDocument=_document(ABAC_FEDERATION)
    )
    c = world.assume("agent1")
    creds = (c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
    assert _federates(world, creds) == "AccessDeniedException"  # also caches the principal
    iam.tag_role(RoleName=role_name, Tags=_tags(team="agents"))
    assert _federates(world, creds) == "ok"
    iam.untag_role(RoleName=role_name, TagKeys=["TEAM"])
    assert _federates(world, creds) == "AccessDeniedException"


def test_assume_role_sees_the_roles_resource_tags(server: Server) -> None:
    world = build_world(server, _name("assumetags"))
    iam = server.client("iam")
    role_name = world.role_arn.rsplit("/", 1)[1]
    caller = server.client("sts", world.caller_key, world.caller_secret)
    caller_name = caller.get_caller_identity()["Arn"].rsplit("/", 1)[1]
    # The trust policy trusts the account, so the caller's own policy decides (same account).
    iam.put_user_policy(
        UserName=caller_name,
        PolicyName="assume",
        PolicyDocument=_document(
            _allow("sts:AssumeRole", StringEquals={"aws:ResourceTag/access": "agents"})
        ),
    )
    error = _error(caller.assume_role, RoleArn=world.role_arn, RoleSessionName="agent1")
    assert (error["Code"], error["Status"]) == ("AccessDenied", 403)
    iam.tag_role(RoleName=role_name, Tags=_tags(Access="agents"))
    assert caller.assume_role(RoleArn=world.role_arn, RoleSessionName="agent1")["Credentials"]
    iam.tag_role(RoleName=role_name, Tags=_tags(access="others"))
    error = _error(caller.assume_role, RoleArn=world.role_arn, RoleSessionName="agent1")
    assert error["Code"] == "AccessDenied"

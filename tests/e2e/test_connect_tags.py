"""Tags of Connect resources through boto3 (and the AWS CLI) against a real server.

AWS (Amazon Connect API reference: CreateInstance, CreateUser, CreateQueue, CreateAgentStatus,
CreateRoutingProfile take ``Tags``; TagResource, UntagResource, ListTagsForResource at
``/tags/{resourceArn}``; DescribeInstance, DescribeUser, DescribeQueue, DescribeAgentStatus and
DescribeRoutingProfile answer ``Tags``. Administrator Guide, "Tagging resources in Amazon
Connect": keys and values case-sensitive, at most 50 per resource, no ``aws:`` prefix. Service
Authorization Reference: ``aws:RequestTag``/``aws:TagKeys`` on Create* and TagResource,
``aws:ResourceTag`` on actions on a tagged resource).

The flow is the one Terraform's ``aws_connect_*`` resources with ``default_tags`` (and CDK,
CloudFormation) drive: create with tags, describe, tag, untag, list.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_awscli import aws
from tests.e2e.test_iam_tags import _allow, _document, _error, _name
from tests.support.aws_env import clean_env
from tests.support.server import ACCOUNT_ID, ROOT_KEY, ROOT_SECRET, Server
from tests.support.world import World, build_world

DEFAULT_TAGS = {"Environment": "prod", "ManagedBy": "terraform"}


@pytest.fixture(scope="module")
def world(server: Server) -> World:
    return build_world(server, _name("ctags"))


def _create_user(connect: Any, world: World, username: str, **kw: Any) -> dict[str, Any]:
    return dict(
        connect.create_user(
            InstanceId=world.instance_id,
            Username=username,
            PhoneConfig={"PhoneType": "SOFT_PHONE"},
            SecurityProfileIds=[world.security_profile],
            RoutingProfileId=world.routing_profile,
            **kw,
        )
    )


def _hours(connect: Any, instance_id: str) -> str:
    queues = connect.list_queues(InstanceId=instance_id)["QueueSummaryList"]
    basic = next(q["Id"] for q in queues if q["Name"] == "BasicQueue")
    return str(
        connect.describe_queue(InstanceId=instance_id, QueueId=basic)["Queue"]["HoursOfOperationId"]
    )


def test_a_terraform_like_flow_creates_describes_tags_untags_and_lists(server: Server) -> None:
    connect = server.client("connect")
    made = connect.create_instance(
        IdentityManagementType="SAML",
        InstanceAlias=_name("tf-"),
        InboundCallsEnabled=True,
        OutboundCallsEnabled=True,
        Tags=DEFAULT_TAGS,
    )
    instance = connect.describe_instance(InstanceId=made["Id"])["Instance"]
    assert instance["Tags"] == DEFAULT_TAGS
    assert connect.list_tags_for_resource(resourceArn=made["Arn"])["tags"] == DEFAULT_TAGS
    # ListInstances' summaries carry no tags (the model's InstanceSummary has none).
    summaries = connect.list_instances()["InstanceSummaryList"]
    assert all("Tags" not in s for s in summaries)

    iid = made["Id"]
    security = connect.list_security_profiles(InstanceId=iid)["SecurityProfileSummaryList"][0]
    routing = connect.list_routing_profiles(InstanceId=iid)["RoutingProfileSummaryList"][0]
    user = connect.create_user(
        InstanceId=iid,
        Username="tf-agent",
        PhoneConfig={"PhoneType": "SOFT_PHONE"},
        SecurityProfileIds=[security["Id"]],
        RoutingProfileId=routing["Id"],
        Tags={**DEFAULT_TAGS, "Team": "blue"},
    )
    described = connect.describe_user(InstanceId=iid, UserId=user["UserId"])["User"]
    assert described["Tags"] == {**DEFAULT_TAGS, "Team": "blue"}

    # TagResource adds and replaces; keys are case-sensitive (Team and team are two tags).
    connect.tag_resource(resourceArn=user["UserArn"], tags={"Team": "red", "team": "lower"})
    listed = connect.list_tags_for_resource(resourceArn=user["UserArn"])["tags"]
    assert listed == {**DEFAULT_TAGS, "Team": "red", "team": "lower"}
    connect.untag_resource(resourceArn=user["UserArn"], tagKeys=["team", "ManagedBy", "absent"])
    listed = connect.list_tags_for_resource(resourceArn=user["UserArn"])["tags"]
    assert listed == {"Environment": "prod", "Team": "red"}
    described = connect.describe_user(InstanceId=iid, UserId=user["UserId"])["User"]
    assert described["Tags"] == listed

    # Queues, agent statuses and routing profiles take Tags and describe them.
    queue = connect.create_queue(
        InstanceId=iid, Name="Sales", HoursOfOperationId=_hours(connect, iid), Tags=DEFAULT_TAGS
    )
    got = connect.describe_queue(InstanceId=iid, QueueId=queue["QueueId"])
    assert got["Queue"]["Tags"] == DEFAULT_TAGS
    status = connect.create_agent_status(
        InstanceId=iid, Name="Lunch", State="ENABLED", Tags=DEFAULT_TAGS
    )
    got = connect.describe_agent_status(InstanceId=iid, AgentStatusId=status["AgentStatusId"])
    assert got["AgentStatus"]["Tags"] == DEFAULT_TAGS
    profile = connect.create_routing_profile(
        InstanceId=iid,
        Name="Sales profile",
        Description="sales",
        DefaultOutboundQueueId=queue["QueueId"],
        MediaConcurrencies=[{"Channel": "VOICE", "Concurrency": 1}],
        Tags=DEFAULT_TAGS,
    )
    got = connect.describe_routing_profile(
        InstanceId=iid, RoutingProfileId=profile["RoutingProfileId"]
    )
    assert got["RoutingProfile"]["Tags"] == DEFAULT_TAGS
    for arn in (queue["QueueArn"], status["AgentStatusARN"], profile["RoutingProfileArn"]):
        connect.tag_resource(resourceArn=arn, tags={"Owner": "ops"})
        assert connect.list_tags_for_resource(resourceArn=arn)["tags"] == {
            **DEFAULT_TAGS,
            "Owner": "ops",
        }
    # A security profile and the instance itself are taggable too.
    connect.tag_resource(resourceArn=security["Arn"], tags={"Owner": "ops"})
    assert connect.list_tags_for_resource(resourceArn=security["Arn"])["tags"] == {"Owner": "ops"}
    connect.untag_resource(resourceArn=made["Arn"], tagKeys=["ManagedBy"])
    instance = connect.describe_instance(InstanceId=iid)["Instance"]
    assert instance["Tags"] == {"Environment": "prod"}
    # Described without tags, a resource says so with an empty map.
    got = connect.describe_routing_profile(InstanceId=iid, RoutingProfileId=routing["Id"])
    assert got["RoutingProfile"]["Tags"] == {}


def test_connects_tag_rules_are_its_errors(server: Server, world: World) -> None:
    connect = server.client("connect")
    arn = _create_user(connect, world, _name("rules-"))["UserArn"]
    for tags in ({"aws:team": "x"}, {"AWS:team": "x"}, {"a#b": "x"}, {"k" * 129: "x"}):
        error = _error(connect.tag_resource, resourceArn=arn, tags=tags)
        assert (error["Code"], error["Status"]) == ("InvalidParameterException", 400), tags
    error = _error(connect.tag_resource, resourceArn=arn, tags={"k": "v" * 257})
    assert error["Code"] == "InvalidParameterException"
    many = {f"k{i}": "v" for i in range(51)}
    assert _error(connect.tag_resource, resourceArn=arn, tags=many)["Code"] == (
        "InvalidParameterException"
    )
    # 50 held at most, counted with those held: 45 + 6 new is refused, 45 + 5 taken.
    connect.tag_resource(resourceArn=arn, tags={f"k{i}": "v" for i in range(45)})
    error = _error(connect.tag_resource, resourceArn=arn, tags={f"n{i}": "v" for i in range(6)})
    assert error["Code"] == "InvalidParameterException"
    assert error["Message"] == "A resource can have at most 50 tags."
    connect.tag_resource(resourceArn=arn, tags={f"n{i}": "v" for i in range(5)})
    assert len(connect.list_tags_for_resource(resourceArn=arn)["tags"]) == 50
    # Creating with a reserved key is refused, and creates nothing.
    name = _name("reserved-")
    error = _error(_create_user, connect, world, name, Tags={"aws:x": "1"})
    assert error["Code"] == "InvalidParameterException"
    users = connect.list_users(InstanceId=world.instance_id)["UserSummaryList"]
    assert name not in {u["Username"] for u in users}


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:connect:us-east-1:{account}:instance/{instance}/agent/no-such-user",
        "arn:aws:connect:us-east-1:{account}:instance/no-such-instance",
        "arn:aws:connect:us-east-1:999999999999:instance/{instance}",  # another account's
        "arn:aws:connect:eu-west-1:{account}:instance/{instance}",  # another Region's
        "arn:aws:connect:us-east-1:{account}:instance/{instance}/contact-flow/f",  # not kept
        "not-an-arn",
    ],
)
def test_what_is_not_there_is_resource_not_found(server: Server, world: World, arn: str) -> None:
    connect = server.client("connect")
    arn = arn.format(account=ACCOUNT_ID, instance=world.instance_id)
    for call, kw in (
        (connect.tag_resource, {"tags": {"k": "v"}}),
        (connect.untag_resource, {"tagKeys": ["k"]}),
        (connect.list_tags_for_resource, {}),
    ):
        error = _error(call, resourceArn=arn, **kw)
        assert (error["Code"], error["Status"]) == ("ResourceNotFoundException", 404)


class Caller:
    """An IAM user whose one inline policy the test sets, with its Connect and IAM clients."""

    def __init__(self, server: Server) -> None:
        self.iam = server.client("iam")
        self.name = _name("tagger-")
        self.iam.create_user(UserName=self.name)
        key = self.iam.create_access_key(UserName=self.name)["AccessKey"]
        self.connect = server.client("connect", key["AccessKeyId"], key["SecretAccessKey"])
        self.iam_client = server.client("iam", key["AccessKeyId"], key["SecretAccessKey"])

    def allow(self, *statements: dict[str, Any]) -> None:
        self.iam.put_user_policy(
            UserName=self.name, PolicyName="p", PolicyDocument=_document(*statements)
        )


def test_resource_tags_decide_actions_on_users(server: Server, world: World) -> None:
    root = server.client("connect")
    blue = _create_user(root, world, _name("blue-"), Tags={"team": "blue"})
    red = _create_user(root, world, _name("red-"), Tags={"team": "red"})
    caller = Caller(server)
    caller.allow(
        _allow(
            ["connect:DescribeUser", "connect:ListTagsForResource"],
            StringEquals={"aws:ResourceTag/team": "blue"},
        )
    )
    iid = world.instance_id
    assert caller.connect.describe_user(InstanceId=iid, UserId=blue["UserId"])["User"]["Tags"]
    for call, kw in (
        (caller.connect.describe_user, {"InstanceId": iid, "UserId": red["UserId"]}),
        # A user that does not exist is refused alike: nothing is learnt of what exists.
        (caller.connect.describe_user, {"InstanceId": iid, "UserId": "no-such-user"}),
        (caller.connect.list_tags_for_resource, {"resourceArn": red["UserArn"]}),
    ):
        assert _error(call, **kw)["Code"] == "AccessDeniedException"
    assert caller.connect.list_tags_for_resource(resourceArn=blue["UserArn"])["tags"] == {
        "team": "blue"
    }
    root.tag_resource(resourceArn=red["UserArn"], tags={"team": "blue"})  # applies at once
    assert caller.connect.describe_user(InstanceId=iid, UserId=red["UserId"])["User"]["Tags"]


def test_request_tags_decide_creating_and_tagging(server: Server, world: World) -> None:
    caller = Caller(server)
    only_blue = {
        "StringEquals": {"aws:RequestTag/team": "blue"},
        "ForAllValues:StringEquals": {"aws:TagKeys": ["team"]},
    }
    caller.allow(
        {
            "Effect": "Allow",
            "Action": ["connect:CreateUser", "connect:TagResource"],
            "Resource": "*",
            "Condition": only_blue,
        },
        _allow("connect:UntagResource", **{"ForAllValues:StringEquals": {"aws:TagKeys": ["x"]}}),
    )
    made = _create_user(caller.connect, world, _name("req-"), Tags={"team": "blue"})
    for tags in ({"team": "red"}, {"team": "blue", "other": "1"}):
        error = _error(_create_user, caller.connect, world, _name("req-"), Tags=tags)
        assert error["Code"] == "AccessDeniedException", tags
        error = _error(caller.connect.tag_resource, resourceArn=made["UserArn"], tags=tags)
        assert error["Code"] == "AccessDeniedException", tags
    caller.connect.tag_resource(resourceArn=made["UserArn"], tags={"team": "blue"})
    error = _error(caller.connect.untag_resource, resourceArn=made["UserArn"], tagKeys=["team"])
    assert error["Code"] == "AccessDeniedException"
    caller.connect.untag_resource(resourceArn=made["UserArn"], tagKeys=["x"])


def test_an_instances_tags_decide_get_federation_token(server: Server) -> None:
    """GetFederationToken's resource type is the instance: an ABAC policy on its tags decides
    who federates into which instance."""
    world = build_world(server, _name("abacfed"))
    iam = server.client("iam")
    role_name = world.role_arn.rsplit("/", 1)[1]
    policy = _document(
        _allow("connect:GetFederationToken", StringEquals={"aws:ResourceTag/env": "prod"})
    )
    iam.put_role_policy(RoleName=role_name, PolicyName="p", PolicyDocument=policy)
    agent = world.connect_as("agent1")
    error = _error(agent.get_federation_token, InstanceId=world.instance_id)
    assert error["Code"] == "AccessDeniedException"
    root = server.client("connect")
    arn = root.describe_instance(InstanceId=world.instance_id)["Instance"]["Arn"]
    root.tag_resource(resourceArn=arn, tags={"env": "prod"})
    assert agent.get_federation_token(InstanceId=world.instance_id)["UserId"]
    root.tag_resource(resourceArn=arn, tags={"env": "test"})
    error = _error(agent.get_federation_token, InstanceId=world.instance_id)
    assert error["Code"] == "AccessDeniedException"
    # An instance that does not exist is refused as one whose tags do not match.
    error = _error(agent.get_federation_token, InstanceId="no-such-instance")
    assert error["Code"] == "AccessDeniedException"


def test_aws_cli_tags_a_user_and_lists_its_tags(
    server: Server, world: World, tmp_path: Path
) -> None:
    arn = _create_user(server.client("connect"), world, _name("cli-"))["UserArn"]
    env = clean_env(tmp_path, AWS_ACCESS_KEY_ID=ROOT_KEY, AWS_SECRET_ACCESS_KEY=ROOT_SECRET)
    common = ["--endpoint-url", server.url, "--region", "us-east-1"]
    aws("connect", "tag-resource", "--resource-arn", arn, "--tags", "Team=agents,Site=lyon",
        *common, env=env)  # fmt: skip
    aws("connect", "untag-resource", "--resource-arn", arn, "--tag-keys", "Site", *common, env=env)
    listed = aws("connect", "list-tags-for-resource", "--resource-arn", arn, *common, env=env)
    assert json.loads(listed.stdout) == {"tags": {"Team": "agents"}}


def test_a_request_tag_is_seen_as_the_resource_will_hold_it(server: Server, world: World) -> None:
    """Of keys differing only in case, the value a policy sees as ``aws:RequestTag/<key>`` is the
    one the resource's ``aws:ResourceTag/<key>`` will be (the key sorting last), whatever the
    order of the request: else ``{"team": "red", "TEAM": "blue"}`` passes a rule for ``blue``
    and makes a resource that every ``aws:ResourceTag/team`` rule then sees as ``red``."""
    caller = Caller(server)
    caller.allow(
        _allow(
            ["connect:CreateUser", "connect:CreateQueue", "connect:TagResource"],
            StringEquals={"aws:RequestTag/team": "blue"},
        )
    )
    iid = world.instance_id
    smuggled = {"team": "red", "TEAM": "blue"}  # "team" sorts after "TEAM": the resource's is red
    assert _error(_create_user, caller.connect, world, _name("case-"), Tags=smuggled)["Code"] == (
        "AccessDeniedException"
    )
    hours = _hours(server.client("connect"), iid)
    error = _error(caller.connect.create_queue, InstanceId=iid, Name=_name("q-"),
                   HoursOfOperationId=hours, Tags=smuggled)  # fmt: skip
    assert error["Code"] == "AccessDeniedException"
    made = _create_user(caller.connect, world, _name("case-"), Tags={"TEAM": "red", "team": "blue"})
    error = _error(caller.connect.tag_resource, resourceArn=made["UserArn"], tags=smuggled)
    assert error["Code"] == "AccessDeniedException"
    root = server.client("connect")
    assert root.list_tags_for_resource(resourceArn=made["UserArn"])["tags"] == {
        "TEAM": "red",
        "team": "blue",
    }

"""Tags of IAM users and roles through boto3 (and the AWS CLI) against a real server.

AWS (IAM User Guide, "Tagging IAM resources", "Controlling access to and for IAM users and
roles using tags", "Passing session tags in AWS STS"; IAM API reference): CreateUser and
CreateRole take ``Tags`` (and then need ``iam:TagUser``/``iam:TagRole`` too); TagUser/TagRole
replace a tag of the same key, regardless of case; ListUserTags/ListRoleTags answer sorted by
key, paged by Marker/MaxItems; GetUser/GetRole carry ``Tags``, ListUsers/ListRoles do not. In
policies: ``aws:RequestTag/<key>`` and ``aws:TagKeys`` of a tagging request,
``aws:ResourceTag/<key>`` (and ``iam:ResourceTag/<key>``) of the user or role acted on, and
``aws:PrincipalTag/<key>`` of the user or the role signing, a session tag overriding its
role's tag of the same key.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_awscli import aws
from tests.support.aws_env import clean_env
from tests.support.errors import aws_error as _error
from tests.support.server import ACCOUNT_ID, ROOT_KEY, ROOT_SECRET, Server
from tests.support.world import trust_account

_names = itertools.count()
DUPLICATE = "Duplicate tag keys found. Please note that Tag keys are case insensitive."


def _name(prefix: str) -> str:
    return f"{prefix}{next(_names)}"


def _document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _tags(**pairs: str) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in pairs.items()]


class Kind:
    """The user or role side of the tagging API, so one test covers both."""

    def __init__(self, server: Server, kind: str) -> None:
        self.iam = server.client("iam")
        self.kind = kind
        self.title = kind.title()

    def create(self, name: str, **kw: Any) -> dict[str, Any]:
        if self.kind == "user":
            return dict(self.iam.create_user(UserName=name, **kw)["User"])
        return dict(
            self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust_account(), **kw)[
                "Role"
            ]
        )

    def get(self, name: str) -> dict[str, Any]:
        if self.kind == "user":
            return dict(self.iam.get_user(UserName=name)["User"])
        return dict(self.iam.get_role(RoleName=name)["Role"])

    def call(self, operation: str, name: str, **kw: Any) -> dict[str, Any]:
        method = getattr(self.iam, operation.format(kind=self.kind))
        return dict(method(**{f"{self.title}Name": name}, **kw))

    def tag(self, name: str, tags: list[dict[str, str]]) -> dict[str, Any]:
        return self.call("tag_{kind}", name, Tags=tags)

    def untag(self, name: str, keys: list[str]) -> dict[str, Any]:
        return self.call("untag_{kind}", name, TagKeys=keys)

    def listed(self, name: str, **kw: Any) -> dict[str, Any]:
        return self.call("list_{kind}_tags", name, **kw)


@pytest.fixture(params=["user", "role"])
def kind(server: Server, request: pytest.FixtureRequest) -> Kind:
    return Kind(server, request.param)


# -- the operations ------------------------------------------------------------------------------


def test_created_with_tags_get_answers_them_sorted_and_the_listing_leaves_them_out(
    server: Server, kind: Kind
) -> None:
    name = _name("tagged-")
    created = kind.create(name, Tags=_tags(team="blue", Cost="", Ünï="值 1"))
    expected = _tags(Cost="", team="blue", Ünï="值 1")  # sorted by key
    assert created["Tags"] == expected
    assert kind.get(name)["Tags"] == expected
    listed = kind.listed(name)
    assert (listed["Tags"], listed["IsTruncated"], "Marker" in listed) == (expected, False, False)
    iam = server.client("iam")
    listing = iam.list_users()["Users"] if kind.kind == "user" else iam.list_roles()["Roles"]
    entry = next(e for e in listing if e[f"{kind.title}Name"] == name)
    assert "Tags" not in entry  # the API reference: ListUsers/ListRoles leave Tags out
    plain = _name("plain-")
    assert "Tags" not in kind.create(plain) and "Tags" not in kind.get(plain)
    assert kind.listed(plain)["Tags"] == []


def test_tagging_replaces_a_key_of_any_case_and_untagging_ignores_case(kind: Kind) -> None:
    name = _name("retag-")
    kind.create(name, Tags=_tags(Team="blue", Env="dev"))
    kind.tag(name, _tags(TEAM="red", Site="lyon"))
    assert kind.listed(name)["Tags"] == _tags(Env="dev", Site="lyon", TEAM="red")
    kind.untag(name, ["env", "absent"])  # a key not held is no error
    assert kind.get(name)["Tags"] == _tags(Site="lyon", TEAM="red")
    kind.untag(name, ["SITE", "team"])
    assert "Tags" not in kind.get(name)


def test_tags_are_listed_in_pages_by_marker(kind: Kind) -> None:
    name = _name("paged-")
    kind.create(name, Tags=[{"Key": f"k{i}", "Value": str(i)} for i in (3, 0, 4, 1, 2)])
    first = kind.listed(name, MaxItems=2)
    assert (first["Tags"], first["IsTruncated"]) == (_tags(k0="0", k1="1"), True)
    second = kind.listed(name, MaxItems=2, Marker=first["Marker"])
    assert second["Tags"] == _tags(k2="2", k3="3")
    paginator = kind.iam.get_paginator(f"list_{kind.kind}_tags")
    pages = paginator.paginate(**{f"{kind.title}Name": name}, PaginationConfig={"PageSize": 2})
    assert [tag["Key"] for page in pages for tag in page["Tags"]] == [f"k{i}" for i in range(5)]
    bad = _error(kind.listed, name=name, Marker="not-a-marker")
    assert (bad["Code"], bad["Message"]) == ("ValidationError", "Invalid Marker.")


def test_a_missing_user_or_role_is_no_such_entity(kind: Kind) -> None:
    name = _name("missing-")
    for operation, kw in (
        ("tag_{kind}", {"Tags": _tags(k="v")}),
        ("untag_{kind}", {"TagKeys": ["k"]}),
        ("list_{kind}_tags", {}),
    ):
        error = _error(kind.call, operation=operation, name=name, **kw)
        assert (error["Code"], error["Status"], error["Message"]) == (
            "NoSuchEntity",
            404,
            f"The {kind.kind} with name {name} cannot be found.",
        )


def test_duplicate_keys_are_invalid_input_and_create_nothing(kind: Kind) -> None:
    name = _name("dup-")
    error = _error(kind.create, name=name, Tags=_tags(Team="a", team="b"))
    assert (error["Code"], error["Status"], error["Message"]) == ("InvalidInput", 400, DUPLICATE)
    assert _error(kind.get, name=name)["Code"] == "NoSuchEntity"
    kind.create(name, Tags=_tags(keep="1"))
    error = _error(kind.tag, name=name, tags=_tags(a="1", A="2"))
    assert (error["Code"], error["Message"]) == ("InvalidInput", DUPLICATE)
    reserved = _error(kind.tag, name=name, tags=_tags(**{"aws:team": "x"}))
    assert (reserved["Code"], reserved["Status"]) == ("InvalidInput", 400)
    assert kind.get(name)["Tags"] == _tags(keep="1")


def test_more_than_fifty_tags_are_refused(kind: Kind) -> None:
    name = _name("full-")
    many = [{"Key": f"k{i:02}", "Value": "v"} for i in range(51)]
    error = _error(kind.create, name=name, Tags=many)  # the model's limit, per request
    assert (error["Code"], error["Status"]) == ("ValidationError", 400)
    assert "Member must have length less than or equal to 50" in error["Message"]
    kind.create(name, Tags=many[:45])
    error = _error(kind.tag, name=name, tags=many[45:])  # 51 held in all
    assert (error["Code"], error["Status"], error["Message"]) == (
        "LimitExceeded",
        409,
        f"Cannot exceed quota for TagsPer{kind.title}: 50",
    )
    assert len(kind.listed(name)["Tags"]) == 45  # nothing of the refused call
    kind.tag(name, [*many[45:50], {"Key": "K00", "Value": "replaced"}])  # 50 exactly
    held = kind.listed(name, MaxItems=100)["Tags"]
    assert len(held) == 50 and {"Key": "K00", "Value": "replaced"} in held


def test_invalid_keys_and_values_are_validation_errors(kind: Kind) -> None:
    name = _name("bad-")
    kind.create(name)
    for tags in (_tags(**{"a#b": "v"}), _tags(k="v<"), _tags(**{"k" * 129: "v"})):
        error = _error(kind.tag, name=name, tags=tags)
        assert (error["Code"], error["Status"]) == ("ValidationError", 400)
    assert "Tags" not in kind.get(name)


# -- authorising tagging: aws:RequestTag, aws:TagKeys, aws:ResourceTag ---------------------------


class Admin:
    """An IAM user whose inline policy each test sets, and its IAM client."""

    def __init__(self, server: Server) -> None:
        root = server.client("iam")
        self.root = root
        self.name = _name("admin-")
        root.create_user(UserName=self.name)
        key = root.create_access_key(UserName=self.name)["AccessKey"]
        self.iam = server.client("iam", key["AccessKeyId"], key["SecretAccessKey"])
        self.sts = server.client("sts", key["AccessKeyId"], key["SecretAccessKey"])
        self.arn = self.sts.get_caller_identity()["Arn"]

    def allow(self, *statements: dict[str, Any]) -> None:
        self.root.put_user_policy(
            UserName=self.name, PolicyName="p", PolicyDocument=_document(*statements)
        )


@pytest.fixture
def admin(server: Server) -> Admin:
    return Admin(server)


def _allow(actions: str | list[str], **condition: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": actions, "Resource": "*"}
    if condition:
        statement["Condition"] = condition
    return statement


def test_creating_with_tags_needs_the_tag_action_with_request_tags(admin: Admin) -> None:
    admin.allow(_allow(["iam:CreateRole", "iam:CreateUser"]))
    role, user = _name("made-"), _name("made-")
    create_role = admin.iam.create_role
    error = _error(
        create_role, RoleName=role, AssumeRolePolicyDocument=trust_account(), Tags=_tags(team="a")
    )
    assert (error["Code"], error["Status"]) == ("AccessDenied", 403)
    assert error["Message"] == (
        f"User: {admin.arn} is not authorized to perform: iam:TagRole on resource: "
        f"arn:aws:iam::{ACCOUNT_ID}:role/{role}"
    )
    error = _error(admin.iam.create_user, UserName=user, Tags=_tags(team="a"))
    assert "iam:TagUser" in error["Message"]
    admin.allow(
        _allow(["iam:CreateRole", "iam:CreateUser"]),
        _allow(
            ["iam:TagRole", "iam:TagUser"],
            StringEquals={"aws:RequestTag/team": "blue"},
            **{"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}},
        ),
    )
    assert _error(admin.iam.create_user, UserName=user, Tags=_tags(team="red"))["Code"] == (
        "AccessDenied"
    )
    assert _error(admin.iam.create_user, UserName=user, Tags=_tags(team="blue", x="1"))["Code"] == (
        "AccessDenied"
    )
    admin.iam.create_user(UserName=user, Tags=_tags(team="blue"))
    # aws:TagKeys are the keys as passed: "Team" is not StringEquals "team".
    error = _error(
        create_role,
        RoleName=role,
        AssumeRolePolicyDocument=trust_account(),
        Tags=_tags(Team="blue"),
    )
    assert error["Code"] == "AccessDenied"
    created = create_role(
        RoleName=role, AssumeRolePolicyDocument=trust_account(), Tags=_tags(team="blue")
    )
    assert created["Role"]["Tags"] == _tags(team="blue")


def test_tagging_and_untagging_see_tag_keys(admin: Admin) -> None:
    role = _name("keys-")
    admin.root.create_role(RoleName=role, AssumeRolePolicyDocument=trust_account())
    # IAM User Guide, "IAM: Manage a specific tag".
    admin.allow(
        _allow(
            ["iam:TagRole", "iam:UntagRole"],
            **{"ForAllValues:StringEquals": {"aws:TagKeys": "Department"}},
        )
    )
    admin.iam.tag_role(RoleName=role, Tags=_tags(Department="hr"))
    denied = _error(admin.iam.tag_role, RoleName=role, Tags=_tags(Department="x", Site="y"))
    assert denied["Code"] == "AccessDenied"
    admin.root.tag_role(RoleName=role, Tags=_tags(Site="lyon"))
    assert _error(admin.iam.untag_role, RoleName=role, TagKeys=["Site"])["Code"] == "AccessDenied"
    admin.iam.untag_role(RoleName=role, TagKeys=["Department"])
    assert admin.root.list_role_tags(RoleName=role)["Tags"] == _tags(Site="lyon")


@pytest.mark.parametrize("condition_key", ["aws:ResourceTag/team", "iam:ResourceTag/Team"])
def test_actions_on_a_tagged_role_or_user_see_its_resource_tags(
    admin: Admin, condition_key: str
) -> None:
    tagged, plain = _name("res-"), _name("res-")
    for name, tags in ((tagged, _tags(Team="agents")), (plain, [])):
        admin.root.create_role(RoleName=name, AssumeRolePolicyDocument=trust_account(), Tags=tags)
        admin.root.create_user(UserName=name, Tags=tags)
    admin.allow(
        _allow(
            ["iam:GetRole", "iam:GetUser", "iam:ListRoleTags", "iam:PutRolePolicy"],
            StringEquals={condition_key: "agents"},
        )
    )
    admin.iam.get_role(RoleName=tagged)
    admin.iam.get_user(UserName=tagged)
    admin.iam.list_role_tags(RoleName=tagged)
    policy = _document(_allow("connect:ListInstances"))
    admin.iam.put_role_policy(RoleName=tagged, PolicyName="p", PolicyDocument=policy)
    for call, kw in (
        (admin.iam.get_role, {"RoleName": plain}),
        (admin.iam.get_user, {"UserName": plain}),
        (admin.iam.list_role_tags, {"RoleName": plain}),
        (
            admin.iam.put_role_policy,
            {"RoleName": plain, "PolicyName": "p", "PolicyDocument": policy},
        ),
    ):
        assert _error(call, **kw)["Code"] == "AccessDenied"
    # Retagged through this server: the next decision sees it.
    admin.root.untag_role(RoleName=tagged, TagKeys=["team"])
    assert _error(admin.iam.get_role, RoleName=tagged)["Code"] == "AccessDenied"


def test_aws_cli_tags_a_role_and_lists_its_tags(server: Server, tmp_path: Path) -> None:
    role = _name("cli-")
    server.client("iam").create_role(RoleName=role, AssumeRolePolicyDocument=trust_account())
    env = clean_env(tmp_path, AWS_ACCESS_KEY_ID=ROOT_KEY, AWS_SECRET_ACCESS_KEY=ROOT_SECRET)
    common = ["--endpoint-url", server.url, "--region", "us-east-1"]
    aws(
        "iam",
        "tag-role",
        "--role-name",
        role,
        "--tags",
        "Key=Team,Value=agents",
        "Key=Site,Value=lyon",
        *common,
        env=env,
    )
    listed = json.loads(aws("iam", "list-role-tags", "--role-name", role, *common, env=env).stdout)
    assert listed["Tags"] == _tags(Site="lyon", Team="agents")
    got = json.loads(aws("iam", "get-role", "--role-name", role, *common, env=env).stdout)
    assert got["Role"]["Tags"] == _tags(Site="lyon", Team="agents")
    refused = aws(
        "iam",
        "tag-role",
        "--role-name",
        role,
        "--tags",
        "Key=a,Value=1",
        "Key=A,Value=2",
        *common,
        env=env,
        check=False,
    )
    assert refused.returncode != 0 and "(InvalidInput)" in refused.stderr
    assert DUPLICATE in refused.stderr

"""Session tags and source identity through boto3 (and the AWS CLI) against a real server.

AWS (IAM User Guide, "Passing session tags in AWS STS" and "Monitor and control actions taken
with assumed roles"): passing tags needs ``sts:TagSession`` and passing a source identity
``sts:SetSourceIdentity``, in the role's trust policy (and, as for ``sts:AssumeRole``, in the
caller's identity policy unless a trust statement names the caller itself); the session's tags
are its ``aws:PrincipalTag/<key>`` and its source identity ``aws:SourceIdentity`` on every
request it signs; transitive tags and the source identity pass on in role chaining. Error codes
and messages as recorded from AWS (LocalStack's snapshot tests of session tagging).
"""

from __future__ import annotations

import itertools
import json
import random
import string
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.test_awscli import aws
from tests.support.aws_env import clean_env
from tests.support.browser import Browser
from tests.support.errors import aws_error as _error
from tests.support.saml_world import SamlWorld, build_saml_world
from tests.support.server import ACCOUNT_ID, Server
from tests.support.world import build_world

_names = itertools.count()
TAG_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/PrincipalTag:"
TRANSITIVE_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/TransitiveTagKeys"
SOURCE_IDENTITY_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/SourceIdentity"


def _document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _trust(principal: dict[str, Any], actions: list[str], **condition: Any) -> str:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": actions}
    if condition:
        statement["Condition"] = condition
    return _document(statement)


def _account_trust(actions: list[str], **condition: Any) -> str:
    return _trust({"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"}, actions, **condition)


class Tagged:
    """A world whose caller (an IAM user) may sts:AssumeRole, sts:TagSession and
    sts:SetSourceIdentity on any role; the role's trust policy is set by each test."""

    def __init__(self, server: Server) -> None:
        self.world = build_world(server, f"tags{next(_names)}")
        self.iam = server.client("iam")
        self.role_name = self.world.role_arn.rsplit("/", 1)[1]
        caller = server.client("sts", self.world.caller_key, self.world.caller_secret)
        self.caller_arn = caller.get_caller_identity()["Arn"]
        self.iam.put_user_policy(
            UserName=self.caller_arn.rsplit("/", 1)[1],
            PolicyName="assume",
            PolicyDocument=_document(
                {
                    "Effect": "Allow",
                    "Action": ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
                    "Resource": "*",
                }
            ),
        )
        self.sts = caller

    def trust(self, document: str, role_name: str | None = None) -> None:
        self.iam.update_assume_role_policy(
            RoleName=role_name or self.role_name, PolicyDocument=document
        )

    def role_policy(self, *statements: dict[str, Any], role_name: str | None = None) -> None:
        self.iam.put_role_policy(
            RoleName=role_name or self.role_name,
            PolicyName="p",
            PolicyDocument=_document(*statements),
        )

    def assume(self, session_name: str = "agent1", **kw: Any) -> dict[str, Any]:
        return dict(
            self.sts.assume_role(RoleArn=self.world.role_arn, RoleSessionName=session_name, **kw)
        )

    def federate(self, creds: dict[str, Any]) -> str:
        """ "ok", or the error code GetFederationToken answers with."""
        return _federation_outcome(self.world.server, self.world.instance_id, creds)


@pytest.fixture
def tagged(server: Server) -> Tagged:
    return Tagged(server)


def _tag(key: str, value: str) -> dict[str, str]:
    return {"Key": key, "Value": value}


# -- AssumeRole: sts:TagSession and sts:SetSourceIdentity --------------------------------------


def test_tags_need_sts_tag_session_in_the_trust_policy(tagged: Tagged) -> None:
    tagged.trust(_account_trust(["sts:AssumeRole"]))
    error = _error(tagged.assume, Tags=[_tag("Team", "agents")])
    assert (error["Code"], error["Status"]) == ("AccessDenied", 403)
    assert error["Message"] == (
        f"User: {tagged.caller_arn} is not authorized to perform: sts:TagSession on resource: "
        f"{tagged.world.role_arn}"
    )
    plain = tagged.assume()
    assert "PackedPolicySize" not in plain and "SourceIdentity" not in plain  # nothing passed
    tagged.trust(_account_trust(["sts:AssumeRole", "sts:TagSession"]))
    answer = tagged.assume(Tags=[_tag("Team", "agents")])
    assert isinstance(answer["PackedPolicySize"], int) and 0 < answer["PackedPolicySize"] <= 100


def test_tag_session_needs_the_callers_identity_policy_unless_the_trust_names_the_caller(
    tagged: Tagged,
) -> None:
    tagged.iam.put_user_policy(
        UserName=tagged.caller_arn.rsplit("/", 1)[1],
        PolicyName="assume",
        PolicyDocument=_document({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}),
    )
    tagged.trust(_account_trust(["sts:AssumeRole", "sts:TagSession"]))
    error = _error(tagged.assume, Tags=[_tag("Team", "agents")])
    assert error["Code"] == "AccessDenied" and "sts:TagSession" in error["Message"]
    tagged.trust(_trust({"AWS": tagged.caller_arn}, ["sts:AssumeRole", "sts:TagSession"]))
    assert tagged.assume(Tags=[_tag("Team", "agents")])["Credentials"]["AccessKeyId"]


@pytest.mark.parametrize(
    ("tags", "outcome"),
    [
        ([_tag("Department", "Engineering")], "ok"),
        ([_tag("department", "Engineering")], "ok"),  # aws:RequestTag/<key>: any case
        ([_tag("Department", "Marketing")], "AccessDenied"),
        ([_tag("Department", "Engineering"), _tag("CostCenter", "1")], "AccessDenied"),
        ([_tag("Project", "x")], "AccessDenied"),  # no Department tag
    ],
)
def test_the_trust_policy_sees_request_tags_and_tag_keys(
    tagged: Tagged, tags: list[dict[str, str]], outcome: str
) -> None:
    tagged.trust(
        _document(
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"},
                "Action": "sts:AssumeRole",
            },
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"},
                "Action": "sts:TagSession",
                "Condition": {
                    "StringEquals": {"aws:RequestTag/Department": "Engineering"},
                    "ForAllValues:StringEqualsIgnoreCase": {
                        "aws:TagKeys": ["Department", "Project"]
                    },
                },
            },
        )
    )
    try:
        tagged.assume(Tags=tags)
    except ClientError as error:
        assert error.response["Error"]["Code"] == outcome
        return
    assert outcome == "ok"


def test_transitive_tag_keys_are_seen_as_sts_transitive_tag_keys(tagged: Tagged) -> None:
    tagged.trust(
        _account_trust(
            ["sts:AssumeRole", "sts:TagSession"],
            **{"ForAllValues:StringEquals": {"sts:TransitiveTagKeys": ["Team"]}},
        )
    )
    tags = [_tag("Team", "agents"), _tag("Site", "lyon")]
    assert tagged.assume(Tags=tags, TransitiveTagKeys=["Team"])["Credentials"]
    error = _error(tagged.assume, Tags=tags, TransitiveTagKeys=["Team", "Site"])
    assert error["Code"] == "AccessDenied"


def test_source_identity_needs_sts_set_source_identity_and_is_echoed(tagged: Tagged) -> None:
    tagged.trust(_account_trust(["sts:AssumeRole"]))
    error = _error(tagged.assume, SourceIdentity="alice")
    assert (error["Code"], error["Status"]) == ("AccessDenied", 403)
    assert error["Message"] == (
        f"User: {tagged.caller_arn} is not authorized to perform: sts:SetSourceIdentity on "
        f"resource: {tagged.world.role_arn}"
    )
    tagged.trust(
        _account_trust(
            ["sts:AssumeRole", "sts:SetSourceIdentity"],
            StringEquals={"sts:SourceIdentity": "alice"},
        )
    )
    answer = tagged.assume(SourceIdentity="alice")
    assert answer["SourceIdentity"] == "alice"
    assert "PackedPolicySize" not in answer  # a source identity is not packed
    assert _error(tagged.assume, SourceIdentity="mallory")["Code"] == "AccessDenied"


# -- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kw", "code", "message"),
    [
        (
            {"Tags": [_tag("Team", "a"), _tag("team", "b")]},
            "InvalidParameterValue",
            "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
        ),
        (
            {"Tags": [_tag("Team", "a")], "TransitiveTagKeys": ["Site"]},
            "InvalidParameterValue",
            "The specified transitive tag key must be included in the requested tags.",
        ),
        (
            {"TransitiveTagKeys": ["Team"]},
            "InvalidParameterValue",
            "The specified transitive tag key must be included in the requested tags.",
        ),
        (
            {"Tags": [_tag(f"k{i}", "v") for i in range(51)]},
            "ValidationError",
            "Member must have length less than or equal to 50",
        ),
        ({"Tags": [_tag("k" * 129, "v")]}, "ValidationError", "less than or equal to 128"),
        ({"Tags": [_tag("k", "v" * 257)]}, "ValidationError", "less than or equal to 256"),
        ({"Tags": [_tag("team!", "v")]}, "ValidationError", "regular expression pattern"),
        ({"Tags": [_tag("team", "a;b")]}, "ValidationError", "regular expression pattern"),
        ({"SourceIdentity": "aws:alice"}, "ValidationError", "sourceIdentity"),
    ],
)
def test_tags_are_validated_as_aws_does(
    tagged: Tagged, kw: dict[str, Any], code: str, message: str
) -> None:
    tagged.trust(_account_trust(["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"]))
    error = _error(tagged.assume, **kw)
    assert (error["Code"], error["Status"]) == (code, 400)
    assert message in error["Message"]


def test_tags_within_the_limits_are_accepted(tagged: Tagged) -> None:
    """Keys 128 and values 256 characters long, any letters, separators and numbers, an empty
    value, and transitive keys in another case than the tag's."""
    tagged.trust(_account_trust(["sts:AssumeRole", "sts:TagSession"]))
    tags = [_tag("K" * 128, "v" * 256), _tag("Équipe 1/2=+@:_.-", "Ärger ١٢"), _tag("e", "")]
    answer = tagged.assume(Tags=tags, TransitiveTagKeys=["k" * 128])
    assert answer["Credentials"]["AccessKeyId"].startswith("ASIA")


def test_a_packing_too_large_is_packed_policy_too_large(tagged: Tagged) -> None:
    tagged.trust(_account_trust(["sts:AssumeRole", "sts:TagSession"]))
    noise = random.Random(7)
    tags = [
        _tag(f"k{i:02d}" + "".join(noise.choices(string.ascii_letters, k=100)), "v" * 10)
        for i in range(50)
    ]
    error = _error(tagged.assume, Tags=tags)
    assert (error["Code"], error["Status"]) == ("PackedPolicyTooLarge", 400)
    assert "% of the upper size limit" in error["Message"]
    small = tagged.assume(Tags=tags[:3])["PackedPolicySize"]
    larger = tagged.assume(Tags=tags[:20])["PackedPolicySize"]
    assert 0 < small < larger <= 100


def test_a_session_policy_alone_answers_packed_policy_size(tagged: Tagged) -> None:
    tagged.trust(_account_trust(["sts:AssumeRole"]))
    policy = _document({"Effect": "Allow", "Action": "connect:*", "Resource": "*"})
    assert 0 < tagged.assume(Policy=policy)["PackedPolicySize"] <= 100


# -- the session's tags on every request it signs (ABAC) ----------------------------------------

ABAC_FEDERATION = {
    "Effect": "Allow",
    "Action": "connect:GetFederationToken",
    "Resource": "*",
    "Condition": {"StringEquals": {"aws:PrincipalTag/team": "agents"}},
}


@pytest.mark.parametrize(
    ("tags", "outcome"),
    [
        ([_tag("Team", "agents")], "ok"),  # the policy's key in another case: still the tag
        ([_tag("TEAM", "agents")], "ok"),
        ([_tag("Team", "supervisors")], "AccessDeniedException"),
        ([_tag("Site", "agents")], "AccessDeniedException"),
        ([], "AccessDeniedException"),
    ],
)
def test_principal_tags_decide_get_federation_token(
    tagged: Tagged, tags: list[dict[str, str]], outcome: str
) -> None:
    tagged.trust(_account_trust(["sts:AssumeRole", "sts:TagSession"]))
    tagged.role_policy(ABAC_FEDERATION)
    creds = tagged.assume(Tags=tags)["Credentials"] if tags else tagged.assume()["Credentials"]
    assert tagged.federate(creds) == outcome


def test_source_identity_is_aws_source_identity_on_later_requests(tagged: Tagged) -> None:
    tagged.trust(_account_trust(["sts:AssumeRole", "sts:SetSourceIdentity"]))
    tagged.role_policy(
        {
            "Effect": "Allow",
            "Action": "connect:GetFederationToken",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceIdentity": "alice"}},
        }
    )
    assert tagged.federate(tagged.assume(SourceIdentity="alice")["Credentials"]) == "ok"
    denied = tagged.federate(tagged.assume(SourceIdentity="bob")["Credentials"])
    assert denied == "AccessDeniedException"
    assert tagged.federate(tagged.assume()["Credentials"]) == "AccessDeniedException"


# -- role chaining ------------------------------------------------------------------------------


def _second_role(tagged: Tagged, trust: str, *statements: dict[str, Any]) -> str:
    name = f"Second-{tagged.world.instance_id}"
    arn = str(tagged.iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]["Arn"])
    tagged.role_policy(*statements, role_name=name)
    return arn


def test_transitive_tags_and_source_identity_carry_over_in_role_chaining(tagged: Tagged) -> None:
    every = ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"]
    tagged.trust(_account_trust(every))
    tagged.role_policy({"Effect": "Allow", "Action": every, "Resource": "*"})
    second = _second_role(
        tagged,
        _account_trust(every, StringEquals={"aws:SourceIdentity": "alice"}),
        {
            "Effect": "Allow",
            "Action": "connect:GetFederationToken",
            "Resource": "*",
            "Condition": {
                "StringEquals": {"aws:PrincipalTag/Team": "agents"},
                "Null": {"aws:PrincipalTag/Site": "true"},  # not transitive: not carried
            },
        },
    )
    first = tagged.assume(
        "first",
        Tags=[_tag("Team", "agents"), _tag("Site", "lyon")],
        TransitiveTagKeys=["team"],
        SourceIdentity="alice",
    )["Credentials"]
    chained_sts = tagged.world.server.client(
        "sts", first["AccessKeyId"], first["SecretAccessKey"], first["SessionToken"]
    )
    chained = chained_sts.assume_role(RoleArn=second, RoleSessionName="agent1")
    assert chained["SourceIdentity"] == "alice"
    assert tagged.federate(chained["Credentials"]) == "ok"

    conflict = _error(
        chained_sts.assume_role,
        RoleArn=second,
        RoleSessionName="agent1",
        Tags=[_tag("TEAM", "supervisors")],
    )
    assert (conflict["Code"], conflict["Status"]) == ("InvalidParameterValue", 400)
    assert conflict["Message"] == (
        "One of the specified transitive tag keys can't be set because it conflicts with a "
        "transitive tag key from the calling session."
    )
    changed = _error(
        chained_sts.assume_role, RoleArn=second, RoleSessionName="agent1", SourceIdentity="bob"
    )
    assert changed["Code"] == "AccessDenied" and "sts:SetSourceIdentity" in changed["Message"]
    same = chained_sts.assume_role(RoleArn=second, RoleSessionName="agent1", SourceIdentity="alice")
    assert same["SourceIdentity"] == "alice"
    # a tag the calling session does not pass on may be set again
    assert chained_sts.assume_role(
        RoleArn=second, RoleSessionName="agent1", Tags=[_tag("Site", "paris")]
    )["Credentials"]


def test_a_chained_session_with_a_source_identity_needs_set_source_identity(
    tagged: Tagged,
) -> None:
    """AWS: in role chaining sts:SetSourceIdentity is required by both the caller's permissions
    and the next role's trust policy, though the call itself passes no source identity."""
    every = ["sts:AssumeRole", "sts:SetSourceIdentity"]
    tagged.trust(_account_trust(every))
    tagged.role_policy({"Effect": "Allow", "Action": every, "Resource": "*"})
    second = _second_role(tagged, _account_trust(["sts:AssumeRole"]), ABAC_FEDERATION)
    first = tagged.assume("first", SourceIdentity="alice")["Credentials"]
    chained_sts = tagged.world.server.client(
        "sts", first["AccessKeyId"], first["SecretAccessKey"], first["SessionToken"]
    )
    error = _error(chained_sts.assume_role, RoleArn=second, RoleSessionName="agent1")
    assert error["Code"] == "AccessDenied" and "sts:SetSourceIdentity" in error["Message"]


# -- AssumeRoleWithSAML -------------------------------------------------------------------------


def _saml_trust(saml: SamlWorld, actions: list[str], **condition: Any) -> None:
    conditions = {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}}
    for operator, keys in condition.items():
        conditions.setdefault(operator, {}).update(keys)
    saml.server.client("iam").update_assume_role_policy(
        RoleName=saml.role_arn.rsplit("/", 1)[1],
        PolicyDocument=_document(
            {
                "Effect": "Allow",
                "Principal": {"Federated": saml.provider_arn},
                "Action": actions,
                "Condition": conditions,
            }
        ),
    )


@pytest.fixture
def saml(server: Server) -> SamlWorld:
    world = build_saml_world(server, f"samltags{next(_names)}")
    server.client("iam").put_role_policy(
        RoleName=world.role_arn.rsplit("/", 1)[1],
        PolicyName="p",
        PolicyDocument=_document(ABAC_FEDERATION),
    )
    return world


def _tags(**tags: str) -> dict[str, list[str]]:
    return {TAG_ATTRIBUTE + key: [value] for key, value in tags.items()}


def _federate(saml: SamlWorld, answer: dict[str, Any]) -> str:
    return _federation_outcome(saml.server, saml.world.instance_id, answer["Credentials"])


def _federation_outcome(server: Any, instance_id: str, creds: dict[str, Any]) -> str:
    """ "ok", or the error code GetFederationToken answers the session ``creds`` with."""
    connect = server.client(
        "connect", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
    )
    try:
        connect.get_federation_token(InstanceId=instance_id)
    except ClientError as error:
        return str(error.response["Error"]["Code"])
    return "ok"


def test_saml_principal_tags_need_sts_tag_session(saml: SamlWorld) -> None:
    tagged = saml.assertion("agent1", extra_attributes=_tags(Team="agents"))
    error = _error(saml.assume, assertion=tagged)
    assert (error["Code"], error["Status"]) == ("AccessDenied", 403)
    assert error["Message"] == "Not authorized to perform sts:AssumeRoleWithSAML"
    _saml_trust(saml, ["sts:AssumeRoleWithSAML", "sts:TagSession"])
    answer = saml.assume(tagged)
    assert 0 < answer["PackedPolicySize"] <= 100
    assert "PackedPolicySize" not in saml.assume(saml.assertion("agent1"))


def test_saml_principal_tags_decide_get_federation_token(saml: SamlWorld) -> None:
    _saml_trust(
        saml,
        ["sts:AssumeRoleWithSAML", "sts:TagSession"],
        StringLike={"aws:RequestTag/Team": "*"},
    )
    agents = saml.assume(saml.assertion("agent1", extra_attributes=_tags(Team="agents")))
    assert _federate(saml, agents) == "ok"
    others = saml.assume(saml.assertion("agent1", extra_attributes=_tags(Team="others")))
    assert _federate(saml, others) == "AccessDeniedException"
    untagged = _error(saml.assume, assertion=saml.assertion("agent1"))  # RequestTag required
    assert untagged["Code"] == "AccessDenied"


def test_saml_source_identity_needs_sts_set_source_identity(saml: SamlWorld) -> None:
    with_source = saml.assertion("agent1", extra_attributes={SOURCE_IDENTITY_ATTRIBUTE: ["alice"]})
    error = _error(saml.assume, assertion=with_source)
    assert (error["Code"], error["Status"]) == ("AccessDenied", 403)
    _saml_trust(
        saml,
        ["sts:AssumeRoleWithSAML", "sts:SetSourceIdentity"],
        StringLike={"sts:SourceIdentity": ["alice", "diego"]},
    )
    assert saml.assume(with_source)["SourceIdentity"] == "alice"
    bob = saml.assertion("agent1", extra_attributes={SOURCE_IDENTITY_ATTRIBUTE: ["bob"]})
    assert _error(saml.assume, assertion=bob)["Code"] == "AccessDenied"


@pytest.mark.parametrize(
    ("attributes", "code", "fragment"),
    [
        (
            {TAG_ATTRIBUTE + "Team": ["a"], TAG_ATTRIBUTE + "team": ["b"]},
            "InvalidParameterValue",
            "Duplicate tag keys found",
        ),
        (
            {TAG_ATTRIBUTE + "Team": ["a"], TRANSITIVE_ATTRIBUTE: ["Site"]},
            "InvalidParameterValue",
            "transitive tag key must be included",
        ),
        ({TAG_ATTRIBUTE + "Team": ["a", "b"]}, "InvalidIdentityToken", "exactly one value"),
        ({TAG_ATTRIBUTE + "Team!": ["a"]}, "InvalidIdentityToken", "PrincipalTag"),
        ({TAG_ATTRIBUTE + "Team": ["v" * 257]}, "InvalidIdentityToken", "256"),
        (
            {TAG_ATTRIBUTE + f"k{i}": ["v"] for i in range(51)},
            "InvalidIdentityToken",
            "limit of 50",
        ),
    ],
)
def test_saml_tags_are_validated(
    saml: SamlWorld, attributes: dict[str, list[str]], code: str, fragment: str
) -> None:
    _saml_trust(saml, ["sts:AssumeRoleWithSAML", "sts:TagSession"])
    error = _error(saml.assume, assertion=saml.assertion("agent1", extra_attributes=attributes))
    assert (error["Code"], error["Status"]) == (code, 400)
    assert fragment in error["Message"]


def test_saml_transitive_tags_carry_over_to_a_chained_assume_role(saml: SamlWorld) -> None:
    _saml_trust(saml, ["sts:AssumeRoleWithSAML", "sts:TagSession"])
    iam = saml.server.client("iam")
    role_name = saml.role_arn.rsplit("/", 1)[1]
    iam.put_role_policy(
        RoleName=role_name,
        PolicyName="chain",
        PolicyDocument=_document({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}),
    )
    second_name = f"Chained-{saml.world.instance_id}"
    second = iam.create_role(
        RoleName=second_name, AssumeRolePolicyDocument=_account_trust(["sts:AssumeRole"])
    )["Role"]["Arn"]
    iam.put_role_policy(
        RoleName=second_name, PolicyName="p", PolicyDocument=_document(ABAC_FEDERATION)
    )
    attributes = {**_tags(Team="agents"), TRANSITIVE_ATTRIBUTE: ["Team"]}
    first = saml.assume(saml.assertion("first", extra_attributes=attributes))["Credentials"]
    sts = saml.server.client(
        "sts", first["AccessKeyId"], first["SecretAccessKey"], first["SessionToken"]
    )
    chained = sts.assume_role(RoleArn=second, RoleSessionName="agent1")
    assert "PackedPolicySize" not in chained  # inherited tags are not passed by this call
    assert _federate(saml, chained) == "ok"


@pytest.mark.parametrize(
    ("team", "status"),
    [("agents", 200), ("others", 403)],
)
def test_the_browser_console_path_federates_by_principal_tags(
    saml: SamlWorld, team: str, status: int
) -> None:
    """The browser's SAML sign-in keeps the assertion's tags too: the console's
    GetFederationToken (``/connect/federate/<id>``) is decided by the ABAC policy."""
    instance_id = saml.world.instance_id
    relay = f"{saml.server.url}/connect/federate/{instance_id}?destination=/ccp-v2/"
    assertion = saml.assertion("agent1", extra_attributes=_tags(Team=team))
    refused = Browser(saml.server.url).request(
        "POST", "/saml", form={"SAMLResponse": assertion, "RelayState": relay}
    )
    assert refused.status == 403  # no sts:TagSession in the trust policy yet
    _saml_trust(saml, ["sts:AssumeRoleWithSAML", "sts:TagSession"])
    browser = Browser(saml.server.url)
    reply = browser.request(
        "POST",
        "/saml",
        form={
            "SAMLResponse": saml.assertion("agent1", extra_attributes=_tags(Team=team)),
            "RelayState": relay,
        },
    )
    assert reply.status == 303 and reply.location is not None
    assert browser.follow(reply).status == status


# -- the AWS CLI --------------------------------------------------------------------------------


def test_aws_cli_passes_tags_and_source_identity(tagged: Tagged, tmp_path: Path) -> None:
    tagged.trust(_account_trust(["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"]))
    tagged.role_policy(ABAC_FEDERATION)
    env = clean_env(
        tmp_path,
        AWS_ACCESS_KEY_ID=tagged.world.caller_key,
        AWS_SECRET_ACCESS_KEY=tagged.world.caller_secret,
    )
    common = ["--endpoint-url", tagged.world.server.url, "--region", "us-east-1"]
    answer = json.loads(
        aws(
            "sts",
            "assume-role",
            "--role-arn",
            tagged.world.role_arn,
            "--role-session-name",
            "agent1",
            "--tags",
            "Key=Team,Value=agents",
            "Key=Site,Value=lyon",
            "--transitive-tag-keys",
            "Team",
            "--source-identity",
            "alice",
            *common,
            env=env,
        ).stdout
    )
    assert answer["SourceIdentity"] == "alice"
    assert 0 < answer["PackedPolicySize"] <= 100
    assert tagged.federate(answer["Credentials"]) == "ok"
    refused = aws(
        "sts",
        "assume-role",
        "--role-arn",
        tagged.world.role_arn,
        "--role-session-name",
        "agent1",
        "--tags",
        "Key=Team,Value=a",
        "Key=team,Value=b",
        *common,
        env=env,
        check=False,
    )
    assert refused.returncode != 0
    assert "InvalidParameterValue" in refused.stderr and "Duplicate tag keys" in refused.stderr

"""IAM policies through the real server with boto3: every operator family as a real request sees
it (aws:SourceIp from the connection, aws:SecureTransport from TLS), validation on write with
IAM's errors, size quotas, and the trust-policy rules of AssumeRole."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.server import ACCOUNT_ID, Server, start_server

USER_ARN = f"arn:aws:iam::{ACCOUNT_ID}:user/QUJD"


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow_get_user(condition: dict[str, Any] | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}
    if condition:
        statement["Condition"] = condition
    return statement


def error_of(call: Any, **kwargs: Any) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    response = caught.value.response
    return (
        response["Error"]["Code"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Message"],
    )


class Caller:
    """An IAM user whose single inline policy each case replaces; it then calls iam:GetUser."""

    def __init__(self, server: Server, name: str) -> None:
        self.server, self.name = server, name
        iam = server.client("iam")
        iam.create_user(UserName=name)
        key = iam.create_access_key(UserName=name)["AccessKey"]
        self.key, self.secret = key["AccessKeyId"], key["SecretAccessKey"]

    def set_policy(self, *statements: dict[str, Any]) -> None:
        self.server.client("iam").put_user_policy(
            UserName=self.name, PolicyName="p", PolicyDocument=policy(*statements)
        )

    def may_get_user(self, **headers: str) -> bool:
        iam = self.server.client("iam", self.key, self.secret)
        if headers:

            def add(request: Any, **_: Any) -> None:
                for name, value in headers.items():
                    request.headers[name] = value

            iam.meta.events.register_first("before-sign.iam.GetUser", add)
        try:
            iam.get_user(UserName=self.name)
            return True
        except ClientError as exc:
            assert exc.response["Error"]["Code"] == "AccessDenied"
            return False


@pytest.fixture(scope="module")
def caller(server: Server) -> Caller:
    # The name is base64 ("ABC"), so BinaryEquals can be exercised on aws:username.
    return Caller(server, "QUJD")


T = True
F = False
# (condition, allowed from 127.0.0.1 over plain HTTP, as user QUJD)
OPERATOR_CASES = [
    ({"StringEquals": {"aws:username": "QUJD"}}, T),
    ({"StringNotEquals": {"aws:username": "QUJD"}}, F),
    ({"StringEqualsIgnoreCase": {"aws:username": "qujd"}}, T),
    ({"StringNotEqualsIgnoreCase": {"aws:username": "qujd"}}, F),
    ({"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/QU?D"}}, T),
    ({"StringNotLike": {"aws:PrincipalArn": "*:user/Q*"}}, F),
    ({"NumericLessThan": {"aws:EpochTime": "4102444800"}}, T),  # before 2100
    ({"NumericGreaterThanEquals": {"aws:EpochTime": "4102444800"}}, F),
    ({"NumericEquals": {"aws:EpochTime": "1"}}, F),
    ({"NumericNotEquals": {"aws:EpochTime": "1"}}, T),
    ({"NumericLessThanEquals": {"aws:EpochTime": "1"}}, F),
    ({"NumericGreaterThan": {"aws:EpochTime": "1"}}, T),
    ({"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}, T),
    ({"DateLessThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}, F),
    ({"DateLessThanEquals": {"aws:CurrentTime": "2100-01-01"}}, T),
    ({"DateGreaterThanEquals": {"aws:CurrentTime": "4102444800"}}, F),
    ({"DateEquals": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}, F),
    ({"DateNotEquals": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}, T),
    ({"Bool": {"aws:SecureTransport": "false"}}, T),  # plain HTTP
    ({"Bool": {"aws:SecureTransport": True}}, F),
    ({"BinaryEquals": {"aws:username": "QUJD"}}, T),
    ({"BinaryEquals": {"aws:username": "QUJE"}}, F),
    ({"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}, T),
    ({"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "::1/128"]}}, F),
    ({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, T),
    ({"NotIpAddress": {"aws:SourceIp": "127.0.0.1/32"}}, F),
    ({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/*"}}, T),
    ({"ArnEquals": {"aws:PrincipalArn": USER_ARN}}, T),
    ({"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/*"}}, F),
    ({"ArnNotEquals": {"aws:PrincipalArn": USER_ARN}}, F),
    ({"Null": {"aws:SourceIp": "false"}}, T),
    ({"Null": {"aws:TokenIssueTime": "false"}}, F),  # a user has no session
    ({"StringEqualsIfExists": {"aws:TokenIssueTime": "x"}}, T),
    ({"StringEqualsIfExists": {"aws:username": "other"}}, F),
    ({"ForAnyValue:StringEquals": {"aws:username": ["x", "QUJD"]}}, T),
    ({"ForAllValues:StringEquals": {"aws:username": ["x"]}}, F),
    ({"ForAllValues:StringNotEquals": {"aws:username": ["x"]}}, T),
    ({"ForAnyValue:StringNotLike": {"aws:username": ["Q*"]}}, F),
    ({"ForAllValues:StringEquals": {"aws:CalledVia": ["x"]}}, T),  # missing key: true
    ({"ForAnyValue:StringEquals": {"aws:CalledVia": ["x"]}}, F),  # missing key: false
]


@pytest.mark.parametrize("condition,allowed", OPERATOR_CASES)
def test_each_operator_allows_and_denies_as_aws(
    caller: Caller, condition: dict[str, Any], allowed: bool
) -> None:
    caller.set_policy(allow_get_user(condition))
    assert caller.may_get_user() is allowed


def test_deny_unless_from_the_corporate_network(caller: Caller) -> None:
    deny = {
        "Effect": "Deny",
        "Action": "iam:*",
        "Resource": "*",
        "Condition": {"NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.168.0.0/16"]}},
    }
    everything = {"Effect": "Allow", "Action": "*", "Resource": "*"}
    caller.set_policy(everything, deny)
    assert not caller.may_get_user()
    # aws:SourceIp is the connection's peer: a forwarded-for header changes nothing.
    assert not caller.may_get_user(**{"X-Forwarded-For": "10.1.2.3", "X-Real-IP": "10.1.2.3"})
    deny["Condition"] = {"NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8", "127.0.0.0/8"]}}
    caller.set_policy(everything, deny)
    assert caller.may_get_user()


UNKNOWN = {"NotIpAddres": {"aws:SourceIp": "10.0.0.0/8"}}


def test_an_unknown_operator_is_refused_on_every_write(server: Server) -> None:
    iam = server.client("iam")
    iam.create_user(UserName="typo-user")
    iam.create_role(
        RoleName="TypoRole",
        AssumeRolePolicyDocument=policy(
            {"Effect": "Allow", "Principal": {"AWS": ACCOUNT_ID}, "Action": "sts:AssumeRole"}
        ),
    )
    deny = {"Effect": "Deny", "Action": "iam:*", "Resource": "*", "Condition": UNKNOWN}
    trust = {
        "Effect": "Allow",
        "Principal": {"AWS": ACCOUNT_ID},
        "Action": "sts:AssumeRole",
        "Condition": UNKNOWN,
    }
    expected = ("MalformedPolicyDocument", 400, "Syntax errors in policy.")
    assert (
        error_of(
            iam.put_user_policy, UserName="typo-user", PolicyName="p", PolicyDocument=policy(deny)
        )
        == expected
    )
    assert (
        error_of(
            iam.put_role_policy, RoleName="TypoRole", PolicyName="p", PolicyDocument=policy(deny)
        )
        == expected
    )
    assert (
        error_of(iam.create_role, RoleName="TypoRole2", AssumeRolePolicyDocument=policy(trust))
        == expected
    )
    assert (
        error_of(iam.update_assume_role_policy, RoleName="TypoRole", PolicyDocument=policy(trust))
        == expected
    )
    assert iam.list_user_policies(UserName="typo-user")["PolicyNames"] == []
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_role(RoleName="TypoRole2")


@pytest.mark.parametrize(
    "document,message",
    [
        (
            policy({**allow_get_user(), "Principal": "*"}),
            "Policy document should not specify a principal.",
        ),
        (
            policy({"Effect": "Allow", "Action": "iam:GetUser"}),
            "Policy statement must contain resources.",
        ),
        (policy({**allow_get_user(), "Effect": "Maybe"}), "Syntax errors in policy."),
        (
            json.dumps({"Version": "2013-01-01", "Statement": [allow_get_user()]}),
            "Syntax errors in policy.",
        ),
        (
            policy({**allow_get_user(), "Resource": "bucket"}),
            'Resource bucket must be in ARN format or "*".',
        ),
        (
            policy(allow_get_user({"DateLessThan": {"aws:CurrentTime": "soon"}})),
            "The policy failed legacy parsing",
        ),
    ],
)
def test_malformed_identity_policies(caller: Caller, document: str, message: str) -> None:
    iam = caller.server.client("iam")
    assert error_of(
        iam.put_user_policy, UserName=caller.name, PolicyName="bad", PolicyDocument=document
    ) == ("MalformedPolicyDocument", 400, message)


def test_invalid_principals_in_trust_policies(server: Server) -> None:
    iam = server.client("iam")
    ghost = f"arn:aws:iam::{ACCOUNT_ID}:user/ghost"
    statement = {"Effect": "Allow", "Principal": {"AWS": ghost}, "Action": "sts:AssumeRole"}
    assert error_of(
        iam.create_role, RoleName="GhostRole", AssumeRolePolicyDocument=policy(statement)
    ) == ("MalformedPolicyDocument", 400, f'Invalid principal in policy: "AWS":"{ghost}"')
    statement["Resource"] = "*"
    assert error_of(
        iam.create_role, RoleName="GhostRole", AssumeRolePolicyDocument=policy(statement)
    )[2] == ("Has prohibited field Resource.")


def test_size_quotas(server: Server) -> None:
    iam = server.client("iam")
    principal = {"Effect": "Allow", "Principal": {"AWS": ACCOUNT_ID}, "Action": "sts:AssumeRole"}
    padded = [{**principal, "Sid": f"S{i:03d}" + "x" * 60} for i in range(30)]  # > 2048 chars
    assert error_of(
        iam.create_role, RoleName="BigTrust", AssumeRolePolicyDocument=policy(*padded)
    ) == ("LimitExceeded", 409, "Cannot exceed quota for ACLSizePerRole: 2048")
    # Whitespace does not count against the quota.
    roomy = json.dumps({"Version": "2012-10-17", "Statement": [principal]}, indent=400)
    assert len(roomy) > 2048
    iam.create_role(RoleName="RoomyTrust", AssumeRolePolicyDocument=roomy)

    iam.create_user(UserName="quota-user")
    resources = [f"arn:aws:s3:::bucket-{i:04d}-" + "y" * 40 for i in range(20)]
    half = policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": resources})
    assert 1024 < len(half) < 2048
    iam.put_user_policy(UserName="quota-user", PolicyName="a", PolicyDocument=half)
    iam.put_user_policy(UserName="quota-user", PolicyName="a", PolicyDocument=half)  # replaces
    assert error_of(
        iam.put_user_policy, UserName="quota-user", PolicyName="b", PolicyDocument=half
    ) == ("LimitExceeded", 409, "Maximum policy size of 2048 bytes exceeded for user quota-user")
    for name in "abcd":  # a role's inline policies may add up to 10240
        iam.put_role_policy(RoleName="RoomyTrust", PolicyName=name, PolicyDocument=half)


def _trust_with(*statements: dict[str, Any]) -> str:
    return policy(*statements)


def test_a_trust_statement_naming_the_caller_exempts_only_when_it_applies(server: Server) -> None:
    iam = server.client("iam")
    iam.create_user(UserName="no-perms")
    iam.put_user_policy(
        UserName="no-perms", PolicyName="p", PolicyDocument=policy(allow_get_user())
    )  # nothing about sts
    key = iam.create_access_key(UserName="no-perms")["AccessKey"]
    user_arn = f"arn:aws:iam::{ACCOUNT_ID}:user/no-perms"
    arn = iam.create_role(
        RoleName="ExternalIdRole",
        AssumeRolePolicyDocument=_trust_with(
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"},
                "Action": "sts:AssumeRole",
            },
            {
                "Effect": "Allow",
                "Principal": {"AWS": user_arn},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": "Unguessable-1"}},
            },
        ),
    )["Role"]["Arn"]
    sts = server.client("sts", key["AccessKeyId"], key["SecretAccessKey"])
    # The statement naming the caller applies: no identity permission is needed.
    assert sts.assume_role(RoleArn=arn, RoleSessionName="s1", ExternalId="Unguessable-1")
    # Its condition fails: the account statement still trusts the caller, but now the
    # caller's own identity policy must allow sts:AssumeRole, and it does not.
    for extra in ({"ExternalId": "wrong-id"}, {}):
        code, status, _ = error_of(sts.assume_role, RoleArn=arn, RoleSessionName="s2", **extra)
        assert (code, status) == ("AccessDenied", 403)
    iam.put_user_policy(
        UserName="no-perms",
        PolicyName="sts",
        PolicyDocument=policy({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": arn}),
    )
    assert sts.assume_role(RoleArn=arn, RoleSessionName="s3")


def test_external_id_condition_and_format(server: Server) -> None:
    iam = server.client("iam")
    iam.create_user(UserName="partner")
    iam.put_user_policy(
        UserName="partner",
        PolicyName="p",
        PolicyDocument=policy({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}),
    )
    key = iam.create_access_key(UserName="partner")["AccessKey"]
    arn = iam.create_role(
        RoleName="PartnerRole",
        AssumeRolePolicyDocument=_trust_with(
            {
                "Effect": "Allow",
                "Principal": {"AWS": ACCOUNT_ID},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": "a+b=c,d.e@f:g/h-i_j"}},
            },
        ),
    )["Role"]["Arn"]
    sts = server.client("sts", key["AccessKeyId"], key["SecretAccessKey"])
    assert sts.assume_role(RoleArn=arn, RoleSessionName="s1", ExternalId="a+b=c,d.e@f:g/h-i_j")
    assert error_of(sts.assume_role, RoleArn=arn, RoleSessionName="s1")[0] == "AccessDenied"
    # Sent as is (no client-side validation): the server checks 2-1224 chars of [\w+=,.@:/-].
    raw = server.client(
        "sts", key["AccessKeyId"], key["SecretAccessKey"], parameter_validation=False
    )
    for bad in ("x", "has space", "semi;colon", "a" * 1225):
        code, status, message = error_of(
            raw.assume_role, RoleArn=arn, RoleSessionName="s1", ExternalId=bad
        )
        assert (code, status) == ("ValidationError", 400) and "externalId" in message


def test_session_policies_are_validated(server: Server) -> None:
    iam = server.client("iam")
    iam.create_user(UserName="session-caller")
    iam.put_user_policy(
        UserName="session-caller",
        PolicyName="p",
        PolicyDocument=policy({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}),
    )
    key = iam.create_access_key(UserName="session-caller")["AccessKey"]
    arn = iam.create_role(
        RoleName="SessionPolicyRole",
        AssumeRolePolicyDocument=_trust_with(
            {"Effect": "Allow", "Principal": {"AWS": ACCOUNT_ID}, "Action": "sts:AssumeRole"},
        ),
    )["Role"]["Arn"]
    sts = server.client("sts", key["AccessKeyId"], key["SecretAccessKey"])
    bad = policy({**allow_get_user(), "Condition": UNKNOWN})
    assert error_of(sts.assume_role, RoleArn=arn, RoleSessionName="s1", Policy=bad) == (
        "MalformedPolicyDocument",
        400,
        "Syntax errors in policy.",
    )
    assert sts.assume_role(RoleArn=arn, RoleSessionName="s1", Policy=policy(allow_get_user()))


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_server(
        tmp_path_factory.mktemp("tls-policy"),
        "--throttle-rate",
        "0",
        "--tls-self-signed",
        scheme="https",
    )
    yield server
    server.stop()


def test_secure_transport_is_true_over_tls(tls_server: Server, server: Server) -> None:
    only_tls = allow_get_user({"Bool": {"aws:SecureTransport": "true"}})
    secure = Caller(tls_server, "tls-user")
    secure.set_policy(only_tls)
    assert secure.may_get_user()
    plain = Caller(server, "plain-user")
    plain.set_policy(only_tls)
    assert not plain.may_get_user()


CONDITION_VALUE = st.one_of(
    st.text(max_size=6),
    st.integers(),
    st.booleans(),
    st.none(),
    st.lists(st.text(max_size=4), max_size=2),
    st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=2),
)
NEAR_STATEMENT = st.fixed_dictionaries(
    {
        "Effect": st.sampled_from(["Allow", "Deny", "allow", 1]),
        "Action": st.sampled_from(["iam:GetUser", "*", "", "nope", ["s3:*"], [], {}]),
        "Resource": st.sampled_from(["*", "arn:aws:s3:::b", "bucket", "arn:aws", [], None]),
    },
    optional={
        "Condition": st.dictionaries(
            st.sampled_from(["StringEquals", "NotIpAddres", "ForAnyValue:IpAddress", "Null", "x"]),
            st.dictionaries(st.sampled_from(["aws:SourceIp", "k"]), CONDITION_VALUE, max_size=2),
            max_size=2,
        ),
        "Principal": st.just("*"),
        "Sid": st.text(max_size=3),
    },
)
DOCUMENTS = st.one_of(
    st.builds(
        lambda s, v: json.dumps({"Version": v, "Statement": s}),
        st.one_of(NEAR_STATEMENT, st.lists(NEAR_STATEMENT, max_size=2)),
        st.sampled_from(["2012-10-17", "2008-10-17", "x"]),
    ),
    st.text(min_size=1, max_size=40).filter(lambda t: t.strip() != ""),
    st.recursive(
        st.none() | st.booleans() | st.text(max_size=5),
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
        ),
        max_leaves=10,
    ).map(json.dumps),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(DOCUMENTS)
def test_random_documents_never_get_a_500(caller: Caller, document: str) -> None:
    iam = caller.server.client("iam")
    try:
        iam.put_user_policy(UserName=caller.name, PolicyName="fuzz", PolicyDocument=document)
    except ClientError as exc:
        error = exc.response["Error"]
        assert exc.response["ResponseMetadata"]["HTTPStatusCode"] in (400, 409), error
        assert error["Code"] in ("MalformedPolicyDocument", "ValidationError", "LimitExceeded")

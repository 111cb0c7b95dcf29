"""IAM policy evaluation: matching, variables, condition operators, deny precedence."""

from __future__ import annotations

import json
from typing import Any

import pytest

from connectfed.identity.policy import (
    Decision,
    MalformedPolicy,
    RequestFacts,
    evaluate,
    parse_policy,
)

INSTANCE = "arn:aws:connect:us-east-1:123456789012:instance/i-1"


def doc(*statements: dict[str, Any], version: str = "2012-10-17") -> str:
    return json.dumps({"Version": version, "Statement": list(statements)})


def decide(
    policy: str,
    action: str = "connect:GetFederationToken",
    resource: str = f"{INSTANCE}/user/AROA1:agent1",
    **context: Any,
) -> Decision:
    ctx = {"aws:userid": "AROA1:agent1", **{k.lower(): v for k, v in context.items()}}
    return evaluate([parse_policy(policy)], RequestFacts(action, resource, ctx))


ALLOW = {"Effect": "Allow", "Action": "connect:GetFederationToken"}


@pytest.mark.parametrize(
    "statement,context,expected",
    [
        ({**ALLOW, "Resource": "*"}, {}, Decision.ALLOW),
        ({**ALLOW, "Resource": f"{INSTANCE}/user/${{aws:userid}}"}, {}, Decision.ALLOW),
        ({**ALLOW, "Resource": f"{INSTANCE}/user/${{aws:username}}"}, {}, Decision.IMPLICIT_DENY),
        (
            {**ALLOW, "Resource": f"{INSTANCE}/user/${{aws:username, 'AROA1:agent1'}}"},
            {},
            Decision.ALLOW,
        ),
        ({**ALLOW, "Resource": f"{INSTANCE}/user/AROA1:*"}, {}, Decision.ALLOW),
        ({**ALLOW, "Resource": f"{INSTANCE}/user/aroa1:agent1"}, {}, Decision.IMPLICIT_DENY),
        (
            {"Effect": "Allow", "Action": "CONNECT:getfederation*", "Resource": "*"},
            {},
            Decision.ALLOW,
        ),
        (
            {"Effect": "Allow", "NotAction": "connect:GetFederationToken", "Resource": "*"},
            {},
            Decision.IMPLICIT_DENY,
        ),
        ({**ALLOW, "NotResource": f"{INSTANCE}/*"}, {}, Decision.IMPLICIT_DENY),
        (
            {
                **ALLOW,
                "Resource": "*",
                "Condition": {"StringEquals": {"connect:InstanceId": "i-1"}},
            },
            {"connect:InstanceId": "i-1"},
            Decision.ALLOW,
        ),
        (
            {
                **ALLOW,
                "Resource": "*",
                "Condition": {"StringEquals": {"connect:InstanceId": "i-2"}},
            },
            {"connect:InstanceId": "i-1"},
            Decision.IMPLICIT_DENY,
        ),
        (
            {
                **ALLOW,
                "Resource": "*",
                "Condition": {"StringNotEquals": {"connect:InstanceId": "i-2"}},
            },
            {"connect:InstanceId": "i-1"},
            Decision.ALLOW,
        ),
        (
            {**ALLOW, "Resource": "*", "Condition": {"StringLike": {"aws:userid": "AROA1:*"}}},
            {},
            Decision.ALLOW,
        ),
        (
            {**ALLOW, "Resource": "*", "Condition": {"StringEqualsIfExists": {"x:missing": "v"}}},
            {},
            Decision.ALLOW,
        ),
        (
            {**ALLOW, "Resource": "*", "Condition": {"StringEquals": {"x:missing": "v"}}},
            {},
            Decision.IMPLICIT_DENY,
        ),
        (
            {**ALLOW, "Resource": "*", "Condition": {"Null": {"x:missing": "true"}}},
            {},
            Decision.ALLOW,
        ),
        (
            {**ALLOW, "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "true"}}},
            {"aws:SecureTransport": "false"},
            Decision.IMPLICIT_DENY,
        ),
        (
            {**ALLOW, "Resource": "*", "Condition": {"NumericLessThan": {"n": "10"}}},
            {"n": "9"},
            Decision.ALLOW,
        ),
        (
            {**ALLOW, "Resource": "*", "Condition": {"NumericLessThan": {"n": "10"}}},
            {"n": "x"},
            Decision.IMPLICIT_DENY,
        ),
        (
            {
                **ALLOW,
                "Resource": "*",
                "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}},
            },
            {"aws:CurrentTime": "2026-01-01T00:00:00Z"},
            Decision.ALLOW,
        ),
        (
            {
                **ALLOW,
                "Resource": "*",
                "Condition": {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/Fed*"}},
            },
            {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/Federation"},
            Decision.ALLOW,
        ),
        (
            {
                **ALLOW,
                "Resource": "*",
                "Condition": {"ForAnyValue:StringEquals": {"tags": ["a", "b"]}},
            },
            {"tags": ["b", "c"]},
            Decision.ALLOW,
        ),
        (
            {
                **ALLOW,
                "Resource": "*",
                "Condition": {"ForAllValues:StringEquals": {"tags": ["a", "b"]}},
            },
            {"tags": ["b", "c"]},
            Decision.IMPLICIT_DENY,
        ),
        (
            {**ALLOW, "Resource": "*", "Condition": {"ForAllValues:StringEquals": {"tags": ["a"]}}},
            {},
            Decision.ALLOW,
        ),
        (
            {**ALLOW, "Resource": "*", "Condition": {"UnknownOperator": {"k": "v"}}},
            {"k": "v"},
            Decision.IMPLICIT_DENY,
        ),
    ],
)
def test_statement_table(
    statement: dict[str, Any], context: dict[str, Any], expected: Decision
) -> None:
    assert decide(doc(statement), **context) is expected


def test_explicit_deny_beats_allow_in_any_order() -> None:
    allow = {**ALLOW, "Resource": "*"}
    deny = {"Effect": "Deny", "Action": "connect:*", "Resource": "*"}
    assert decide(doc(allow, deny)) is Decision.DENY
    assert decide(doc(deny, allow)) is Decision.DENY


def test_variables_are_literal_in_2008_policies() -> None:
    policy = doc({**ALLOW, "Resource": f"{INSTANCE}/user/${{aws:userid}}"}, version="2008-10-17")
    assert decide(policy) is Decision.IMPLICIT_DENY


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        json.dumps({"Version": "2012-10-17"}),
        doc({"Effect": "Maybe", "Action": "*", "Resource": "*"}),
        doc({"Effect": "Allow", "Resource": "*"}),
        doc({"Effect": "Allow", "Action": "*"}),
        doc({"Effect": "Allow", "Action": "*", "Resource": "*"}, version="2099-01-01"),
    ],
)
def test_malformed_policies_are_refused(text: str) -> None:
    with pytest.raises(MalformedPolicy):
        parse_policy(text)

"""Every IAM condition operator, as the IAM User Guide ("Condition operators", "Single-valued vs.
multivalued context keys") defines it, and fail-closed evaluation of what cannot be evaluated."""

from __future__ import annotations

import json
from typing import Any

import pytest

from connectfed.identity.policy import Decision, RequestFacts, evaluate, parse_policy

ALLOW = Decision.ALLOW
NO = Decision.IMPLICIT_DENY


def decide(
    operator: str, key: str, values: Any, context: dict[str, Any], effect: str = "Allow"
) -> Decision:
    statement = {
        "Effect": effect,
        "Action": "iam:GetUser",
        "Resource": "*",
        "Condition": {operator: {key: values}},
    }
    doc = parse_policy(json.dumps({"Version": "2012-10-17", "Statement": [statement]}))
    return evaluate(
        [doc],
        RequestFacts(
            "iam:GetUser", "arn:aws:iam::1:user/u", {k.lower(): v for k, v in context.items()}
        ),
    )


IP = "aws:SourceIp"
CASES = [
    # String family
    ("StringEquals", "k", "abc", {"k": "abc"}, ALLOW),
    ("StringEquals", "k", "abc", {"k": "ABC"}, NO),
    ("StringEquals", "k", ["x", "abc"], {"k": "abc"}, ALLOW),  # values are ORed
    ("StringNotEquals", "k", ["x", "abc"], {"k": "abc"}, NO),  # negated: none may match
    ("StringNotEquals", "k", "x", {}, ALLOW),  # negated on a missing key: true
    ("StringEqualsIgnoreCase", "k", "aBc", {"k": "AbC"}, ALLOW),
    ("StringNotEqualsIgnoreCase", "k", "aBc", {"k": "AbC"}, NO),
    ("StringLike", "k", "a*c?", {"k": "abbbcd"}, ALLOW),
    ("StringLike", "k", "a*c?", {"k": "abbbc"}, NO),
    ("StringNotLike", "k", "a*", {"k": "bcd"}, ALLOW),
    ("StringEquals", "k", "a*", {"k": "abc"}, NO),  # no wildcards in StringEquals
    # Numeric family
    ("NumericEquals", "n", "10", {"n": "10.0"}, ALLOW),
    ("NumericNotEquals", "n", "10", {"n": "11"}, ALLOW),
    ("NumericLessThan", "n", "10", {"n": "9.5"}, ALLOW),
    ("NumericLessThan", "n", "10", {"n": "10"}, NO),
    ("NumericLessThanEquals", "n", "10", {"n": "10"}, ALLOW),
    ("NumericGreaterThan", "n", "-1", {"n": "0"}, ALLOW),
    ("NumericGreaterThanEquals", "n", "5", {"n": "4"}, NO),
    ("NumericEquals", "n", 10, {"n": "10"}, ALLOW),  # a JSON number in the policy
    ("NumericLessThan", "n", "10", {"n": "ten"}, NO),  # the request's value is no number
    # Date family (ISO 8601 and epoch seconds)
    ("DateEquals", "t", "2026-01-01T00:00:00Z", {"t": "1767225600"}, ALLOW),
    ("DateNotEquals", "t", "2026-01-01", {"t": "2026-01-01T00:00:01Z"}, ALLOW),
    ("DateLessThan", "t", "2026-01-01T00:00:00+01:00", {"t": "2025-12-31T22:59:59Z"}, ALLOW),
    ("DateLessThanEquals", "t", "2026-01-01T00:00:00Z", {"t": "2026-01-01T00:00:00Z"}, ALLOW),
    ("DateGreaterThan", "t", "2026-01-01T00:00:00Z", {"t": "2025-01-01T00:00:00Z"}, NO),
    ("DateGreaterThanEquals", "t", "2026-01-01T00:00:00.5Z", {"t": "2026-01-01T00:00:01Z"}, ALLOW),
    # Bool, Binary, Null
    ("Bool", "b", "true", {"b": "true"}, ALLOW),
    ("Bool", "b", True, {"b": "false"}, NO),
    ("Bool", "b", "TRUE", {"b": "true"}, ALLOW),
    ("BinaryEquals", "bin", "QUJD", {"bin": "QUJD"}, ALLOW),
    ("BinaryEquals", "bin", "QUJD", {"bin": "QUJE"}, NO),
    ("Null", "k", "true", {}, ALLOW),
    ("Null", "k", "true", {"k": "v"}, NO),
    ("Null", "k", "false", {"k": "v"}, ALLOW),
    ("Null", "k", False, {}, NO),
    # IP family (aws:SourceIp), IPv4 and IPv6 CIDR
    ("IpAddress", IP, "10.0.0.0/8", {IP: "10.1.2.3"}, ALLOW),
    ("IpAddress", IP, "10.0.0.0/8", {IP: "11.1.2.3"}, NO),
    ("IpAddress", IP, "203.0.113.7", {IP: "203.0.113.7"}, ALLOW),  # a bare address is a /32
    ("IpAddress", IP, "2001:db8::/32", {IP: "2001:DB8:1::5"}, ALLOW),
    ("IpAddress", IP, "2001:db8::/32", {IP: "10.0.0.1"}, NO),  # versions never mix
    ("IpAddress", IP, "127.0.0.0/8", {IP: "::ffff:127.0.0.1"}, ALLOW),  # v4-mapped client
    ("NotIpAddress", IP, ["10.0.0.0/8", "192.168.0.0/16"], {IP: "127.0.0.1"}, ALLOW),
    ("NotIpAddress", IP, ["10.0.0.0/8", "127.0.0.0/8"], {IP: "127.0.0.1"}, NO),
    ("NotIpAddress", IP, "10.0.0.0/8", {}, ALLOW),  # negated, key missing
    # ARN family: per segment, wildcards in all four
    ("ArnLike", "a", "arn:aws:iam::*:role/Fed*", {"a": "arn:aws:iam::1:role/Federation"}, ALLOW),
    ("ArnEquals", "a", "arn:aws:iam::*:role/x", {"a": "arn:aws:iam::1:role/x"}, ALLOW),
    ("ArnLike", "a", "arn:aws:iam::*:role/x", {"a": "arn:aws:iam::1:2:role/x"}, NO),
    ("ArnNotLike", "a", "arn:aws:iam::*:role/x", {"a": "arn:aws:iam::1:role/y"}, ALLOW),
    ("ArnNotEquals", "a", "arn:aws:iam::1:role/x", {"a": "arn:aws:iam::1:role/x"}, NO),
    ("ArnLike", "a", "arn:aws:iam::1:role/x", {"a": "not-an-arn"}, NO),
    # ...IfExists
    ("StringEqualsIfExists", "k", "v", {}, ALLOW),
    ("StringEqualsIfExists", "k", "v", {"k": "w"}, NO),
    ("NumericLessThanIfExists", "n", "3", {}, ALLOW),
    ("IpAddressIfExists", IP, "10.0.0.0/8", {IP: "127.0.0.1"}, NO),
    ("BoolIfExists", "b", "false", {}, ALLOW),
    # Set operators on multivalued keys
    ("ForAnyValue:StringEquals", "tags", ["a", "b"], {"tags": ["b", "c"]}, ALLOW),
    ("ForAnyValue:StringEquals", "tags", ["a"], {"tags": ["b", "c"]}, NO),
    ("ForAnyValue:StringEquals", "tags", ["a"], {}, NO),  # missing: false
    ("ForAllValues:StringEquals", "tags", ["a", "b"], {"tags": ["b", "c"]}, NO),
    ("ForAllValues:StringEquals", "tags", ["a", "b"], {"tags": ["b", "a"]}, ALLOW),
    ("ForAllValues:StringEquals", "tags", ["a"], {}, ALLOW),  # missing: true
    ("ForAllValues:StringEquals", "tags", ["a"], {"tags": []}, ALLOW),  # empty: true
    # Negated operators under set operators: per request value, "matches none".
    ("ForAllValues:StringNotEquals", "tags", ["a", "b"], {"tags": ["c", "d"]}, ALLOW),
    ("ForAllValues:StringNotEquals", "tags", ["a", "b"], {"tags": ["c", "a"]}, NO),
    ("ForAnyValue:StringNotEquals", "tags", ["a", "b"], {"tags": ["c", "a"]}, ALLOW),
    ("ForAnyValue:StringNotEquals", "tags", ["a", "b"], {"tags": ["b", "a"]}, NO),
    ("ForAnyValue:StringNotLike", "tags", ["a*"], {"tags": ["ab", "ac"]}, NO),
    ("ForAllValues:StringLike", "tags", ["a*", "b?"], {"tags": ["ax", "by"]}, ALLOW),
    ("ForAnyValue:StringEqualsIfExists", "tags", ["a"], {}, ALLOW),
    ("ForAnyValue:IpAddress", "ips", ["10.0.0.0/8"], {"ips": ["1.1.1.1", "10.9.9.9"]}, ALLOW),
    ("ForAllValues:NumericLessThan", "ns", ["5"], {"ns": ["1", "7"]}, NO),
    # A single-valued operator on a multivalued key: any value may match.
    ("StringEquals", "tags", "b", {"tags": ["a", "b"]}, ALLOW),
    ("StringNotEquals", "tags", "b", {"tags": ["a", "b"]}, NO),
]


@pytest.mark.parametrize("operator,key,values,context,expected", CASES)
def test_operator_table(
    operator: str, key: str, values: Any, context: dict[str, Any], expected: Decision
) -> None:
    assert decide(operator, key, values, context) is expected


@pytest.mark.parametrize(
    "operator,values",
    [
        ("NotIpAddres", "10.0.0.0/8"),
        ("stringequals", "x"),
        ("IfExists", "x"),
        ("ForSomeValues:StringEquals", "x"),
        ("NumericLessThan", "ten"),  # a policy value of the wrong type (stored before validation)
        ("IpAddress", "10.0.0.0/33"),
        ("Bool", "yes"),
        ("DateLessThan", "tomorrow"),
        ("BinaryEquals", "not base64!"),
        ("Null", "maybe"),
    ],
)
def test_unevaluable_conditions_fail_closed(operator: str, values: Any) -> None:
    context = {"k": "x", IP: "127.0.0.1"}
    # A Deny always applies; an Allow never grants — whatever the request.
    assert decide(operator, "k", values, context, effect="Deny") is Decision.DENY
    assert decide(operator, "k", values, context, effect="Allow") is NO


def test_fail_closed_deny_applies_even_when_another_condition_is_false() -> None:
    statement = {
        "Effect": "Deny",
        "Action": "iam:*",
        "Resource": "*",
        "Condition": {"NotIpAddres": {IP: "10.0.0.0/8"}, "StringEquals": {"k": "never"}},
    }
    doc = parse_policy(json.dumps({"Version": "2012-10-17", "Statement": [statement]}))
    facts = RequestFacts("iam:GetUser", "arn:aws:iam::1:user/u", {"k": "x"})
    assert evaluate([doc], facts) is Decision.DENY


def test_policy_variables_in_condition_values() -> None:
    assert (
        decide("StringEquals", "k", "${aws:username}", {"k": "bob", "aws:username": "bob"}) is ALLOW
    )
    assert decide("StringLike", "k", "${aws:username}", {"k": "bob", "aws:username": "b*"}) is NO
    assert decide("StringEquals", "k", "${missing}", {"k": "x"}) is NO
    assert decide("StringEquals", "k", "${missing, 'x'}", {"k": "x"}) is ALLOW

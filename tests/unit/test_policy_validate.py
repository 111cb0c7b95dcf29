"""Validation on write, as IAM does: messages IAM answers (the cases moto's IAM tests record from
AWS), random documents that never crash the validator, and parliament as an independent oracle.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectfed.identity.policy import MalformedPolicy, PolicyKind, policy_size, validate_policy

V = "2012-10-17"
OK = {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::example_bucket"}


def doc(*statements: dict[str, Any], **top: Any) -> str:
    return json.dumps({"Version": V, **top, "Statement": list(statements)})


def refused(text: str, kind: PolicyKind = PolicyKind.IDENTITY) -> str:
    with pytest.raises(MalformedPolicy) as caught:
        validate_policy(text, kind)
    return str(caught.value)


@pytest.mark.parametrize(
    "text,message",
    [
        ("This is not a json document", "Syntax errors in policy."),
        (json.dumps({"Version": "2013-10-17", "Statement": OK}), "Syntax errors in policy."),
        (json.dumps({"Version": V}), "Syntax errors in policy."),
        (json.dumps({"Version": V, "Statement": ["afd"]}), "Syntax errors in policy."),
        (doc(OK, Extra="value"), "Syntax errors in policy."),
        (doc({**OK, "Extra field": "value"}), "Syntax errors in policy."),
        (doc(OK, Id=["x"]), "Syntax errors in policy."),
        (doc({**OK, "Effect": "invalid"}), "Syntax errors in policy."),
        (
            doc({**OK, "Action": "invalid"}),
            "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
        ),
        (doc({**OK, "Action": "a a:ListBucket"}), "Vendor a a is not valid"),
        (doc({**OK, "Action": "s3:List:Bucket"}), "Actions/Condition can contain only one colon."),
        (
            doc({**OK, "Resource": "invalid resource"}),
            'Resource invalid resource must be in ARN format or "*".',
        ),
        (
            doc({**OK, "Resource": "a:bsdfdsafsad"}),
            'Partition "bsdfdsafsad" is not valid for resource "arn:bsdfdsafsad:*:*:*:*".',
        ),
        (
            doc({**OK, "Resource": "aws:s3:::example_bucket"}),
            'Partition "s3" is not valid for resource "arn:s3:::example_bucket:*".',
        ),
        (
            doc(
                {
                    **OK,
                    "Resource": ["arn:error:s3:::example_bucket", "arn:error:s3::example_bucket"],
                }
            ),
            'Partition "error" is not valid for resource "arn:error:s3:::example_bucket".',
        ),
        (
            doc({**OK, "Resource": "arn:aws"}),
            "Resource vendor must be fully qualified and cannot contain regexes.",
        ),
        (
            doc({**OK, "Resource": "arn:aws:iam:us-east-1::example_bucket"}),
            "IAM resource arn:aws:iam:us-east-1::example_bucket cannot contain region information.",
        ),
        (
            doc({**OK, "Resource": "arn:aws:s3:us-east-1::example_bucket"}),
            "Resource arn:aws:s3:us-east-1::example_bucket can not contain region information.",
        ),
        (
            doc({**OK, "Resource": "arn:aws:iam:::example_bucket"}),
            'IAM resource path must either be "*" or start with user/, federated-user/, role/, '
            "group/, instance-profile/, mfa/, server-certificate/, policy/, sms-mfa/, "
            "saml-provider/, oidc-provider/, report/, access-report/.",
        ),
        (json.dumps({"Version": V, "Statement": []}), "Syntax errors in policy."),
        (
            doc({"Effect": "Allow", "Action": "s3:ListBucket"}),
            "Policy statement must contain resources.",
        ),
        (doc({**OK, "Resource": []}), "Policy statement must contain resources."),
        (doc({"Effect": "Allow", "Resource": "*"}), "Policy statement must contain actions."),
        (doc({**OK, "Action": []}), "Policy statement must contain actions."),
        (doc({**OK, "Resource": "arn:aws:s3::example_bucket"}), "The policy failed legacy parsing"),
        (doc({**OK, "Effect": "denY"}), "The policy failed legacy parsing"),
        (
            doc({**OK, "Condition": {"DateGreaterThan": {"a": "sdfdsf"}}}),
            "The policy failed legacy parsing",
        ),
        (
            doc({**OK, "Condition": {"DateLessThan": {"a": "9223372036854775808"}}}),
            "The policy failed legacy parsing",
        ),
        (
            doc({**OK, "Sid": "a"}, {**OK, "Sid": "a"}),
            "Statement IDs (SID) in a single policy must be unique.",
        ),
        (doc({**OK, "Condition": []}), "Syntax errors in policy."),
        (doc({**OK, "Condition": {"a": "b"}}), "Syntax errors in policy."),
        (doc({**OK, "Condition": {"DateGreaterThan": {"a": {}}}}), "Syntax errors in policy."),
        (doc({**OK, "Resource": {"a": "arn:aws:s3:::example_bucket"}}), "Syntax errors in policy."),
        (doc({**OK, "NotResource": "*"}), "Syntax errors in policy."),
        (doc({**OK, "Principal": "*"}), "Policy document should not specify a principal."),
        # The class of bug this guards: a misspelt or unknown operator is a syntax error, as on AWS.
        (
            doc({**OK, "Condition": {"NotIpAddres": {"aws:SourceIp": "10.0.0.0/8"}}}),
            "Syntax errors in policy.",
        ),
        (doc({**OK, "Condition": {"x": {"a": "1"}}}), "Syntax errors in policy."),
        (
            doc({**OK, "Condition": {"ForAnyValue::StringEqualsIfExists": {"a": "asf"}}}),
            "Syntax errors in policy.",
        ),
        (doc({**OK, "Condition": {"stringequals": {"a": "x"}}}), "Syntax errors in policy."),
        # Values that cannot be read as their operator's type (our choice: docs/compatibility.md).
        (
            doc({**OK, "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.300/8"}}}),
            "The policy failed legacy parsing",
        ),
        (
            doc({**OK, "Condition": {"NumericLessThan": {"n": "ten"}}}),
            "The policy failed legacy parsing",
        ),
        (
            doc({**OK, "Condition": {"Bool": {"aws:SecureTransport": "yes"}}}),
            "The policy failed legacy parsing",
        ),
    ],
)
def test_identity_policy_messages(text: str, message: str) -> None:
    assert refused(text) == message


@pytest.mark.parametrize(
    "statement",
    [
        OK,
        {**OK, "Action": "iam: asdf safdsf af "},
        {**OK, "Resource": ["arn:aws:s3:::example_bucket", "*"]},
        {**OK, "Resource": "arn:aws:fdsasf"},
        {**OK, "Resource": "arn:aws:s3:us-west-2:123456789012:accesspoint/my-access-point"},
        {**OK, "Condition": {}},
        {
            **OK,
            "Condition": {"x": {}, "y": {}},
        },  # an unknown operator with no keys constrains nothing
        {**OK, "Condition": {"DateGreaterThan": {"a": []}}},
        {**OK, "Condition": {"ForAnyValue:StringEqualsIfExists": {"a": "asf"}}},
        {**OK, "Condition": {"DateLessThanEquals": {"a": "2016-12-13T21:20:37.593194+00:00"}}},
        {**OK, "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": False}}},
        {**OK, "Condition": {"NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8", "2001:db8::/32"]}}},
        {**OK, "Condition": {"NumericLessThan": {"n": "${aws:EpochTime}"}}},
        {**OK, "Condition": {"Null": {"aws:TokenIssueTime": "true"}}},
        {**OK, "Condition": {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/*"}}},
        {"Effect": "Deny", "NotAction": "s3:ListBucket", "NotResource": "*"},
    ],
)
def test_identity_policies_iam_accepts(statement: dict[str, Any]) -> None:
    assert validate_policy(doc(statement), PolicyKind.IDENTITY).statements


TRUST = {
    "Effect": "Allow",
    "Action": "sts:AssumeRole",
    "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
}


@pytest.mark.parametrize(
    "statement,message",
    [
        ({**TRUST, "Resource": "*"}, "Has prohibited field Resource."),
        ({"Effect": "Allow", "Action": "sts:AssumeRole"}, "Missing required field Principal"),
        (
            {**TRUST, "Principal": {"AWS": "arn:aws:iam::123456789012:user/*"}},
            'Invalid principal in policy: "AWS":"arn:aws:iam::123456789012:user/*"',
        ),
        ({**TRUST, "Principal": {"AWS": "bob"}}, 'Invalid principal in policy: "AWS":"bob"'),
        ({**TRUST, "Principal": {"Service": "*"}}, 'Invalid principal in policy: "Service":"*"'),
        (
            {**TRUST, "Principal": {"Federated": "arn:aws:iam::1:saml-provider/x"}},
            'Invalid principal in policy: "Federated":"arn:aws:iam::1:saml-provider/x"',
        ),
        ({**TRUST, "Principal": {"Robot": "x"}}, 'Invalid principal in policy: "Robot":"x"'),
        ({**TRUST, "Principal": {"AWS": []}}, "Syntax errors in policy."),
        (
            {**TRUST, "Condition": {"StringEqual": {"sts:ExternalId": "x"}}},
            "Syntax errors in policy.",
        ),
    ],
)
def test_trust_policy_messages(statement: dict[str, Any], message: str) -> None:
    assert refused(doc(statement), PolicyKind.TRUST) == message


def test_trust_policy_principals_iam_accepts() -> None:
    statement = {
        **TRUST,
        "Principal": {
            "AWS": [
                "*",
                "123456789012",
                "arn:aws:iam::123456789012:user/a/b",
                "arn:aws:sts::123456789012:assumed-role/R/s",
                "AROAEXAMPLEEXAMPLE01",
            ],
            "Service": "lambda.amazonaws.com",
            "Federated": ["arn:aws:iam::123456789012:saml-provider/Idp", "accounts.google.com"],
        },
    }
    assert validate_policy(doc(statement), PolicyKind.TRUST).statements


def test_the_size_quota_counts_no_whitespace() -> None:
    assert policy_size('{ "a" :\n\t"b c" }') == 10


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
WORDS = [
    "Version",
    "Statement",
    "Effect",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
    "Principal",
    "NotPrincipal",
    "Sid",
    "Id",
    "Allow",
    "Deny",
    "*",
    "2012-10-17",
    "2008-10-17",
    "AWS",
    "StringEquals",
    "NotIpAddress",
    "aws:SourceIp",
    "ForAllValues:StringLike",
    "IpAddressIfExists",
    "Null",
    "DateLessThan",
    "iam:GetUser",
    "arn:aws:iam::123456789012:user/u",
    "10.0.0.0/8",
    "true",
    "${aws:username}",
]
NEAR = st.recursive(
    st.sampled_from(WORDS) | st.booleans() | st.integers(),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(WORDS), inner, max_size=4)
    ),
    max_leaves=25,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(JSON, NEAR), st.sampled_from(list(PolicyKind)))
def test_random_documents_never_crash_the_validator(document: Any, kind: PolicyKind) -> None:
    # Only MalformedPolicy (with a message) may come out; anything else fails the test.
    try:
        parsed = validate_policy(json.dumps(document), kind)
    except MalformedPolicy as exc:
        assert str(exc)
    else:
        assert parsed.statements

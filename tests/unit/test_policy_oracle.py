"""The validator held against an independent oracle, parliament (duo-labs' IAM policy linter).

Generated documents vary the parts a Deny can silently die on: condition operators (every IAM
operator with its prefixes and suffix, misspellings of them), their values (of the operator's
type or not), Effect, Version, and stray elements. Where parliament reports a malformed document
(``MALFORMED``, ``MALFORMED_JSON``), an unknown operator (``UNKNOWN_OPERATOR``), an invalid
version (``INVALID_VERSION``), a Bool/Null value that is not true/false
(``MISMATCHED_TYPE_OPERATION_TO_NULL``), a value not of a typed global key's type
(``MISMATCHED_TYPE``) or a duplicate Sid (``DUPLICATE_SID``), we must refuse; where it reports
none of them, we must accept.

Known, deliberate disagreements (we side with IAM, whose answers moto's IAM tests record):

- parliament matches operator names case-insensitively (``stringequals``); IAM does not
  ("Syntax errors in policy."), nor do we. Such names are generated and expected refused.
- parliament flags DUPLICATE_SID only as a lint, but IAM refuses duplicate Sids, as we do: it is
  in the refuse set above, so the two agree on it.
- parliament's type patterns are looser or stricter than IAM's legacy parser in corners (its Ip
  pattern accepts ``1x2x3x4``; its Date pattern only ``YYYY-MM-DDThh:mm:ssZ``); values are drawn
  from forms both read the same way.
- parliament raises on a list of values under ``Bool``/``Null`` (its own bug); those get one.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

parliament = pytest.importorskip("parliament")

from connectfed.identity.policy import MalformedPolicy, PolicyKind, validate_policy  # noqa: E402

REFUSE = {
    "MALFORMED",
    "MALFORMED_JSON",
    "UNKNOWN_OPERATOR",
    "INVALID_VERSION",
    "MISMATCHED_TYPE_OPERATION_TO_NULL",
    "MISMATCHED_TYPE",
    "DUPLICATE_SID",
}

# (operator family, a global key of that type, values of the type, values not of it)
FAMILIES = {
    "String": ("aws:username", ["alice", "a*"], []),
    "Numeric": ("aws:MultiFactorAuthAge", ["3600", "0"], ["soon", "ten"]),
    "Date": ("aws:CurrentTime", ["2026-01-01T00:00:00Z"], ["tomorrow", "2026-13"]),
    "Bool": ("aws:SecureTransport", ["true", "false"], ["yes", "1"]),
    "Ip": ("aws:SourceIp", ["10.0.0.0/8", "203.0.113.7"], ["localhost", "net"]),
    "Arn": ("aws:PrincipalArn", ["arn:aws:iam::123456789012:role/R"], []),
}
OPERATORS = {
    "String": [
        "StringEquals",
        "StringNotEquals",
        "StringEqualsIgnoreCase",
        "StringNotEqualsIgnoreCase",
        "StringLike",
        "StringNotLike",
    ],
    "Numeric": [
        "NumericEquals",
        "NumericNotEquals",
        "NumericLessThan",
        "NumericLessThanEquals",
        "NumericGreaterThan",
        "NumericGreaterThanEquals",
    ],
    "Date": [
        "DateEquals",
        "DateNotEquals",
        "DateLessThan",
        "DateLessThanEquals",
        "DateGreaterThan",
        "DateGreaterThanEquals",
    ],
    "Bool": ["Bool", "Null"],
    "Ip": ["IpAddress", "NotIpAddress"],
    "Arn": ["ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"],
}


@st.composite
def operator_names(draw: st.DrawFn, base: str) -> str:
    prefix = draw(st.sampled_from(["", "", "ForAnyValue:", "ForAllValues:"]))
    suffix = draw(st.sampled_from(["", "", "IfExists"]))
    name = prefix + base + suffix
    mangle = draw(st.sampled_from(["none"] * 24 + ["drop", "double", "lower", "stray"]))
    if mangle == "drop":
        index = draw(st.integers(0, len(name) - 1))
        name = name[:index] + name[index + 1 :]
    elif mangle == "double":
        index = draw(st.integers(0, len(name) - 1))
        name = name[:index] + name[index] + name[index:]
    elif mangle == "lower":
        name = name.lower()
    elif mangle == "stray":
        name = name + draw(st.sampled_from(["s", "X", "Exists", ":"]))
    return name


@st.composite
def conditions(draw: st.DrawFn) -> dict[str, Any]:
    block: dict[str, Any] = {}
    for _ in range(draw(st.integers(1, 2))):
        family = draw(st.sampled_from(sorted(FAMILIES)))
        key, good, bad = FAMILIES[family]
        name = draw(operator_names(draw(st.sampled_from(OPERATORS[family]))))
        if name.lower().startswith("null") or "null" in name.lower().split(":")[-1][:4]:
            good, bad = ["true", "false"], ["maybe"]
        # parliament crashes on a list of values under Bool/Null: one value there.
        most = 1 if family == "Bool" else 2
        pool = good * 8 + bad
        values = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=most))
        block[name] = {key: values[0] if len(values) == 1 else values}
    return block


@st.composite
def policies(draw: st.DrawFn) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": draw(st.sampled_from(["Allow", "Deny"] * 8 + ["allow", "Permit"])),
        "Action": draw(st.sampled_from(["iam:GetUser", "sts:AssumeRole", ["iam:ListUsers"]])),
        "Resource": "*",
        "Condition": draw(conditions()),
    }
    if draw(st.integers(0, 19)) == 0:
        statement[draw(st.sampled_from(["Foo", "Condtion", "Resources"]))] = "x"
    statements = [statement]
    if draw(st.booleans()):
        statements.append({"Sid": "S", "Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"})
        statement["Sid"] = draw(st.sampled_from(["S", "T", "U", "V"]))
    document: dict[str, Any] = {"Statement": statements}
    version = draw(st.sampled_from(["2012-10-17"] * 6 + ["2008-10-17", "2013-10-17", None]))
    if version is not None:
        document["Version"] = version
    return document


def parliament_refuses(text: str) -> bool:
    policy = parliament.analyze_policy_string(text, ignore_private_auditors=True)
    return bool({finding.issue for finding in policy.findings} & REFUSE)


def we_refuse(text: str) -> bool:
    try:
        validate_policy(text, PolicyKind.IDENTITY)
    except MalformedPolicy:
        return True
    return False


def _case_only_variant(document: dict[str, Any]) -> bool:
    """An operator that is known when compared case-insensitively, but not as written."""
    from connectfed.identity.policy.conditions import parse_operator

    known = {b.lower() for ops in OPERATORS.values() for b in ops}
    for statement in document["Statement"]:
        for name in statement.get("Condition", {}):
            if parse_operator(name) is None:
                core = name.lower().removeprefix("foranyvalue:").removeprefix("forallvalues:")
                if core.removesuffix("ifexists") in known:
                    return True
    return False


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policies())
def test_validator_agrees_with_parliament(document: dict[str, Any]) -> None:
    text = json.dumps(document)
    ours = we_refuse(text)
    if _case_only_variant(document):
        assert ours, "IAM's operator names are case-sensitive: we refuse (parliament does not)"
        return
    assert ours is parliament_refuses(text), (text, "we refuse" if ours else "we accept")


@pytest.mark.parametrize("operator", [op for ops in OPERATORS.values() for op in ops])
def test_both_accept_every_operator_with_a_typed_value(operator: str) -> None:
    family = next(f for f, ops in OPERATORS.items() if operator in ops)
    key, good, _ = FAMILIES[family]
    value = "true" if operator == "Null" else good[0]
    text = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Deny",
                    "Action": "iam:GetUser",
                    "Resource": "*",
                    "Condition": {
                        operator: {key: value},
                        f"ForAnyValue:{operator}IfExists": {key: value},
                    },
                }
            ],
        }
    )
    assert not parliament_refuses(text)
    assert not we_refuse(text)

"""The traced evaluation: always the live evaluator's decision, and the reasons behind it;
statement positions as the simulator reports them."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from connectfed.identity.policy import Decision, RequestFacts, evaluate, parse_policy
from connectfed.identity.policy.evaluate import Miss
from connectfed.identity.policy.positions import statement_spans
from connectfed.identity.policy.trace import trace

INSTANCE = "arn:aws:connect:us-east-1:123456789012:instance/i-1"
ACTIONS = [
    "connect:GetFederationToken",
    "connect:*",
    "connect:Describe*",
    "iam:CreateUser",
    "*",
    "CONNECT:getfederationtoken",
]
RESOURCES = [
    "*",
    f"{INSTANCE}/user/*",
    f"{INSTANCE}/user/${{aws:userid}}",
    f"{INSTANCE}/user/${{aws:username}}",
    "arn:aws:iam::123456789012:user/*",
    f"{INSTANCE}/user/AROA1:agent?",
]
KEYS = ["connect:InstanceId", "aws:userid", "aws:username", "aws:SecureTransport", "n", "tags"]
OPERATORS = [
    "StringEquals",
    "StringNotEquals",
    "StringLike",
    "StringEqualsIgnoreCase",
    "StringEqualsIfExists",
    "ForAnyValue:StringEquals",
    "ForAllValues:StringLike",
    "Bool",
    "NumericLessThan",
    "Null",
    "NotAnOperator",
    "ArnLike",
]
VALUES = [
    "i-1",
    "I-1",
    "i-2",
    "AROA1:*",
    "true",
    "false",
    "10",
    "x",
    "arn:aws:iam::*:role/*",
    "${aws:userid}",
]


@st.composite
def statements(draw: st.DrawFn) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": draw(st.sampled_from(["Allow", "Deny"]))}
    statement["NotAction" if draw(st.booleans()) and draw(st.booleans()) else "Action"] = draw(
        st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=2)
    )
    statement["NotResource" if draw(st.integers(0, 5)) == 0 else "Resource"] = draw(
        st.lists(st.sampled_from(RESOURCES), min_size=1, max_size=2)
    )
    conditions: dict[str, dict[str, Any]] = {}
    for _ in range(draw(st.integers(0, 2))):
        block = conditions.setdefault(draw(st.sampled_from(OPERATORS)), {})
        block[draw(st.sampled_from(KEYS))] = draw(
            st.lists(st.sampled_from(VALUES), min_size=1, max_size=2)
        )
    if conditions:
        statement["Condition"] = conditions
    return statement


documents = st.lists(st.lists(statements(), min_size=1, max_size=3), min_size=0, max_size=3)
contexts = st.dictionaries(
    st.sampled_from([k.lower() for k in KEYS]),
    st.one_of(st.sampled_from(VALUES), st.lists(st.sampled_from(VALUES), max_size=2)),
    max_size=4,
)


@settings(max_examples=400, deadline=None)
@given(
    documents,
    st.sampled_from(["connect:GetFederationToken", "iam:CreateUser"]),
    st.sampled_from([f"{INSTANCE}/user/AROA1:agent1", "arn:aws:iam::123456789012:user/u"]),
    contexts,
)
def test_the_traced_decision_is_always_the_live_one(
    docs: list[list[dict[str, Any]]], action: str, resource: str, context: dict[str, Any]
) -> None:
    parsed = [parse_policy(json.dumps({"Version": "2012-10-17", "Statement": d})) for d in docs]
    facts = RequestFacts(action, resource, context)
    traced = trace(parsed, facts)
    assert traced.decision is evaluate(parsed, facts)
    deciding = traced.deciding()
    if traced.decision is Decision.IMPLICIT_DENY:
        assert deciding == []
    else:
        effect = "Deny" if traced.decision is Decision.DENY else "Allow"
        assert deciding and all(s.statement.effect == effect and s.applies for _, s in deciding)


def _trace(statement: dict[str, Any], **context: Any) -> Any:
    doc = parse_policy(json.dumps({"Version": "2012-10-17", "Statement": [statement]}))
    facts = RequestFacts(
        "connect:GetFederationToken",
        f"{INSTANCE}/user/AROA1:agent1",
        {k.lower(): v for k, v in context.items()},
    )
    return trace([doc], facts)


ALLOW = {"Effect": "Allow", "Action": "connect:GetFederationToken"}


def test_each_element_that_fails_is_named() -> None:
    assert (
        _trace({**ALLOW, "Action": "connect:Describe*", "Resource": "*"}).documents[0][0].miss
        is Miss.ACTION
    )
    assert (
        _trace({**ALLOW, "Resource": f"{INSTANCE}/user/other"}).documents[0][0].miss
        is Miss.RESOURCE
    )
    assert _trace({**ALLOW, "NotResource": "*"}).documents[0][0].miss is Miss.NOT_RESOURCE


def test_a_failing_condition_shows_operator_key_and_both_values() -> None:
    traced = _trace(
        {**ALLOW, "Resource": "*", "Condition": {"StringEquals": {"connect:InstanceId": "I-1"}}},
        **{"connect:InstanceId": "i-1"},
    )
    result = traced.documents[0][0]
    assert (traced.decision, result.miss) == (Decision.IMPLICIT_DENY, Miss.CONDITION)
    [condition] = result.conditions
    assert (
        condition.operator,
        condition.key,
        condition.values,
        condition.actual,
        condition.holds,
    ) == ("StringEquals", "connect:InstanceId", ("I-1",), ("i-1",), False)
    assert "letter case" in condition.note


def test_condition_keys_the_request_lacks_are_reported_missing() -> None:
    traced = _trace(
        {
            **ALLOW,
            "Resource": f"{INSTANCE}/user/${{aws:userid}}",
            "Condition": {"StringEquals": {"connect:InstanceId": "i-1"}},
        }
    )
    assert set(traced.missing_keys) == {"connect:InstanceId", "aws:userid"}
    unrelated = _trace(
        {**ALLOW, "Action": "iam:*", "Resource": "*", "Condition": {"StringEquals": {"x:key": "v"}}}
    )
    assert unrelated.missing_keys == ()


def test_an_unevaluable_condition_fails_closed_in_the_trace_too() -> None:
    deny = _trace(
        {
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {"NoSuchOperator": {"k": "v"}},
        }
    )
    assert deny.decision is Decision.DENY
    assert deny.documents[0][0].conditions[0].holds is None


PRETTY = """{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "One", "Effect": "Allow", "Action": "a:b", "Resource": "*"},
    {
      "Sid": "Two",
      "Effect": "Deny", "Action": "a:c", "Resource": "*"
    }
  ]
}"""


def _slice(text: str, line: int, column: int, end_line: int, end_column: int) -> str:
    lines = text.split("\n")
    if line == end_line:
        return lines[line - 1][column - 1 : end_column]
    middle = lines[line : end_line - 1]
    return "\n".join([lines[line - 1][column - 1 :], *middle, lines[end_line - 1][:end_column]])


def test_statement_positions_cover_exactly_each_statement() -> None:
    for text in (
        PRETTY,
        json.dumps(json.loads(PRETTY)),
        '{"Statement": {"Sid": "One", "Effect": "Allow"}, "Version": "2012-10-17"}',
    ):
        statements = json.loads(text)["Statement"]
        statements = statements if isinstance(statements, list) else [statements]
        spans = statement_spans(text)
        assert len(spans) == len(statements)
        for span, statement in zip(spans, statements, strict=True):
            piece = _slice(text, span.start.line, span.start.column, span.end.line, span.end.column)
            assert json.loads(piece) == statement
    assert statement_spans(PRETTY)[1].start.line == 5
    assert statement_spans("[]") == []

"""IAM wildcard matching: linear time on pathological patterns, and fnmatch's semantics for
``*``/``?`` (IAM has no ``[...]`` classes, so the oracle's alphabet leaves out ``[``, ``]``, ``!``).
"""

from __future__ import annotations

import fnmatch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectfed.identity.policy import RequestFacts, evaluate, parse_policy
from connectfed.identity.policy.glob import arn_match, glob_match

ARN = "arn:aws:connect:us-east-1:123456789012:instance/" + "a/" * 50 + "tail"  # 150+ chars


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    "pattern",
    [
        "*/*/*/*/*/*/*X",
        "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b",
        "*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?X",
        "arn:*:*:*:*:" + "*/" * 30 + "X",
    ],
)
def test_pathological_patterns_are_refused_at_once(pattern: str) -> None:
    # A backtracking regex takes minutes on these; the two-pointer matcher is O(n*m) at worst.
    # pytest-timeout is the guard: 10 s is orders of magnitude above the expected milliseconds.
    for _ in range(200):
        assert not glob_match(pattern, ARN)
        assert not arn_match(pattern, ARN)


@pytest.mark.timeout(10)
def test_pathological_resource_through_the_evaluator() -> None:
    policy = parse_policy(
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*",'
        '"Resource":["*/*/*/*/*/*/*X","arn:aws:*:*:*:' + "*/" * 40 + 'X"]}]}'
    )
    facts = RequestFacts("connect:DescribeInstance", ARN, {})
    for _ in range(200):
        assert evaluate([policy], facts).value == "implicit"


ALPHABET = "ab:/*?"
TEXT = "ab:/"


@settings(max_examples=300, deadline=None)
@given(st.text(ALPHABET, max_size=12), st.text(TEXT, max_size=12))
def test_glob_agrees_with_fnmatch(pattern: str, value: str) -> None:
    assert glob_match(pattern, value) is fnmatch.fnmatchcase(value, pattern)


@settings(max_examples=200, deadline=None)
@given(st.text("aB*?", max_size=8), st.text("AbaB", max_size=8))
def test_ignore_case_is_fnmatch_on_lowered_text(pattern: str, value: str) -> None:
    expected = fnmatch.fnmatchcase(value.lower(), pattern.lower())
    assert glob_match(pattern, value, ignore_case=True) is expected


segment_pattern = st.text("ab*?", max_size=4)
segment = st.text("ab", max_size=4)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(segment_pattern, min_size=6, max_size=6),
    st.text("ab:*?", max_size=6),
    st.lists(segment, min_size=6, max_size=6),
    st.text("ab:", max_size=6),
)
def test_arn_matching_is_per_segment(
    patterns: list[str], tail_pattern: str, values: list[str], tail: str
) -> None:
    # The first five segments match separately (a wildcard never crosses their colons); the
    # sixth, the resource, takes the rest of the ARN, colons included.
    pattern = ":".join([*patterns[:5], patterns[5] + tail_pattern])
    value = ":".join([*values[:5], values[5] + tail])
    expected = all(
        fnmatch.fnmatchcase(v, p) for p, v in zip(patterns[:5], values[:5], strict=True)
    ) and fnmatch.fnmatchcase(values[5] + tail, patterns[5] + tail_pattern)
    assert arn_match(pattern, value) is expected


def test_a_wildcard_does_not_cross_an_arn_segment() -> None:
    # As whole-string globs these would match.
    assert not arn_match("arn:aws:iam::*:user/x", "arn:aws:iam::1:2:user/x")
    assert not arn_match("arn:aws:*:us-east-1:1:x", "arn:aws:iam:eu:us-east-1:1:x")
    assert arn_match("arn:aws:iam::*:user/*", "arn:aws:iam::123456789012:user/x")
    assert arn_match("arn:aws:s3:::b/*", "arn:aws:s3:::b/key:with:colons")
    assert arn_match("*", "anything:at:all")


def test_variable_values_stay_literal_in_patterns() -> None:
    policy = parse_policy(
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject",'
        '"Resource":"arn:aws:s3:::b/${aws:username}/${*}"}]}'
    )

    def decide(user: str, key: str) -> str:
        facts = RequestFacts("s3:GetObject", f"arn:aws:s3:::b/{key}", {"aws:username": user})
        return evaluate([policy], facts).value

    assert decide("alice", "alice/*") == "allow"
    assert decide("alice", "alice/x") == "implicit"  # ${*} is a literal star
    assert decide("al?ce", "alice/*") == "implicit"  # a ? in a value is no wildcard

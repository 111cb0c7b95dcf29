"""Condition operators (IAM User Guide, "IAM JSON policy elements: Condition operators").

Supports String*, Numeric*, Date*, Bool, Arn*, Null, each with ``…IfExists`` and the
``ForAnyValue:``/``ForAllValues:`` set prefixes. Multiple values for one key are ORed (for
negated operators: none may match); keys and operators in one block are ANDed by the caller.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import cache

ContextValue = str | Sequence[str]


@cache
def _glob(pattern: str, ignore_case: bool = False) -> re.Pattern[str]:
    regex = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.compile(regex, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def glob_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    return _glob(pattern, ignore_case).fullmatch(value) is not None


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _date(text: str) -> datetime | None:
    try:
        if text.replace(".", "", 1).isdigit():
            return datetime.fromtimestamp(float(text), UTC)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        return None


def _compare(
    convert: Callable[[str], object | None], test: Callable[[object, object], bool]
) -> Callable[[str, str], bool]:
    def check(actual: str, expected: str) -> bool:
        a, e = convert(actual), convert(expected)
        return a is not None and e is not None and test(a, e)

    return check


def _arn_like(actual: str, expected: str) -> bool:
    a_parts, e_parts = actual.split(":", 5), expected.split(":", 5)
    if len(a_parts) != 6 or len(e_parts) != 6:
        return False
    return all(glob_match(e, a) for e, a in zip(e_parts, a_parts, strict=True))


_OPS: dict[str, tuple[Callable[[str, str], bool], bool]] = {
    # name -> (match one actual against one expected, negated)
    "StringEquals": (lambda a, e: a == e, False),
    "StringNotEquals": (lambda a, e: a == e, True),
    "StringEqualsIgnoreCase": (lambda a, e: a.lower() == e.lower(), False),
    "StringNotEqualsIgnoreCase": (lambda a, e: a.lower() == e.lower(), True),
    "StringLike": (lambda a, e: glob_match(e, a), False),
    "StringNotLike": (lambda a, e: glob_match(e, a), True),
    "NumericEquals": (_compare(_number, lambda a, e: a == e), False),
    "NumericNotEquals": (_compare(_number, lambda a, e: a == e), True),
    "NumericLessThan": (_compare(_number, lambda a, e: a < e), False),  # type: ignore[operator]
    "NumericLessThanEquals": (_compare(_number, lambda a, e: a <= e), False),  # type: ignore[operator]
    "NumericGreaterThan": (_compare(_number, lambda a, e: a > e), False),  # type: ignore[operator]
    "NumericGreaterThanEquals": (_compare(_number, lambda a, e: a >= e), False),  # type: ignore[operator]
    "DateEquals": (_compare(_date, lambda a, e: a == e), False),
    "DateNotEquals": (_compare(_date, lambda a, e: a == e), True),
    "DateLessThan": (_compare(_date, lambda a, e: a < e), False),  # type: ignore[operator]
    "DateLessThanEquals": (_compare(_date, lambda a, e: a <= e), False),  # type: ignore[operator]
    "DateGreaterThan": (_compare(_date, lambda a, e: a > e), False),  # type: ignore[operator]
    "DateGreaterThanEquals": (_compare(_date, lambda a, e: a >= e), False),  # type: ignore[operator]
    "Bool": (lambda a, e: a.lower() == e.lower(), False),
    "ArnEquals": (_arn_like, False),
    "ArnLike": (_arn_like, False),
    "ArnNotEquals": (_arn_like, True),
    "ArnNotLike": (_arn_like, True),
}


class UnknownOperator(ValueError):
    pass


def known_operator(operator: str) -> bool:
    name = (
        operator.split(":", 1)[1]
        if operator.startswith(("ForAnyValue:", "ForAllValues:"))
        else operator
    )
    name = name.removesuffix("IfExists")
    return name in _OPS or name == "Null"


def condition_holds(operator: str, actual: ContextValue | None, expected: Sequence[str]) -> bool:
    """Whether one (operator, key) condition holds for the context value ``actual``."""
    set_mode = None
    name = operator
    if name.startswith(("ForAnyValue:", "ForAllValues:")):
        set_mode, name = name.split(":", 1)
    if_exists = name.endswith("IfExists") and name != "IfExists"
    name = name.removesuffix("IfExists") if if_exists else name

    if name == "Null":
        want_absent = expected[0].lower() == "true" if expected else True
        absent = actual is None or (not isinstance(actual, str) and len(actual) == 0)
        return absent == want_absent
    if name not in _OPS:
        raise UnknownOperator(operator)
    match, negated = _OPS[name]

    values: list[str] | None
    if actual is None:
        values = None
    elif isinstance(actual, str):
        values = [actual]
    else:
        values = list(actual)

    if set_mode == "ForAllValues":
        if not values:
            return True
        return all(any(match(v, e) for e in expected) != negated for v in values)
    if set_mode == "ForAnyValue":
        if not values:
            return False
        return any(any(match(v, e) for e in expected) != negated for v in values)
    if values is None:
        return if_exists or negated
    hit = any(match(v, e) for v in values for e in expected)
    return not hit if negated else hit

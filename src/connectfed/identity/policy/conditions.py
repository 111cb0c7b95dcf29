"""Condition operators (IAM User Guide, "IAM JSON policy elements: Condition operators").

Every operator IAM has: String* (with ``IgnoreCase``, ``Like``/``NotLike``), Numeric*, Date*,
``Bool``, ``BinaryEquals``, ``IpAddress``/``NotIpAddress``, Arn*, ``Null``, each (but ``Null``)
with ``…IfExists``, and the ``ForAnyValue:``/``ForAllValues:`` set prefixes.

Semantics ("Condition operators", "Single-valued vs. multivalued context keys"):

- several values for one key are ORed; a negated operator (``StringNotEquals``, ``NotIpAddress``,
  ``ArnNotLike`` …) holds when *none* of them matches;
- a key missing from the request context: the condition is false, except for negated operators
  and ``…IfExists`` (true); ``ForAllValues:`` holds on a missing or empty key, ``ForAnyValue:``
  does not (unless ``…IfExists``);
- ``ForAllValues:`` — every request value matches (for a negated operator: matches none of the
  policy values); ``ForAnyValue:`` — at least one does.

A value that cannot be read as the operator's type never matches on the request side. On the
policy side it is refused on write (:mod:`~connectfed.identity.policy.validate`); should one reach
evaluation anyway (an old stored document) it raises :class:`Unevaluable`, like an unknown
operator, and the evaluator fails closed.
"""

from __future__ import annotations

import base64
import binascii
import enum
import ipaddress
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

from connectfed.identity.policy.glob import Pattern, as_text, match_arn_tokens, match_tokens

ContextValue = str | Sequence[str]


class Unevaluable(ValueError):
    """An operator or a policy-side value this server cannot evaluate: the caller fails closed."""


class SetMode(enum.Enum):
    SINGLE = ""
    ANY = "ForAnyValue"
    ALL = "ForAllValues"


@dataclass(frozen=True, slots=True)
class Operator:
    """A parsed operator name such as ``ForAllValues:StringNotLikeIfExists``."""

    name: str  # the full name as written
    base: str  # e.g. "StringNotLike"
    set_mode: SetMode
    if_exists: bool

    @property
    def negated(self) -> bool:
        return self.base in _NEGATED


# -- value readers: None means "not a value of this type" -----------------------------------------
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_ISO = re.compile(
    r"(?P<y>\d{4})(-(?P<mo>\d{1,2})(-(?P<d>\d{1,2}))?)?"
    r"([tT](?P<h>\d{1,2})(:(?P<mi>\d{1,2})(:(?P<s>\d{1,2})(\.(?P<f>\d{1,9}))?)?)?"
    r"(?P<tz>[zZ]|[+-]\d{2}(:?\d{2})?)?)?"
)
_EPOCH = re.compile(r"-?\d{1,19}")


def read_number(text: str) -> Decimal | None:
    if not _NUMBER.fullmatch(text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        return None


def read_date(text: str) -> Decimal | None:
    """ISO 8601 (``2026-01-01``, ``2026-01-01T10:00:00Z``, offsets, fractions) or epoch seconds,
    as POSIX seconds."""
    if _EPOCH.fullmatch(text):
        seconds = int(text)
        return Decimal(seconds) if -(2**63) <= seconds < 2**63 else None
    found = _ISO.fullmatch(text)
    if found is None:
        return None
    part = found.groupdict()
    try:
        zone = UTC
        tz = part["tz"]
        if tz and tz not in ("z", "Z"):
            digits = tz[1:].replace(":", "")
            offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
            if offset >= timedelta(hours=24):
                return None
            zone = timezone(-offset if tz[0] == "-" else offset)
        moment = datetime(
            int(part["y"]),
            int(part["mo"] or 1),
            int(part["d"] or 1),
            int(part["h"] or 0),
            int(part["mi"] or 0),
            int(part["s"] or 0),
            tzinfo=zone,
        )
    except (ValueError, OverflowError):
        return None
    fraction = Decimal("0." + part["f"]) if part["f"] else Decimal(0)
    return Decimal(int(moment.timestamp())) + fraction


def read_bool(text: str) -> bool | None:
    lowered = text.lower()
    return True if lowered == "true" else False if lowered == "false" else None


def read_network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


def read_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # a dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d
    return address


def read_binary(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


# -- one actual value against one policy value --------------------------------------------------
Matcher = Callable[[str, str], bool]


def _typed(read: Callable[[str], object | None], test: Callable[[object, object], bool]) -> Matcher:
    def check(actual: str, expected: str) -> bool:
        want = read(expected)
        if want is None:
            raise Unevaluable(f"policy value {expected!r} is not of the operator's type")
        have = read(actual)
        return have is not None and test(have, want)

    return check


def arn_like_tokens(pattern: Pattern, actual: str) -> bool:
    # Both sides must be ARNs of six segments; a wildcard never crosses a segment boundary.
    if pattern.count(":") < 5 or actual.count(":") < 5:
        return False
    return match_arn_tokens(pattern, actual)


def _in_network(actual: str, expected: str) -> bool:
    network = read_network(expected)
    if network is None:
        raise Unevaluable(f"policy value {expected!r} is not an IP address or CIDR block")
    address = read_address(actual)
    # An IPv4 address is never in an IPv6 block and vice versa.
    return address is not None and address.version == network.version and address in network


def _binary(actual: str, expected: str) -> bool:
    want = read_binary(expected)
    if want is None:
        raise Unevaluable(f"policy value {expected!r} is not base64")
    return (read_binary(actual) or actual.encode()) == want


def _lt(a: object, b: object) -> bool:
    return bool(a < b)  # type: ignore[operator]


def _le(a: object, b: object) -> bool:
    return bool(a <= b)  # type: ignore[operator]


def _eq(a: object, b: object) -> bool:
    return a == b


def _comparisons(prefix: str, read: Callable[[str], object | None]) -> dict[str, Matcher]:
    return {
        f"{prefix}Equals": _typed(read, _eq),
        f"{prefix}NotEquals": _typed(read, _eq),
        f"{prefix}LessThan": _typed(read, _lt),
        f"{prefix}LessThanEquals": _typed(read, _le),
        f"{prefix}GreaterThan": _typed(read, lambda a, b: _lt(b, a)),
        f"{prefix}GreaterThanEquals": _typed(read, lambda a, b: _le(b, a)),
    }


MATCHERS: dict[str, Matcher] = {
    "StringEquals": lambda a, e: a == e,
    "StringNotEquals": lambda a, e: a == e,
    "StringEqualsIgnoreCase": lambda a, e: a.lower() == e.lower(),
    "StringNotEqualsIgnoreCase": lambda a, e: a.lower() == e.lower(),
    **_comparisons("Numeric", read_number),
    **_comparisons("Date", read_date),
    "Bool": _typed(read_bool, _eq),
    "BinaryEquals": _binary,
    "IpAddress": _in_network,
    "NotIpAddress": _in_network,
}
# Operators whose policy values are wildcard patterns: they are matched as token patterns so that
# the value of a policy variable (or ``${*}``) stays literal inside them.
PatternMatcher = Callable[[str, Pattern], bool]
PATTERN_MATCHERS: dict[str, PatternMatcher] = {
    "StringLike": lambda a, p: match_tokens(p, a),
    "StringNotLike": lambda a, p: match_tokens(p, a),
    "ArnEquals": lambda a, p: arn_like_tokens(p, a),
    "ArnLike": lambda a, p: arn_like_tokens(p, a),
    "ArnNotEquals": lambda a, p: arn_like_tokens(p, a),
    "ArnNotLike": lambda a, p: arn_like_tokens(p, a),
}
_NEGATED = frozenset(
    {
        "StringNotEquals",
        "StringNotEqualsIgnoreCase",
        "StringNotLike",
        "NumericNotEquals",
        "DateNotEquals",
        "NotIpAddress",
        "ArnNotEquals",
        "ArnNotLike",
    }
)
BASES = frozenset({*MATCHERS, *PATTERN_MATCHERS, "Null"})
# The type each base operator reads its policy values as (checked on write).
VALUE_READERS: dict[str, Callable[[str], object | None]] = {
    **{
        f"Numeric{s}": read_number
        for s in (
            "Equals",
            "NotEquals",
            "LessThan",
            "LessThanEquals",
            "GreaterThan",
            "GreaterThanEquals",
        )
    },
    **{
        f"Date{s}": read_date
        for s in (
            "Equals",
            "NotEquals",
            "LessThan",
            "LessThanEquals",
            "GreaterThan",
            "GreaterThanEquals",
        )
    },
    "Bool": read_bool,
    "Null": read_bool,
    "BinaryEquals": read_binary,
    "IpAddress": read_network,
    "NotIpAddress": read_network,
}


def parse_operator(name: str) -> Operator | None:
    """The operator ``name`` stands for, or None when IAM has no such operator."""
    mode = SetMode.SINGLE
    rest = name
    for candidate in (SetMode.ANY, SetMode.ALL):
        if rest.startswith(candidate.value + ":"):
            mode, rest = candidate, rest[len(candidate.value) + 1 :]
            break
    if_exists = rest.endswith("IfExists")
    base = rest.removesuffix("IfExists")
    if base not in BASES:
        return None
    return Operator(name=name, base=base, set_mode=mode, if_exists=if_exists)


def _values(actual: ContextValue | None) -> list[str] | None:
    if actual is None:
        return None
    return [actual] if isinstance(actual, str) else list(actual)


def condition_holds(
    operator: Operator, actual: ContextValue | None, expected: Sequence[Pattern]
) -> bool:
    """Whether one (operator, key) condition holds for the request's value ``actual``.

    ``expected`` are the policy values as token patterns (:mod:`.glob`), variables already
    substituted. Raises :class:`Unevaluable` when a policy value cannot be read as the operator's
    type.
    """
    values = _values(actual)
    if operator.base == "Null":
        want_absent = read_bool(as_text(expected[0])) if expected else True
        if want_absent is None:
            raise Unevaluable(f"Null takes true or false, not {as_text(expected[0])!r}")
        return (not values) == want_absent
    negated = operator.negated
    if operator.base in PATTERN_MATCHERS:
        pattern_match = PATTERN_MATCHERS[operator.base]

        def hits(value: str) -> bool:
            return any(pattern_match(value, e) for e in expected)
    else:
        match = MATCHERS[operator.base]
        texts = [as_text(e) for e in expected]

        def hits(value: str) -> bool:
            return any(match(value, e) for e in texts)

    if not values:
        if operator.if_exists:
            return True
        if operator.set_mode is SetMode.ALL:
            return True
        if operator.set_mode is SetMode.ANY:
            return False
        return negated
    if operator.set_mode is SetMode.ALL:
        return all(hits(v) != negated for v in values)
    if operator.set_mode is SetMode.ANY:
        return any(hits(v) != negated for v in values)
    hit = any(hits(v) for v in values)
    return not hit if negated else hit

"""XML Schema lexical types used by SAML (XML Schema Part 2 §3.2.6 duration, §3.2.7 dateTime).

Python's ``datetime.fromisoformat`` accepts far more than ``xs:dateTime`` (bare dates, week
dates, spaces), so the lexical form is checked first; SAML core §1.3.3 says times are UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?", re.ASCII
)
_DURATION = re.compile(
    r"-?P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?", re.ASCII
)


class InvalidValue(ValueError):
    pass


def parse_datetime(value: str, what: str, *, require_zone: bool = False) -> datetime:
    """An aware UTC datetime from an ``xs:dateTime``; no zone means UTC unless required."""
    text = value.strip()
    match = _DATETIME.fullmatch(text)
    if match is None:
        raise InvalidValue(f"{what} is not a valid xs:dateTime: {value[:64]!r}")
    fraction, zone = match.group(7), match.group(8)
    if zone is None and require_zone:
        raise InvalidValue(f"{what} must be in UTC")
    core = text[: match.start(7)] if fraction else text[: match.end(6)]
    micro = (fraction or ".0")[1:7].ljust(6, "0")
    suffix = "+00:00" if zone in (None, "Z") else zone
    try:
        return datetime.fromisoformat(f"{core}.{micro}{suffix}").astimezone(UTC)
    except (ValueError, OverflowError):
        raise InvalidValue(f"{what} is not a valid xs:dateTime: {value[:64]!r}") from None


def check_duration(value: str, what: str) -> None:
    if _DURATION.fullmatch(value.strip()) is None:
        raise InvalidValue(f"{what} is not a valid xs:duration: {value[:64]!r}")

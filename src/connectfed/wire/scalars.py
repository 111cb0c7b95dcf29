"""Scalars as the AWS protocols write them in text: timestamps in their three formats, and the
floating-point values JSON and XML have no literal for.

A timestamp's format is the member's ``timestampFormat`` trait when it has one, else the
protocol's default for where the value travels (Smithy, "timestampFormat trait"): epoch seconds
in JSON bodies, ISO 8601 in XML bodies, URI labels and query strings, HTTP dates in headers.
NaN and the infinities are the strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"`` wherever a
float travels (Smithy's ``*SupportsNaNFloat*`` protocol tests).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

ISO8601 = "iso8601"
HTTP_DATE = "rfc822"
EPOCH_SECONDS = "unixTimestamp"

_SPECIAL_FLOATS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def format_timestamp(moment: datetime, timestamp_format: str) -> str | int | float:
    """``moment`` in ``timestamp_format``: a string, or a number of epoch seconds."""
    if timestamp_format == EPOCH_SECONDS:
        value = moment.timestamp()
        return int(value) if value == int(value) else round(value, 3)
    if timestamp_format == HTTP_DATE:
        return format_datetime(moment.astimezone(UTC), usegmt=True)
    utc = moment.astimezone(UTC)
    millis = f".{utc.microsecond // 1000:03d}" if utc.microsecond else ""
    return utc.strftime("%Y-%m-%dT%H:%M:%S") + millis + "Z"


def parse_timestamp(raw: str | int | float, timestamp_format: str) -> datetime:
    """The timestamp ``raw`` holds in ``timestamp_format`` (ValueError when it holds none);
    an ISO 8601 value may carry any offset, as Smithy's ``DateTimeWithOffset`` tests send."""
    try:
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            return datetime.fromtimestamp(raw, UTC)
        if not isinstance(raw, str):
            raise ValueError(raw)
        if timestamp_format == EPOCH_SECONDS:
            return datetime.fromtimestamp(float(raw), UTC)
        if timestamp_format == HTTP_DATE:
            parsed = parsedate_to_datetime(raw)
            return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    except (OverflowError, OSError, TypeError) as exc:  # past year 9999, infinity
        raise ValueError(raw) from exc


def float_text(value: float) -> str:
    """A float as XML text or a header value."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(float(value))


def json_float(value: float) -> float | str:
    """A float as a JSON value (JSON has no NaN or infinity literal)."""
    return value if math.isfinite(value) else float_text(value)


def special_float(raw: object) -> float | None:
    """The float of ``"NaN"``, ``"Infinity"`` or ``"-Infinity"``; None for anything else."""
    return _SPECIAL_FLOATS.get(raw) if isinstance(raw, str) else None

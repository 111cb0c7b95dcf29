"""The admin API's JSON: request bodies read into typed values, results written back.

Request bodies are JSON objects with known members only (a misspelt member is a 400, not a
silently ignored setting); numbers must be JSON numbers (``true`` is not 1).
"""

from __future__ import annotations

from typing import Any

from connectfed.admin.faults import Fault, FaultAction, FaultSpec, InvalidFault
from connectfed.admin.timetravel import ClockState, InvalidTimeTravel

_FAULT_MEMBERS = {"service", "operation", "error", "latency_ms", "drop", "count", "rate"}


def _number(document: dict[str, Any], name: str) -> float | None:
    value = document.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidFault(f"{name} must be a number")
    return value


def _integer(document: dict[str, Any], name: str) -> int | None:
    value = _number(document, name)
    if value is not None and not isinstance(value, int):
        raise InvalidFault(f"{name} must be an integer")
    return value


def _text(document: dict[str, Any], name: str) -> str | None:
    value = document.get(name)
    if value is not None and (not isinstance(value, str) or not value):
        raise InvalidFault(f"{name} must be a non-empty string")
    return value


def _object(document: Any, members: set[str], error: type[ValueError]) -> dict[str, Any]:
    if not isinstance(document, dict):
        raise error("the body must be a JSON object")
    unknown = sorted(set(document) - members)
    if unknown:
        raise error(f"unknown member {unknown[0]!r}; known: {', '.join(sorted(members))}")
    return document


def fault_spec(document: Any) -> FaultSpec:
    document = _object(document, _FAULT_MEMBERS, InvalidFault)
    service = _text(document, "service")
    if service is None:
        raise InvalidFault("service is required (connect, sts, iam or cti)")
    operation = _text(document, "operation")
    drop = document.get("drop", False)
    if not isinstance(drop, bool):
        raise InvalidFault("drop must be true or false")
    return FaultSpec(
        service=service,
        operation=None if operation == "*" else operation,
        error=_text(document, "error"),
        latency_ms=_integer(document, "latency_ms"),
        drop=drop,
        count=_integer(document, "count"),
        rate=_number(document, "rate"),
    )


def fault_json(fault: Fault) -> dict[str, Any]:
    return {
        "id": fault.id,
        "service": fault.service,
        "operation": fault.operation,
        "error": fault.error,
        "latency_ms": fault.latency_ms,
        "drop": fault.action is FaultAction.DROP,
        "count": fault.count,
        "rate": fault.rate,
    }


def clock_change(document: Any) -> tuple[str, float]:
    """``("advance", seconds)`` or ``("offset", seconds)``."""
    document = _object(document, {"advance_seconds", "offset_seconds"}, InvalidTimeTravel)
    if len(document) != 1:
        raise InvalidTimeTravel("give exactly one of advance_seconds or offset_seconds")
    name, value = next(iter(document.items()))
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidTimeTravel(f"{name} must be a number")
    return ("advance" if name == "advance_seconds" else "offset"), float(value)


def _seconds(value: float) -> int | float:
    return int(value) if value.is_integer() else value


def clock_json(state: ClockState) -> dict[str, Any]:
    now = state.now.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {"now": now, "offset_seconds": _seconds(state.offset_seconds)}

"""restJson1 (Smithy's AWS restJson1 protocol), server side.

Routes a request to an operation from the model's ``http.method``/``requestUri``, binds URI
labels, query parameters, headers and the JSON body to the input shape, and serialises output
structures and errors. Timestamps in bodies are epoch seconds; in headers, HTTP dates.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import unquote

from botocore.model import OperationModel, Shape, StructureShape

from connectfed import jsonsafe
from connectfed.errors import ServiceError, client_error


class SerializationError(ServiceError):
    code = "SerializationException"
    status = 400
    sender_fault = True


@dataclass(frozen=True, slots=True)
class Route:
    operation: OperationModel
    method: str
    pattern: re.Pattern[str]
    labels: tuple[str, ...]
    static_query: tuple[tuple[str, str], ...]


def _compile(operation: OperationModel) -> Route:
    uri = operation.http["requestUri"]
    path, _, literal_query = uri.partition("?")
    labels: list[str] = []

    def label(match: re.Match[str]) -> str:
        name = match.group(1)
        greedy = name.endswith("+")
        name = name.rstrip("+")
        labels.append(name)
        return f"(?P<{name}>.+)" if greedy else f"(?P<{name}>[^/]+)"

    regex = re.sub(r"\\\{([^}]+)\\\}", label, re.escape(path))
    static = tuple(
        (key, value)
        for key, _, value in (part.partition("=") for part in literal_query.split("&") if part)
    )
    return Route(
        operation, operation.http["method"], re.compile(f"^{regex}/?$"), tuple(labels), static
    )


class Router:
    """Finds the operation for (method, raw path) among the registered operations."""

    def __init__(self, operations: Iterable[OperationModel]) -> None:
        routes = [_compile(op) for op in operations]
        # More literal characters first, so /instance/{Id}/x wins over /instance/{Id}.
        routes.sort(key=lambda r: -len(r.pattern.pattern.replace("[^/]+", "")))
        self._routes = routes

    def match(
        self, method: str, raw_path: str, query: Mapping[str, list[str]]
    ) -> tuple[OperationModel, dict[str, str]] | None:
        for route in self._routes:
            if route.method != method:
                continue
            found = route.pattern.match(raw_path)
            if not found:
                continue
            if not all(k in query and (not v or query[k][0] == v) for k, v in route.static_query):
                continue
            return route.operation, {k: unquote(v) for k, v in found.groupdict().items()}
        return None


# Smithy's integer is 32 bits, its long 64 (a Java int and long on AWS's side): a value past
# them is malformed (Smithy's RestJson*IntegerUnderflowOverflow protocol tests), not stored.
_RANGES = {"integer": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}
_INTEGER = re.compile(r"-?[0-9]{1,19}")  # ASCII digits: int() takes "1_0" and " 1" too


def _in_range(kind: str, value: int) -> bool:
    low, high = _RANGES[kind]
    return low <= value <= high


def _scalar(shape: Shape, raw: str, where: str) -> Any:
    kind = shape.type_name
    if kind in ("integer", "long"):
        if not _INTEGER.fullmatch(raw) or not _in_range(kind, int(raw)):
            raise SerializationError(f"Value '{raw}' at '{where}' is not a valid {kind}")
        return int(raw)
    try:
        if kind in ("float", "double"):
            return float(raw)
    except ValueError:
        raise SerializationError(f"Value '{raw}' at '{where}' is not a valid number") from None
    if kind == "boolean":
        if raw not in ("true", "false"):
            raise SerializationError(f"Value '{raw}' at '{where}' is not a valid boolean")
        return raw == "true"
    if kind == "timestamp":
        try:
            return datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise SerializationError(
                f"Value '{raw}' at '{where}' is not a valid timestamp"
            ) from None
    return raw


def _from_json(shape: Shape, value: Any, where: str) -> Any:
    kind = shape.type_name
    bad = SerializationError(f"Value of '{where}' has the wrong type: expected {kind}")
    if value is None:
        return None
    if kind == "structure":
        if not isinstance(value, dict):
            raise bad
        assert isinstance(shape, StructureShape)
        result: dict[str, Any] = {}
        for name, member in shape.members.items():
            key = member.serialization.get("name", name)
            if key in value and value[key] is not None:
                result[name] = _from_json(member, value[key], f"{where}.{name}".lstrip("."))
        return result
    if kind == "list":
        if not isinstance(value, list):
            raise bad
        if None in value:  # a dense list (no model here has sparse ones): Smithy's 400
            raise SerializationError(f"Value of '{where}' must not contain null")
        return [_from_json(shape.member, item, where) for item in value]
    if kind == "map":
        if not isinstance(value, dict):
            raise bad
        if None in value.values():
            raise SerializationError(f"Value of '{where}' must not contain null")
        return {
            _from_json(shape.key, k, where): _from_json(shape.value, v, where)
            for k, v in value.items()
        }
    if kind == "string":
        if not isinstance(value, str):
            raise bad
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise bad
        return value
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad
        if not _in_range(kind, value):
            raise SerializationError(f"Value of '{where}' is out of range for {kind}")
        return value
    if kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise bad
        return float(value)
    if kind == "timestamp":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise bad
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):  # past year 9999, or 1e999 (infinity)
            raise SerializationError(f"Value of '{where}' is not a valid timestamp") from None
    if kind == "blob":
        if not isinstance(value, str):
            raise bad
        try:
            return base64.b64decode(value, validate=True)
        except ValueError:
            raise bad from None
    return value


def parse_input(
    operation: OperationModel,
    labels: Mapping[str, str],
    query: Mapping[str, list[str]],
    headers: Mapping[str, str],
    body: bytes,
) -> dict[str, Any]:
    shape = operation.input_shape
    if shape is None:
        return {}
    params: dict[str, Any] = {}
    body_members: dict[str, Shape] = {}
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        wire_name = member.serialization.get("name", name)
        if location == "uri":
            if wire_name in labels:
                params[name] = _scalar(member, labels[wire_name], name)
        elif location == "querystring":
            if member.type_name == "list" and wire_name in query:
                params[name] = [_scalar(member.member, v, name) for v in query[wire_name]]
            elif wire_name in query:
                params[name] = _scalar(member, query[wire_name][0], name)
        elif location == "header":
            value = headers.get(wire_name.lower())
            if value is not None:
                params[name] = _scalar(member, value, name)
        elif location is None:
            body_members[name] = member
    if body_members and body.strip():
        try:
            document = jsonsafe.loads(body)
        except jsonsafe.JsonTooDeep:
            raise SerializationError("Request body is nested too deeply") from None
        except (ValueError, UnicodeDecodeError):
            raise SerializationError("Request body is not valid JSON") from None
        if not isinstance(document, dict):
            raise SerializationError("Request body must be a JSON object")
        for name, member in body_members.items():
            key = member.serialization.get("name", name)
            if document.get(key) is not None:
                params[name] = _from_json(member, document[key], name)
    return params


def _epoch(moment: datetime) -> int | float:
    value = moment.timestamp()
    return int(value) if value == int(value) else round(value, 3)


# -- output --------------------------------------------------------------------------------------
# Writing a result is walking its shape. The walk is planned once per shape (botocore's shapes
# are built once per model and kept), so a response costs a loop over prepared (name, wire
# name, writer) tuples instead of botocore property lookups for every member of every value
# (issue 9: GetFederationToken's ~12 µs of serialisation, halved). The document written is the
# one the plain walk wrote, member for member and in the same order.
_Write = Callable[[Any], Any]
_PLAIN = frozenset({"string", "integer", "long", "float", "double", "boolean"})
_WRITERS: dict[Shape, _Write] = {}  # by shape object (identity): a bounded set, one per model
# The encoding of every JSON body: compact, ASCII-only (what json.dumps(..., separators=(",",
# ":")) does), made once instead of per call.
JSON_ENCODER = json.JSONEncoder(separators=(",", ":"))


def _writer(shape: Shape) -> _Write:
    writer = _WRITERS.get(shape)
    if writer is None:
        writer = _WRITERS[shape] = _plan(shape)
    return writer


def _member_writer(shape: Shape) -> _Write | None:
    """None for a value written as it is (found without planning ``shape``: recursive
    structures are planned one level at a time, when first written)."""
    return None if shape.type_name in _PLAIN else lambda value: _writer(shape)(value)


def _plan(shape: Shape) -> _Write:
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        members = tuple(
            (name, member.serialization.get("name", name), _member_writer(member))
            for name, member in shape.members.items()
        )

        def structure(value: Any) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for name, wire_name, write in members:
                item = value.get(name)
                if item is not None:
                    out[wire_name] = item if write is None else write(item)
            return out

        return structure
    if kind == "list":
        item_writer = _member_writer(shape.member)
        if item_writer is None:
            return list
        write_item = item_writer
        return lambda value: [write_item(item) for item in value]
    if kind == "map":
        value_writer = _member_writer(shape.value)
        if value_writer is None:
            return dict
        write_value = value_writer
        return lambda value: {k: write_value(v) for k, v in value.items()}
    if kind == "timestamp":
        return _epoch
    if kind == "blob":
        return lambda value: base64.b64encode(value).decode()
    return _same


def _same(value: Any) -> Any:
    return value


def _to_json(shape: Shape, value: Any) -> Any:
    return _writer(shape)(value)


@dataclass(frozen=True, slots=True)
class _OutputMember:
    name: str
    wire_name: str
    location: str | None
    write: _Write | None


_OUTPUTS: dict[OperationModel, tuple[_OutputMember, ...]] = {}


def _output_members(shape: StructureShape) -> tuple[_OutputMember, ...]:
    return tuple(
        _OutputMember(
            name,
            member.serialization.get("name", name),
            member.serialization.get("location"),
            _member_writer(member),
        )
        for name, member in shape.members.items()
    )


def serialize_output(
    operation: OperationModel, result: Mapping[str, Any] | None
) -> tuple[int, dict[str, str], bytes]:
    shape = operation.output_shape
    headers = {"Content-Type": "application/json"}
    if shape is None or result is None:
        return 200, headers, b"{}"
    members = _OUTPUTS.get(operation)
    if members is None:
        assert isinstance(shape, StructureShape)
        members = _OUTPUTS[operation] = _output_members(shape)
    body: dict[str, Any] = {}
    status = 200
    for member in members:
        value = result.get(member.name)
        if value is None:
            continue
        if member.location == "header":
            headers[member.wire_name] = (
                format_datetime(value, usegmt=True) if isinstance(value, datetime) else str(value)
            )
        elif member.location == "statusCode":
            status = int(value)
        else:
            body[member.wire_name] = value if member.write is None else member.write(value)
    return status, headers, JSON_ENCODER.encode(body).encode()


def serialize_error(error: ServiceError) -> tuple[int, dict[str, str], bytes]:
    headers = {"Content-Type": "application/json", "x-amzn-ErrorType": error.code}
    body = json.dumps({error.message_key: error.message}, separators=(",", ":")).encode()
    return error.status, headers, body


def modelled_error_status(operation: OperationModel, code: str) -> int | None:
    for shape in operation.error_shapes:
        if shape.name == code:
            return int(shape.metadata.get("error", {}).get("httpStatusCode", 400))
    return None


def validation_error(operation: OperationModel, message: str) -> ServiceError:
    """Connect has no ValidationException: use the operation's parameter error (documented)."""
    names = {shape.name for shape in operation.error_shapes}
    code = (
        "InvalidParameterException"
        if "InvalidParameterException" in names
        else ("InvalidRequestException")
    )
    return client_error(code, message)


def read_json(shape: Shape, value: Any) -> Any:
    """A decoded JSON document read as ``shape`` (member names as in the model); shared with
    the JSON 1.0 protocol, whose bodies use the same encoding."""
    return _from_json(shape, value, "")


def write_json(shape: Shape, value: Any) -> Any:
    """``value``, shaped like ``shape``, as a JSON-ready document (epoch-second timestamps)."""
    return _to_json(shape, value)

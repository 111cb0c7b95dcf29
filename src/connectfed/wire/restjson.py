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
from datetime import datetime
from functools import partial
from typing import Any
from urllib.parse import unquote

from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape

from connectfed import jsonsafe
from connectfed.errors import ServiceError, client_error
from connectfed.wire.scalars import (
    EPOCH_SECONDS,
    HTTP_DATE,
    ISO8601,
    float_text,
    format_timestamp,
    json_float,
    parse_timestamp,
    special_float,
)


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
        name = match.group(1)  # as re.escape left it: a greedy label's "+" is "\\+"
        greedy = name.endswith("\\+")
        name = name.removesuffix("\\+")
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


def _scalar(shape: Shape, raw: str, where: str, stamp_default: str = ISO8601) -> Any:
    """A URI label, query parameter or header value read as ``shape`` (``stamp_default``: the
    timestamp format where the value travels, when its member names none)."""
    kind = shape.type_name
    if kind in ("integer", "long"):
        if not _INTEGER.fullmatch(raw) or not _in_range(kind, int(raw)):
            raise SerializationError(f"Value '{raw}' at '{where}' is not a valid {kind}")
        return int(raw)
    try:
        if kind in ("float", "double"):
            special = special_float(raw)
            return special if special is not None else float(raw)
    except ValueError:
        raise SerializationError(f"Value '{raw}' at '{where}' is not a valid number") from None
    if kind == "boolean":
        if raw not in ("true", "false"):
            raise SerializationError(f"Value '{raw}' at '{where}' is not a valid boolean")
        return raw == "true"
    if kind == "timestamp":
        try:
            return parse_timestamp(raw, shape.serialization.get("timestampFormat", stamp_default))
        except ValueError:
            raise SerializationError(
                f"Value '{raw}' at '{where}' is not a valid timestamp"
            ) from None
    if kind == "blob" or (kind == "string" and shape.serialization.get("jsonvalue")):
        # A blob in a label, query or header is base64, and so is a header's JSON value.
        try:
            decoded = base64.b64decode(raw, validate=True)
            return decoded if kind == "blob" else decoded.decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            raise SerializationError(f"Value '{raw}' at '{where}' is not valid base64") from None
    return raw


def _header_items(raw: str) -> list[str]:
    """The items of a list-valued header: comma-separated, an item holding a comma or a quote
    sent as a quoted string (RFC 9110 §5.6.4), as the SDKs write them."""
    items: list[str] = []
    at = 0
    while at <= len(raw):
        while at < len(raw) and raw[at] in " \t":
            at += 1
        if at < len(raw) and raw[at] == '"':
            text, at = _quoted(raw, at + 1)
            items.append(text)
            at = raw.find(",", at)
            at = len(raw) + 1 if at < 0 else at + 1
            continue
        end = raw.find(",", at)
        end = len(raw) if end < 0 else end
        items.append(raw[at:end].strip())
        at = end + 1
    return items


def _quoted(raw: str, at: int) -> tuple[str, int]:
    text: list[str] = []
    while at < len(raw) and raw[at] != '"':
        if raw[at] == "\\" and at + 1 < len(raw):
            at += 1
        text.append(raw[at])
        at += 1
    return "".join(text), at + 1


def _header(member: Shape, raw: str, where: str) -> Any:
    if isinstance(member, ListShape):
        items = _header_items(raw)
        if member.member.type_name == "timestamp":
            # An HTTP date holds a comma of its own: two items make one date.
            items = [", ".join(items[i : i + 2]) for i in range(0, len(items), 2)]
        return [_scalar(member.member, item, where, HTTP_DATE) for item in items]
    return _scalar(member, raw, where, HTTP_DATE)


def _from_json(shape: Shape, value: Any, where: str) -> Any:
    kind = shape.type_name
    bad = SerializationError(f"Value of '{where}' has the wrong type: expected {kind}")
    if value is None:
        return None
    if getattr(shape, "is_document_type", False):
        return value  # a document is any JSON value, taken as it is
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
        special = special_float(value)
        if special is not None:
            return special
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise bad
        return float(value)
    if kind == "timestamp":
        stamp_format = shape.serialization.get("timestampFormat", EPOCH_SECONDS)
        if isinstance(value, bool) or not isinstance(
            value, int | float if stamp_format == EPOCH_SECONDS else str
        ):
            raise bad
        try:
            return parse_timestamp(value, stamp_format)
        except ValueError:  # past year 9999, or 1e999 (infinity)
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
    """The input structure of a request: its URI labels, query parameters and headers (names
    lowercased) bound as the model says, and the JSON body (or the payload member) read."""
    shape = operation.input_shape
    if shape is None:
        return {}
    assert isinstance(shape, StructureShape)
    params: dict[str, Any] = {}
    body_members: dict[str, Shape] = {}
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        wire_name = member.serialization.get("name", name)
        if location == "uri":
            if wire_name in labels:
                params[name] = _scalar(member, labels[wire_name], name)
        elif location == "querystring":
            if isinstance(member, MapShape):
                # Every parameter, those other members name too (Smithy's httpQueryParams:
                # "servers put all query params in map").
                found = _query_map(member, query, name)
                if found:
                    params[name] = found
            elif isinstance(member, ListShape):
                if wire_name in query:
                    params[name] = [_scalar(member.member, v, name) for v in query[wire_name]]
            elif wire_name in query:
                params[name] = _scalar(member, query[wire_name][0], name)
        elif location == "header":
            value = headers.get(wire_name.lower())
            if value is not None:
                params[name] = _header(member, value, name)
        elif location == "headers":
            prefix = wire_name.lower()
            assert isinstance(member, MapShape)
            prefixed = {
                key[len(prefix) :]: _scalar(member.value, value, name, HTTP_DATE)
                for key, value in headers.items()
                if key.startswith(prefix)
            }
            if prefixed:
                params[name] = prefixed
        elif location is None:
            body_members[name] = member
    payload = shape.serialization.get("payload")
    if payload is not None:
        if body:
            params[payload] = _payload(shape.members[payload], body, payload)
        return params
    if body_members and body.strip():
        document = _json_document(body)
        if not isinstance(document, dict):
            raise SerializationError("Request body must be a JSON object")
        for name, member in body_members.items():
            key = member.serialization.get("name", name)
            if document.get(key) is not None:
                params[name] = _from_json(member, document[key], name)
    return params


def _query_map(member: MapShape, query: Mapping[str, list[str]], where: str) -> dict[str, Any]:
    values = member.value
    return {
        key: (
            [_scalar(values.member, v, where) for v in found]
            if isinstance(values, ListShape)
            else _scalar(values, found[0], where)
        )
        for key, found in query.items()
    }


def _json_document(body: bytes) -> Any:
    try:
        return jsonsafe.loads(body)
    except jsonsafe.JsonTooDeep:
        raise SerializationError("Request body is nested too deeply") from None
    except (ValueError, UnicodeDecodeError):
        raise SerializationError("Request body is not valid JSON") from None


def _payload(member: Shape, body: bytes, where: str) -> Any:
    """The member bound to the whole body (Smithy's httpPayload): raw bytes for a blob, text
    for a string, else the JSON document read as the member."""
    if member.type_name == "blob":
        return body
    if member.type_name == "string":
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            raise SerializationError(f"Value of '{where}' is not valid UTF-8") from None
    return _from_json(member, _json_document(body), where)


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
_PLAIN = frozenset({"string", "integer", "long", "boolean"})
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
    if shape.type_name in _PLAIN or getattr(shape, "is_document_type", False):
        return None
    return lambda value: _writer(shape)(value)


def _plan(shape: Shape) -> _Write:
    kind = shape.type_name
    if getattr(shape, "is_document_type", False):
        return _same
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
        stamp_format = shape.serialization.get("timestampFormat", EPOCH_SECONDS)
        return _epoch if stamp_format == EPOCH_SECONDS else partial(_stamp, stamp_format)
    if kind == "blob":
        return lambda value: base64.b64encode(value).decode()
    if kind in ("float", "double"):
        return json_float
    return _same


def _stamp(stamp_format: str, moment: datetime) -> str | int | float:
    return format_timestamp(moment, stamp_format)


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
    shape: Any  # (botocore's Shape; a header's or prefixed headers' value is written from it)


_OUTPUTS: dict[OperationModel, tuple[_OutputMember, ...]] = {}


def _output_members(shape: StructureShape) -> tuple[_OutputMember, ...]:
    return tuple(
        _OutputMember(
            name,
            member.serialization.get("name", name),
            member.serialization.get("location"),
            _member_writer(member),
            member,
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
        if member.location is None:
            body[member.wire_name] = value if member.write is None else member.write(value)
        elif member.location == "statusCode":
            status = int(value)
        elif member.location == "header":
            headers[member.wire_name] = _header_text(member.shape, value)
        elif member.location == "headers":
            for key, item in value.items():
                headers[member.wire_name + key] = _header_text(member.shape.value, item)
    payload = shape.serialization.get("payload")
    if payload is not None:
        return status, headers, _payload_bytes(shape.members[payload], result.get(payload))
    return status, headers, JSON_ENCODER.encode(body).encode()


def _header_text(shape: Shape, value: Any) -> str:
    """A header's value: HTTP dates by default, base64 for blobs and JSON values, a list's
    items comma-separated (quoted when they hold a comma or a quote)."""
    if isinstance(shape, ListShape):
        items = [_header_text(shape.member, item) for item in value]
        if shape.member.type_name == "timestamp":
            return ", ".join(items)  # HTTP dates are never quoted (RFC 9110 §5.6.7)
        return ", ".join(_quote_item(item) for item in items)
    kind = shape.type_name
    if kind == "timestamp":
        return str(format_timestamp(value, shape.serialization.get("timestampFormat", HTTP_DATE)))
    if kind == "boolean":
        return "true" if value else "false"
    if kind in ("float", "double"):
        return float_text(value)
    if kind == "blob":
        return base64.b64encode(value).decode()
    if kind == "string" and shape.serialization.get("jsonvalue"):
        return base64.b64encode(str(value).encode()).decode()
    return str(value)


def _quote_item(item: str) -> str:
    if "," not in item and '"' not in item:
        return item
    return '"' + item.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _payload_bytes(member: Shape, value: Any) -> bytes:
    """The body when one member is the whole of it (Smithy's httpPayload)."""
    if value is None:
        return b""
    if member.type_name == "blob":
        return bytes(value)
    if member.type_name == "string":
        return str(value).encode()
    return JSON_ENCODER.encode(_to_json(member, value)).encode()


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

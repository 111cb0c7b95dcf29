"""awsQuery (STS, IAM), server side: form-encoded input, XML output and errors.

Input keys follow botocore's query serializer: ``Member``, ``List.member.N``,
``Map.entry.N.key``/``.value`` (``Name.N`` when flattened), ``Struct.Member``. Output is
``<OpResponse><OpResult>…</OpResult><ResponseMetadata>…`` in the service's XML namespace.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape as _sax_escape

from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape

from connectfed.errors import ServiceError, client_error
from connectfed.wire.scalars import ISO8601, float_text, format_timestamp, parse_timestamp

# Characters XML 1.0 cannot carry at all (not even as character references).
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


# A carriage return is written as a character reference: a literal one is end-of-line that
# every XML parser reads as "\n" (XML 1.0 §2.11), so "\r\n" in a stored value (a SAML
# metadata document or a description written on Windows) came back as "\n".
_ENTITIES = {"\r": "&#xD;"}


def escape(text: str) -> str:
    """XML-escape ``text``; characters XML cannot carry (an echoed control character in a
    validation message, say) become U+FFFD so the document stays well-formed."""
    return _sax_escape(_NOT_XML.sub("\ufffd", text), _ENTITIES)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{moment.microsecond // 1000:03d}Z"


# ASCII digits (int() also takes "1_0", " 1" and Arabic-Indic digits), within Smithy's 32-bit
# integer and 64-bit long (a Java int and long on AWS's side).
_INTEGER = re.compile(r"-?[0-9]{1,19}")
_RANGES = {"integer": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}


def _integer(kind: str, raw: str) -> int:
    low, high = _RANGES[kind]
    if not _INTEGER.fullmatch(raw) or not low <= int(raw) <= high:
        raise ValueError(raw)
    return int(raw)


def _scalar(shape: Shape, raw: str, where: str) -> Any:
    kind = shape.type_name
    try:
        if kind in ("integer", "long"):
            return _integer(kind, raw)
        if kind in ("float", "double"):
            return float(raw)
        if kind == "timestamp":
            return parse_timestamp(raw, shape.serialization.get("timestampFormat", ISO8601))
        if kind == "blob":
            return base64.b64decode(raw, validate=True)
    except (ValueError, binascii.Error):
        raise client_error(
            "ValidationError",
            f"Value '{raw}' at '{where}' failed to satisfy constraint: "
            f"Member must be a valid {kind}",
        ) from None
    if kind == "boolean":
        lowered = raw.lower()
        if lowered not in ("true", "false"):
            raise client_error("ValidationError", f"Value '{raw}' at '{where}' is not a boolean")
        return lowered == "true"
    return raw


def _indices(params: Mapping[str, str], prefix: str) -> list[int]:
    found: set[int] = set()
    for key in params:
        if key.startswith(prefix):
            head = key[len(prefix) :].split(".", 1)[0]
            # ASCII digits only: str.isdigit() is also true for "²" (int() refuses it) and
            # for Arabic-Indic digits (int() reads them as another index).
            if head.isascii() and head.isdigit():
                found.add(int(head))
    return sorted(found)


def _has_prefix(params: Mapping[str, str], prefix: str) -> bool:
    return any(key == prefix or key.startswith(prefix + ".") for key in params)


def _read(shape: Shape, params: Mapping[str, str], key: str) -> Any:
    if isinstance(shape, StructureShape):
        out: dict[str, Any] = {}
        for name, member in shape.members.items():
            wire = member.serialization.get("name", name)
            child = f"{key}.{wire}" if key else wire
            if _has_prefix(params, child):
                value = _read(member, params, child)
                if value is not None:
                    out[name] = value
        return out
    if isinstance(shape, ListShape):
        if params.get(key) == "":
            return []
        flattened = shape.serialization.get("flattened")
        item = shape.member.serialization.get("name", "member")
        prefix = f"{key}." if flattened else f"{key}.{item}."
        items = (_read(shape.member, params, f"{prefix}{i}") for i in _indices(params, prefix))
        # An index with no value of the member's shape (``List.member.1.x`` for a list of
        # strings) is no item, as a parameter the model does not name is no member.
        return [item for item in items if item is not None]
    if isinstance(shape, MapShape):
        flattened = shape.serialization.get("flattened")
        prefix = f"{key}." if flattened else f"{key}.entry."
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")
        result: dict[str, Any] = {}
        for i in _indices(params, prefix):
            entry_key = params.get(f"{prefix}{i}.{key_name}")
            value = _read(shape.value, params, f"{prefix}{i}.{value_name}")
            if entry_key is not None and value is not None:
                result[entry_key] = value
        return result
    raw = params.get(key)
    return None if raw is None else _scalar(shape, raw, key)


def parse_input(operation: OperationModel, params: Mapping[str, str]) -> dict[str, Any]:
    shape = operation.input_shape
    if shape is None:
        return {}
    result = _read(shape, params, "")
    assert isinstance(result, dict)
    return result


def _xml(shape: Shape, value: Any, name: str, out: list[str]) -> None:
    if value is None:
        return
    if isinstance(shape, StructureShape):
        out.append(f"<{name}>")
        for member_name, member in shape.members.items():
            if member_name in value:
                _xml(member, value[member_name], member.serialization.get("name", member_name), out)
        out.append(f"</{name}>")
    elif isinstance(shape, ListShape):
        item = shape.member.serialization.get("name", "member")
        if shape.serialization.get("flattened"):
            for entry in value:
                _xml(shape.member, entry, name, out)
            return
        out.append(f"<{name}>")
        for entry in value:
            _xml(shape.member, entry, item, out)
        out.append(f"</{name}>")
    elif isinstance(shape, MapShape):
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")
        flattened = shape.serialization.get("flattened")
        if not flattened:
            out.append(f"<{name}>")
        for key, entry in value.items():
            out.append(f"<{name if flattened else 'entry'}>")
            out.append(f"<{key_name}>{escape(str(key))}</{key_name}>")
            _xml(shape.value, entry, value_name, out)
            out.append(f"</{name if flattened else 'entry'}>")
        if not flattened:
            out.append(f"</{name}>")
    elif shape.type_name == "timestamp":
        stamp_format = shape.serialization.get("timestampFormat")
        text = _iso(value) if stamp_format is None else format_timestamp(value, stamp_format)
        out.append(f"<{name}>{text}</{name}>")
    elif shape.type_name == "boolean":
        out.append(f"<{name}>{'true' if value else 'false'}</{name}>")
    elif shape.type_name == "blob":
        out.append(f"<{name}>{base64.b64encode(value).decode()}</{name}>")
    elif shape.type_name in ("float", "double"):
        out.append(f"<{name}>{float_text(value)}</{name}>")
    else:
        out.append(f"<{name}>{escape(str(value))}</{name}>")


def serialize_output(
    operation: OperationModel, namespace: str, result: Mapping[str, Any] | None, request_id: str
) -> tuple[int, dict[str, str], bytes]:
    name = operation.name
    out = [f'<{name}Response xmlns="{namespace}">']
    shape = operation.output_shape
    if shape is not None:
        wrapper = shape.serialization.get("resultWrapper", f"{name}Result")
        out.append(f"<{wrapper}>")
        for member_name, member in shape.members.items():
            if result and result.get(member_name) is not None:
                _xml(
                    member, result[member_name], member.serialization.get("name", member_name), out
                )
        out.append(f"</{wrapper}>")
    out.append(f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>")
    out.append(f"</{name}Response>")
    return 200, {"Content-Type": "text/xml"}, "".join(out).encode()


def serialize_error(
    error: ServiceError, namespace: str, request_id: str
) -> tuple[int, dict[str, str], bytes]:
    fault = "Sender" if error.sender_fault else "Receiver"
    body = (
        f'<ErrorResponse xmlns="{namespace}"><Error><Type>{fault}</Type>'
        f"<Code>{escape(error.code)}</Code><Message>{escape(error.message)}</Message>"
        f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    return error.status, {"Content-Type": "text/xml"}, body.encode()

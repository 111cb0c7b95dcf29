"""Hypothesis strategies for an operation's input, drawn from its botocore shape, and a way to
send what they draw through botocore (parameter validation off) even where botocore would not
serialise it: a lone surrogate (not Unicode text: no encoder takes it) and values of the wrong
type for a member of a JSON body are written into the signed request itself.

Strings are a mix of values the member's pattern allows (to reach the store), values the
test's world holds (ids and names that exist), and edge cases: control and JSON-significant
characters, URL-significant ones (``%``, ``+``, ``&``, ``=``), NUL, normalisation forms, lone
surrogates, lengths at and past the model's bounds and far past them. Numbers at and past the
32/64-bit bounds, negative, floats and non-numbers where integers go; timestamps out of every
range; lists and maps empty, past their bounds and of the wrong item type; required members
left out; unknown members added. :func:`mutation` changes one member of an input the operation
takes, so that the rest passes validation and the value reaches the operation itself.

:func:`json_body` writes a drawn input as a JSON body by itself, for services no SDK knows
(the CTI API)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape
from hypothesis import strategies as st

# A lone surrogate stands in as this private-use character until the request is signed: no
# encoder (json's, urllib's) writes U+D800 as anything a server would receive as one.
LONE_SURROGATE = "\U000f0001"
_JSON_STANDIN = json.dumps(LONE_SURROGATE)[1:-1]  # "\udb80\udc01"
_URL_STANDIN = "%F3%B0%80%81"

LONG = 70_000  # far past any model's bound, well under the body limit (1 MiB)


class Repeated(str):
    """A long run of one character, shown as the expression that makes it (a failing example
    stays readable)."""

    def __repr__(self) -> str:
        return f"{self[:1]!r} * {len(self)}" if len(self) > 20 else super().__repr__()


def _run(length: int) -> str:
    return Repeated("a" * length)


EDGE_STRINGS: tuple[str, ...] = (
    "",
    " ",
    "%",
    "%00",
    "%2F",
    "%ZZ",
    "+",
    "&",
    "=",
    "a&b=c",
    "a+b c",
    "\r\n",
    "\n",
    "\t",
    '"',
    "'",
    "\\",
    "\\u0000",
    "{",
    "]",
    '{"a":1}',
    "null",
    "\x00",
    "a\x00b",
    "\x01\x07\x1b\x7f",
    "\x85",
    "\u2028",
    "\u200b",
    "\ufeff",
    "\ufffd",
    "\uffff",
    "e\u0301",  # é decomposed (NFD)
    "\u00e9",  # é composed (NFC)
    "\ufb01",  # ﬁ (NFKC: fi)
    "\u212a",  # Kelvin sign (NFKC: K)
    "\u0130",  # İ (lower-cases to two characters)
    "\u00df",  # ß (upper-cases to SS)
    "\U0001f600",
    LONE_SURROGATE,
    "a" + LONE_SURROGATE,
    "aws:",
    "../..",
    "/",
    "//",
    "*",
    "?",
    "#",
    "<x>",
    "]]>",
    "&amp;",
    "arn:aws:iam::123456789012:root",
    _run(LONG),
)

_BAD_INTEGERS: tuple[Any, ...] = (
    0,
    -1,
    2**31 - 1,
    2**31,
    -(2**31),
    -(2**31) - 1,
    2**63 - 1,
    2**63,
    -(2**63) - 1,
    10**30,
    1.5,
    -0.0,
    3.0,
    1e308,
    float("nan"),
    float("inf"),
    "7",
    True,
)
_BAD_TIMESTAMPS: tuple[Any, ...] = (
    0,
    -1,
    -62_135_596_801,  # before year 1
    -1e12,
    253_402_300_800,  # 10000-01-01
    1e300,
    float("nan"),
    float("inf"),
    "0000-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "not a time",
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
)
_WRONG_TYPES: tuple[Any, ...] = ("x", 1, 2.5, True, [], {}, ["x"], {"k": "v"})


@dataclass
class Pool:
    """Values the server holds, offered for members of these names (so that requests reach
    the store, not only the validator)."""

    by_member: dict[str, list[str]] = field(default_factory=dict)

    def get(self, name: str) -> list[str]:
        return self.by_member.get(name, [])


def _pattern_strategy(pattern: str, max_size: int) -> st.SearchStrategy[str] | None:
    text = pattern
    if len(text) >= 2 and text.startswith("/") and text.endswith("/"):
        text = text[1:-1]
    text = text.replace("\\\\", "\\")
    if "\\p{" in text:
        return None
    try:
        re.compile(text)
        return st.from_regex(text, fullmatch=True).filter(lambda s: len(s) <= max_size)
    except (re.error, Exception):
        return None


def strings(shape: Shape, name: str, pool: Pool) -> st.SearchStrategy[Any]:
    meta = shape.metadata
    low, high = meta.get("min", 0), meta.get("max", 256)
    options: list[st.SearchStrategy[Any]] = [
        st.sampled_from(EDGE_STRINGS),
        st.text(
            st.characters(blacklist_categories=("Cs",)) | st.sampled_from('\x00\r\n%+&="\\'),
            max_size=40,
        ),
        st.sampled_from([_run(max(low - 1, 0)), _run(min(high, LONG)), _run(min(high + 1, 2**21))]),
        st.sampled_from(_WRONG_TYPES),
    ]
    if shape.enum:
        options += [st.sampled_from(shape.enum)] * 3
        options.append(st.sampled_from(shape.enum).map(str.lower))
    if "pattern" in meta:
        valid = _pattern_strategy(meta["pattern"], high)
        if valid is not None:
            options += [valid] * 2
            options.append(st.tuples(valid, st.sampled_from(EDGE_STRINGS[:40])).map("".join))
    known = pool.get(name)
    if known:
        options += [st.sampled_from(known)] * 4
        options.append(st.tuples(st.sampled_from(known), st.sampled_from(EDGE_STRINGS[:40])))
        options[-1] = options[-1].map("".join)
    if not meta.get("pattern") and not shape.enum:
        options.append(st.text(st.characters(blacklist_categories=("Cs",)), min_size=low))
    return st.one_of(options)


def numbers(shape: Shape) -> st.SearchStrategy[Any]:
    meta = shape.metadata
    low = meta.get("min", -(2**31) if shape.type_name == "integer" else -(2**63))
    high = meta.get("max", 2**31 - 1 if shape.type_name == "integer" else 2**63 - 1)
    return st.one_of(
        st.integers(low, high),
        st.integers(low, high),
        st.sampled_from([low - 1, high + 1]),
        st.sampled_from(_BAD_INTEGERS),
    )


def _past_bound(high: int) -> Callable[[Any], list[Any]]:
    def past_bound(item: Any) -> list[Any]:
        return [item] * (high + 1)

    return past_bound


def value(shape: Shape, name: str, pool: Pool, depth: int = 0) -> st.SearchStrategy[Any]:
    kind = shape.type_name
    if depth > 4:
        return st.none()
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        return structure(shape, pool, depth)
    if kind == "list":
        assert isinstance(shape, ListShape)
        item = value(shape.member, name, pool, depth + 1)
        high = shape.metadata.get("max", 10)
        return st.one_of(
            st.lists(item, max_size=3),
            st.lists(item, max_size=3),
            st.just([]),
            st.builds(_past_bound(high), item) if high < 2000 else st.just([]),
            st.sampled_from(_WRONG_TYPES),
            st.lists(st.sampled_from(_WRONG_TYPES), min_size=1, max_size=2),
        )
    if kind == "map":
        assert isinstance(shape, MapShape)
        keys = value(shape.key, "", pool, depth + 1).filter(lambda k: isinstance(k, str))
        items = value(shape.value, "", pool, depth + 1)
        high = shape.metadata.get("max", 10)
        return st.one_of(
            st.dictionaries(keys, items, max_size=3),
            st.just({}),
            st.just({f"k{i}": "v" for i in range(high + 1)}) if high < 2000 else st.just({}),
            st.sampled_from(_WRONG_TYPES),
        )
    if kind == "string":
        return strings(shape, name, pool)
    if kind in ("integer", "long"):
        return numbers(shape)
    if kind in ("float", "double"):
        return st.one_of(st.floats(), st.sampled_from(_BAD_INTEGERS))
    if kind == "boolean":
        return st.one_of(st.booleans(), st.booleans(), st.sampled_from(_WRONG_TYPES))
    if kind == "timestamp":
        return st.one_of(st.datetimes(timezones=st.just(UTC)), st.sampled_from(_BAD_TIMESTAMPS))
    if kind == "blob":
        return st.binary(max_size=64)
    return st.none()


def structure(shape: StructureShape, pool: Pool, depth: int = 0) -> st.SearchStrategy[Any]:
    required = set(shape.required_members)

    @st.composite
    def build(draw: Callable[..., Any]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for name, member in shape.members.items():
            wanted = draw(st.integers(0, 9))
            # Required members mostly present (1 in 10 left out), optional ones half the time.
            if (name in required and wanted > 0) or (name not in required and wanted >= 5):
                result[name] = draw(value(member, name, pool, depth + 1))
        if draw(st.integers(0, 9)) == 0:
            result["ZzUnknownMember"] = draw(st.sampled_from(_WRONG_TYPES))
        return result

    return build()


def operation_input(operation: OperationModel, pool: Pool) -> st.SearchStrategy[dict[str, Any]]:
    shape = operation.input_shape
    if shape is None:
        return st.fixed_dictionaries({})
    assert isinstance(shape, StructureShape)
    return structure(shape, pool)


def _paths(
    shape: Shape, document: Any, path: tuple[Any, ...] = ()
) -> list[tuple[tuple[Any, ...], Shape]]:
    """Every place in ``document`` (valid for ``shape``) a value can be put, with its shape:
    each member of a structure, present or not, and each item of a list or map."""
    found: list[tuple[tuple[Any, ...], Shape]] = [(path, shape)]
    if isinstance(shape, StructureShape) and isinstance(document, dict):
        for name, member in shape.members.items():
            found += _paths(member, document.get(name), (*path, name))
    elif isinstance(shape, ListShape) and isinstance(document, list):
        for index, item in enumerate(document):
            found += _paths(shape.member, item, (*path, index))
    elif isinstance(shape, MapShape) and isinstance(document, dict):
        for key, item in document.items():
            found += _paths(shape.value, item, (*path, key))
    return found


_LEFT_OUT = object()


def _put(document: Any, path: tuple[Any, ...], new: Any) -> Any:
    """``document`` with ``new`` at ``path`` (``_LEFT_OUT``: the member removed)."""
    if not path:
        return new
    copy: Any = list(document) if isinstance(document, list) else dict(document or {})
    head = path[0]
    if len(path) == 1 and new is _LEFT_OUT:
        if isinstance(copy, dict):
            copy.pop(head, None)
        else:
            del copy[head]
        return copy
    inner = copy[head] if isinstance(copy, list) else copy.get(head)
    copy[head] = _put(inner, path[1:], new)
    return copy


def mutation(
    operation: OperationModel, valid: dict[str, Any], pool: Pool
) -> st.SearchStrategy[dict[str, Any]]:
    """``valid`` (an input the operation takes) with one member, anywhere in it and present
    or not, replaced by a value drawn for its shape, or left out (1 in 10): input that
    passes validation everywhere else, so it reaches the operation itself."""
    shape = operation.input_shape
    assert isinstance(shape, StructureShape)
    places = [(path, member) for path, member in _paths(shape, valid) if path]

    @st.composite
    def build(draw: Callable[..., Any]) -> dict[str, Any]:
        path, member = draw(st.sampled_from(places))
        name = next((p for p in reversed(path) if isinstance(p, str)), "")
        if draw(st.integers(0, 9)) == 0:
            new: Any = _LEFT_OUT
        else:
            new = draw(value(member, name, pool, len(path)))
        result = _put(valid, path, new)
        assert isinstance(result, dict)
        return result

    return build()


# -- sending ---------------------------------------------------------------------------------


@dataclass
class Overlay:
    """What botocore did not serialise, written into the request before it is signed: JSON
    body members (restJson1 and AWS JSON) and form fields (awsQuery)."""

    json_members: dict[str, Any] = field(default_factory=dict)
    form_fields: list[tuple[str, str]] = field(default_factory=list)

    def apply(self, request: Any) -> None:
        body = request.body
        if isinstance(body, str):
            body = body.encode()
        if self.json_members:
            document = json.loads(body) if body else {}
            document.update(self.json_members)
            body = json.dumps(document, default=str).encode()
        if self.form_fields:
            from urllib.parse import quote

            extra = "&".join(
                f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in self.form_fields
            )
            body = (body + b"&" if body else b"") + extra.encode()
        body = with_lone_surrogates(body or b"")
        request.data = body
        request.url = request.url.replace(_URL_STANDIN, "%ED%A0%80")
        if "Content-Length" in request.headers:
            request.headers.replace_header("Content-Length", str(len(body)))


def with_lone_surrogates(body: bytes) -> bytes:
    """``body`` with each stand-in made a lone surrogate: a JSON escape, or UTF-8's bytes for
    U+D800 as an encoder with "surrogatepass" writes them (not UTF-8: the server must refuse
    it)."""
    return body.replace(_JSON_STANDIN.encode(), b"\\ud800").replace(
        _URL_STANDIN.encode(), b"%ED%A0%80"
    )


def json_body(document: Any) -> bytes:
    """``document`` as a JSON request body, whatever was drawn: values JSON has no type for
    (timestamps, bytes) as text, NaN and infinities as Python writes them (not JSON: the server
    must refuse them), the lone-surrogate stand-in as a lone surrogate."""
    return with_lone_surrogates(json.dumps(document, default=str).encode())


def _scrub(value: Any) -> Any:
    """``value`` with every wrong-typed leaf made text, for members botocore cannot take
    otherwise (labels, query strings, awsQuery's nested members)."""
    if isinstance(value, dict):
        return {str(k): _scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    if isinstance(value, str | int | float | bool | bytes | datetime):
        return value
    return str(value)


def split_for_botocore(
    operation: OperationModel,
    params: Mapping[str, Any],
    serialisable: Callable[[dict[str, Any]], bool],
) -> tuple[dict[str, Any], Overlay]:
    """``params`` as botocore can serialise them, and the overlay holding what it cannot."""
    shape = operation.input_shape
    assert isinstance(shape, StructureShape)
    protocol = operation.metadata["protocol"]
    labels = {
        name: "x"
        for name, member in shape.members.items()
        if member.serialization.get("location") == "uri"
    }
    kept: dict[str, Any] = {}
    overlay = Overlay()
    for name, given in params.items():
        member = shape.members.get(name)
        if member is not None and serialisable({**labels, **kept, name: given}):
            kept[name] = given
            continue
        location = member.serialization.get("location") if member is not None else None
        wire = member.serialization.get("name", name) if member is not None else name
        if protocol in ("json", "rest-json") and location is None:
            overlay.json_members[wire] = given
        elif protocol == "query" and not isinstance(given, dict | list):
            overlay.form_fields.append((wire, str(given)))
        elif member is not None and serialisable({**labels, **kept, name: str(given)}):
            kept[name] = str(given)
    for name in labels:
        kept.setdefault(name, params.get(name) if name in params else "")
    if not serialisable(kept):
        for name in list(kept):
            if name in labels:
                kept[name] = str(kept[name])
    return kept, overlay


def allowed_codes(operation: OperationModel) -> set[str]:
    """The codes an answer may carry: the operation's modelled errors and the protocol's
    common ones (AWS's "Common Errors"; restJson1's and JSON's SerializationException)."""
    codes = {
        "AccessDenied",
        "AccessDeniedException",
        "ThrottlingException",
        "RequestEntityTooLargeException",  # a body past 1 MiB (docs/compatibility.md)
        "RequestHeaderFieldsTooLargeException",  # a URI past --max-header-bytes
    }
    for error in operation.error_shapes:
        codes.add(error.metadata.get("error", {}).get("code", error.name))
        codes.add(error.name)
    if operation.metadata["protocol"] == "query":
        codes |= {"ValidationError", "InvalidAction", "MissingParameter", "MalformedQueryString"}
    else:
        codes |= {"SerializationException", "UnknownOperationException"}
    return codes

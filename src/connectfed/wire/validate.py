"""Input validation from a botocore shape: required, length/count/value ranges, pattern, enum.

Produces AWS's message form: ``1 validation error detected: Value 'x' at 'roleSessionName' failed
to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*``. AWS services
apply patterns to the whole value (Java's ``String.matches``), so we use ``fullmatch``, and with
Java's character classes: ``\\w``, ``\\d`` and ``\\s`` are ASCII-only there, so patterns compile
with ``re.ASCII`` (Python's are Unicode-aware: a Cyrillic look-alike would match ``\\w``).
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from typing import Any, Protocol

from botocore.model import ListShape, MapShape, Shape, StructureShape


class _Matcher(Protocol):
    def fullmatch(self, text: str) -> object: ...


# One bracketed class of Java's Unicode categories and literal characters, repeated:
# ``[\p{L}\p{Z}\p{N}_.:/=+\-@]+`` (IAM's and STS's tag keys and values), anchored or not, and
# after a negative lookahead of a literal prefix: ``^(?!aws:)[…]*$`` (Connect's tag keys).
_UNICODE_CLASS = re.compile(r"\^?(?:\(\?!([\w:]+)\))?\[((?:\\p\{[A-Z]\}|\\.|[^\]\\-])*)\]([*+])\$?")
_CLASS_ITEM = re.compile(r"\\p\{([A-Z])\}|\\(.)|(.)", re.DOTALL)


class _UnicodeClass:
    """What Python's ``re`` cannot say: Java's ``\\p{X}`` (a Unicode general category) in a
    character class. Matches text made only of characters in the categories or literals."""

    def __init__(self, body: str, at_least_one: bool, refused_prefix: str | None = None) -> None:
        categories, literals = set(), set()
        for found in _CLASS_ITEM.finditer(body):
            category, escaped, plain = found.groups()
            if category:
                categories.add(category)
            else:
                literals.add(escaped or plain)
        self._categories = frozenset(categories)
        self._literals = frozenset(literals)
        self._at_least_one = at_least_one
        self._refused_prefix = refused_prefix  # as Java's lookahead: case-sensitive

    def fullmatch(self, text: str) -> bool:
        if self._at_least_one and not text:
            return False
        if self._refused_prefix is not None and text.startswith(self._refused_prefix):
            return False
        return all(
            char in self._literals or unicodedata.category(char)[0] in self._categories
            for char in text
        )


@cache
def _pattern(source: str) -> _Matcher | None:
    text = source
    if len(text) >= 2 and text.startswith("/") and text.endswith("/"):
        text = text[1:-1]  # a JavaScript-style literal in the model, e.g. Connect's Password
    text = text.replace("\\\\", "\\")  # doubly escaped in a few models (Connect's PhoneNumber)
    unicode_class = _UNICODE_CLASS.fullmatch(text)
    if unicode_class is not None and "\\p{" in text:
        prefix, body, repeat = unicode_class.groups()
        return _UnicodeClass(body, repeat == "+", prefix)
    try:
        return re.compile(text, re.ASCII)
    except re.error:
        return None  # other Java-only syntax (possessive quantifiers …): not enforced


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _show(value: Any) -> str:
    if isinstance(value, list | dict):
        return str(value)
    return str(value)


class _Collector:
    def __init__(self) -> None:
        self.errors: list[str] = []
        self.constraints: list[str] = []

    def fail(self, shape: Shape, value: Any, path: str, constraint: str) -> None:
        self.constraints.append(constraint)
        if value is None:
            shown = "Value null"
        elif shape.metadata.get("sensitive"):
            shown = "Value"
        else:
            shown = f"Value '{_show(value)}'"
        self.errors.append(f"{shown} at '{path}' failed to satisfy constraint: {constraint}")


def _check(shape: Shape, value: Any, path: str, out: _Collector) -> None:
    meta = shape.metadata
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        for name in shape.required_members:
            if value.get(name) is None:
                out.fail(
                    shape.members[name],
                    None,
                    f"{path}.{_camel(name)}".lstrip("."),
                    "Member must not be null",
                )
        for name, member in shape.members.items():
            if value.get(name) is not None:
                _check(member, value[name], f"{path}.{_camel(name)}".lstrip("."), out)
        return
    if kind == "string":
        length = len(value)
        if "max" in meta and length > meta["max"]:
            out.fail(
                shape, value, path, f"Member must have length less than or equal to {meta['max']}"
            )
        if "min" in meta and length < meta["min"]:
            out.fail(
                shape,
                value,
                path,
                f"Member must have length greater than or equal to {meta['min']}",
            )
        failed_pattern = False
        if "pattern" in meta:
            compiled = _pattern(meta["pattern"])
            if compiled is not None and not compiled.fullmatch(value):
                failed_pattern = True
                out.fail(
                    shape,
                    value,
                    path,
                    f"Member must satisfy regular expression pattern: {meta['pattern']}",
                )
        if "\x00" in value and not failed_pattern:
            # Never stored nor looked up (PostgreSQL's text cannot hold it): refused here, for
            # every backend alike (docs/compatibility.md).
            out.fail(shape, value, path, "Member must not contain the null character (U+0000)")
        if shape.enum and value not in shape.enum:
            out.fail(
                shape, value, path, f"Member must satisfy enum value set: [{', '.join(shape.enum)}]"
            )
        return
    if kind in ("integer", "long", "float", "double"):
        if "max" in meta and value > meta["max"]:
            out.fail(
                shape, value, path, f"Member must have value less than or equal to {meta['max']}"
            )
        if "min" in meta and value < meta["min"]:
            out.fail(
                shape, value, path, f"Member must have value greater than or equal to {meta['min']}"
            )
        return
    if kind in ("list", "map"):
        count = len(value)
        if "max" in meta and count > meta["max"]:
            out.fail(
                shape, value, path, f"Member must have length less than or equal to {meta['max']}"
            )
        if "min" in meta and count < meta["min"]:
            out.fail(
                shape,
                value,
                path,
                f"Member must have length greater than or equal to {meta['min']}",
            )
        if isinstance(shape, ListShape):
            for index, item in enumerate(value, start=1):
                _check(shape.member, item, f"{path}.{index}.member", out)
        elif isinstance(shape, MapShape):
            for key, item in value.items():
                _check(shape.key, key, f"{path}.{key}.key", out)
                _check(shape.value, item, f"{path}.{key}.value", out)


def constraints_failed(shape: Shape, value: Any) -> list[str]:
    """The constraints of ``shape`` (and of its members) that ``value`` fails, each as the
    validation message words it ("Member must have length less than or equal to 128"); empty
    when it satisfies them. For callers checking one value as the wire would (a seed file)."""
    out = _Collector()
    _check(shape, value, "", out)
    return out.constraints


def validation_message(shape: StructureShape, params: dict[str, Any]) -> str | None:
    """The AWS validation message for ``params``, or None when they satisfy ``shape``."""
    out = _Collector()
    _check(shape, params, "", out)
    if not out.errors:
        return None
    count = len(out.errors)
    head = f"{count} validation error{'s' if count > 1 else ''} detected: "
    return head + "; ".join(out.errors)

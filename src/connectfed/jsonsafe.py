"""JSON from untrusted input, with bounded nesting: the one ``loads`` for request bodies, IAM
policy documents, page tokens, CLI input and responses read by the client.

Python's :func:`json.loads` recurses once per nesting level and raises :class:`RecursionError`
(not :class:`ValueError`) near the interpreter's recursion limit, so ``[[[[…`` in a request body
would escape every ``except ValueError`` and become a 500. Here a too-deep document is a
:class:`JsonTooDeep`, a :class:`ValueError`, which callers already map to their protocol's
parse error (``SerializationException``, ``MalformedPolicyDocument``, …).

Documents AWS accepts are shallow: an IAM policy nests about five levels, Connect's inputs
fewer. :data:`MAX_DEPTH` leaves ample room and keeps every later recursive walk (validation,
policy parsing, re-serialisation) far from the recursion limit. Cost: two ``str.count`` passes
for every document; only one holding more than :data:`MAX_DEPTH` brackets at all gets the
depth check (a few C-speed passes over its brackets, milliseconds for 1 MiB).
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 64


class JsonTooDeep(ValueError):
    """The document nests arrays/objects deeper than allowed."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"JSON nested deeper than {limit} levels")
        self.limit = limit


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')  # linear on valid JSON, which is all it sees
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def depth_exceeds(text: str, limit: int) -> bool:
    """Whether valid JSON ``text`` nests deeper than ``limit``. Each pass deletes every innermost
    ``[]`` pair, lowering the depth by exactly one, so ``limit`` passes, each at C
    speed, decide it."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text)).replace("{", "[").replace("}", "]")
    for _ in range(limit):
        if not brackets:
            return False
        brackets = brackets.replace("[]", "")
    return bool(brackets)


# A surrogate code point, raw or as a \u escape: only a document with one can hold a lone one.
_SURROGATE = re.compile(r"[\ud800-\udfff]|\\u[dD][89abcdefABCDEF]")


def _not_a_number(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON value")


def _text_of(value: Any) -> bool:
    """Whether every string in ``value`` is Unicode text (no lone surrogate, which UTF-8 and
    therefore the store, logs and XML cannot carry)."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def loads(text: str | bytes | bytearray, *, max_depth: int = MAX_DEPTH) -> Any:
    """:func:`json.loads`, raising :class:`JsonTooDeep` (a ValueError) for documents nested
    deeper than ``max_depth`` and :class:`ValueError` for everything else that is not JSON
    (RFC 8259): ``NaN`` and ``Infinity``, which Python reads by default, and strings holding
    a lone surrogate (``"\ud800"``; a pair such as ``"\ud83d\ude00"`` is one character)."""
    if not isinstance(text, str):
        text = bytes(text).decode(json.detect_encoding(text), "surrogatepass")
    try:
        value = json.loads(text, parse_constant=_not_a_number)
    except RecursionError:
        raise JsonTooDeep(max_depth) from None
    # Depth never exceeds the number of opening brackets: most documents stop at the count.
    if text.count("[") + text.count("{") > max_depth and depth_exceeds(text, max_depth):
        raise JsonTooDeep(max_depth)
    if _SURROGATE.search(text) and not _text_of(value):
        raise ValueError("JSON string holds a lone surrogate (not Unicode text)")
    return value

"""Where each statement of a policy document is written: the line and column of its first and
last character, as the policy simulator reports them (IAM API Reference, ``Position``: "the row
and column of a location of a Statement element in a policy document"; ours count from 1).

The document is walked with the standard library's own JSON decoder (``raw_decode`` at an
offset), so a span is exactly what the parser read. Called only for documents that already
parsed (bounded nesting), on the slow path.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

_DECODER = json.JSONDecoder()
_WHITESPACE = " \t\n\r"


@dataclass(frozen=True, slots=True)
class Position:
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class Span:
    start: Position
    end: Position


def _skip(text: str, index: int) -> int:
    while index < len(text) and text[index] in _WHITESPACE:
        index += 1
    return index


def _position(text: str, offset: int) -> Position:
    line = text.count("\n", 0, offset) + 1
    return Position(line, offset - (text.rfind("\n", 0, offset) + 1) + 1)


def _span(text: str, start: int, end: int) -> Span:
    return Span(_position(text, start), _position(text, end - 1))


def _element_offsets(text: str, start: int) -> list[tuple[int, int]]:
    """(start, end) offsets of the statements in the value beginning at ``start``: one object,
    or each element of an array."""
    if text[start] != "[":
        _, end = _DECODER.raw_decode(text, start)
        return [(start, end)]
    out = []
    index = _skip(text, start + 1)
    while index < len(text) and text[index] != "]":
        _, end = _DECODER.raw_decode(text, index)
        out.append((index, end))
        index = _skip(text, end)
        if index < len(text) and text[index] == ",":
            index = _skip(text, index + 1)
    return out


def statement_spans(text: str) -> list[Span]:
    """The spans of the document's statements, in order; empty when the text is not an object
    (the caller then reports no positions)."""
    try:
        index = _skip(text, 0)
        if index >= len(text) or text[index] != "{":
            return []
        index = _skip(text, index + 1)
        found: list[tuple[int, int]] = []
        while index < len(text) and text[index] == '"':
            key, index = _DECODER.raw_decode(text, index)
            index = _skip(text, index)
            index = _skip(text, index + 1)  # the colon
            if key == "Statement":
                found = _element_offsets(text, index)  # the last one wins, as in json.loads
            _, index = _DECODER.raw_decode(text, index)
            index = _skip(text, index)
            if index < len(text) and text[index] == ",":
                index = _skip(text, index + 1)
        return [_span(text, start, end) for start, end in found]
    except (ValueError, IndexError):
        return []

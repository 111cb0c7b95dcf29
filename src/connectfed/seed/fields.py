"""Reading one YAML mapping of a seed file field by field, collecting every error with its line.

Unknown keys are errors (with a suggestion when one is close: ``polices`` → ``policies``), so a
typo never silently declares nothing.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from connectfed.seed import template
from connectfed.seed.schema import Document
from connectfed.seed.source import Located, SeedError, Where


@dataclass
class Findings:
    """What reading a file found: its errors, and every placeholder used (checked at the end)."""

    errors: list[SeedError] = field(default_factory=list)
    placeholders: list[tuple[str, Where]] = field(default_factory=list)


class Fields:
    """The fields of one mapping; a node that is no mapping is reported once and reads empty."""

    def __init__(
        self, node: Located, found: Findings, known: Sequence[str], what: str = "a mapping"
    ) -> None:
        self.node = node
        self.found = found
        if not node.is_mapping:
            self.error(node.where, f"must be {what} with the keys {', '.join(known)}")
            self._values: dict[str, Located] = {}
            return
        self._values = dict(node.items())
        for key in self._values:
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1)
                hint = (
                    f" (did you mean {close[0]!r}?)"
                    if close
                    else f" (expected one of: {', '.join(known)})"
                )
                self.error(node.key_where[key], f"unknown field{hint}")

    def error(self, where: Where, message: str) -> None:
        self.found.errors.append(SeedError(where, message))

    def where(self, key: str | None = None) -> Where:
        if key is not None and key in self._values:
            return self._values[key].where
        if key is not None:
            parent = self.node.where
            name = f"{parent.field}.{key}" if parent.field else key
            return Where(parent.source, parent.line, parent.column, name)
        return self.node.where

    def has(self, key: str) -> bool:
        return key in self._values and self._values[key].value is not None

    def get(self, key: str) -> Located | None:
        found = self._values.get(key)
        return found if found is not None and found.value is not None else None

    def text(
        self,
        key: str,
        *,
        required: bool = False,
        default: str | None = None,
        pattern: re.Pattern[str] | None = None,
        rule: str = "",
        placeholders: bool = False,
    ) -> str | None:
        node = self.get(key)
        if node is None:
            if required:
                self.error(self.where(key), "is required")
            return default
        if isinstance(node.value, bool) or not isinstance(node.value, str | int | float):
            self.error(node.where, "must be a string")
            return default
        value = str(node.value)
        if placeholders:
            self.check_placeholders(value, node.where)
        elif pattern is not None and not pattern.fullmatch(value):
            self.error(node.where, f"{value!r} is not valid: {rule}")
            return default
        return value

    def integer(self, key: str, *, default: int | None, minimum: int, maximum: int) -> int | None:
        node = self.get(key)
        if node is None:
            return default
        if isinstance(node.value, bool) or not isinstance(node.value, int):
            self.error(node.where, "must be a whole number")
            return default
        if not minimum <= node.value <= maximum:
            self.error(node.where, f"must be between {minimum} and {maximum}")
            return default
        return int(node.value)

    def flag(self, key: str, default: bool) -> bool:
        node = self.get(key)
        if node is None:
            return default
        if not isinstance(node.value, bool):
            self.error(node.where, "must be true or false")
            return default
        return node.value

    def items(self, key: str) -> list[Located]:
        """A list field (absent: empty)."""
        node = self.get(key)
        if node is None:
            return []
        if not node.is_sequence:
            self.error(node.where, "must be a list")
            return []
        return list(node.value)

    def strings(self, key: str, *, placeholders: bool = False) -> list[str]:
        out = []
        for item in self.items(key):
            if not isinstance(item.value, str):
                self.error(item.where, "must be a string")
                continue
            if placeholders:
                self.check_placeholders(item.value, item.where)
            out.append(item.value)
        return out

    def mapping(self, key: str, known: Sequence[str]) -> Fields | None:
        node = self.get(key)
        if node is None:
            return None
        return Fields(node, self.found, known)

    def document(self, key: str, *, required: bool = False) -> Document | None:
        """A policy document: a YAML mapping, or a string of JSON."""
        node = self.get(key)
        if node is None:
            if required:
                self.error(self.where(key), "is required")
            return None
        value: Any
        if node.is_mapping:
            value = node.plain()
        elif isinstance(node.value, str):
            try:
                value = json.loads(node.value)
            except ValueError as exc:
                self.error(node.where, f"is not valid JSON: {exc}")
                return None
            if not isinstance(value, dict):
                self.error(node.where, "must be a JSON object")
                return None
        else:
            self.error(node.where, "must be a policy document (a mapping, or JSON text)")
            return None
        for text in template.texts(value):
            self.check_placeholders(text, node.where)
        return Document(value, node.where)

    def check_placeholders(self, text: str, where: Where) -> None:
        try:
            for name in template.names(text):
                self.found.placeholders.append((name, where))
        except template.UnknownPlaceholder as exc:
            self.error(where, str(exc))

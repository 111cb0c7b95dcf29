"""A seed file read into values that remember where they were written (line, column, field).

PyYAML composes the document into nodes carrying their marks (``yaml.compose``); this module turns
those nodes into :class:`Located` values, so every later complaint names the line and the field
(``world.yaml:12:7: iam.users[0].access_keys[1].secret_access_key: ...``). Anchors, aliases and
merge keys (``<<: *defaults``) work as in any YAML; duplicate keys are refused (PyYAML would keep
the last one silently).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

Scalar = str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class Where:
    """A place in a seed file: 1-based line and column, and the field's dotted path."""

    source: str
    line: int
    column: int
    field: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class SeedError:
    where: Where
    message: str

    def __str__(self) -> str:
        name = f" {self.where.field}:" if self.where.field else ""
        return f"{self.where}:{name} {self.message}"


class WorldInvalid(Exception):
    """A seed file that cannot be read, validated or applied; every problem found, in order."""

    def __init__(self, errors: list[SeedError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


@dataclass(frozen=True, slots=True)
class Located:
    """A YAML value and where it was written. ``value`` is a scalar, a list of Located, or a
    dict of str to Located (keys in file order)."""

    value: Any
    where: Where
    key_where: dict[str, Where] = field(default_factory=dict)  # mappings: where each key is

    @property
    def is_mapping(self) -> bool:
        return isinstance(self.value, dict)

    @property
    def is_sequence(self) -> bool:
        return isinstance(self.value, list)

    def items(self) -> Iterator[tuple[str, Located]]:
        assert isinstance(self.value, dict)
        yield from self.value.items()

    def plain(self) -> Any:
        """The value as plain Python data (for policy documents)."""
        if isinstance(self.value, dict):
            return {k: v.plain() for k, v in self.value.items()}
        if isinstance(self.value, list):
            return [v.plain() for v in self.value]
        return self.value


def _child(path: str, name: str | int) -> str:
    if isinstance(name, int):
        return f"{path}[{name}]"
    return f"{path}.{name}" if path else name


class _Converter:
    def __init__(self, source: str) -> None:
        self.source = source
        self.errors: list[SeedError] = []
        self._constructor = yaml.constructor.SafeConstructor()

    def where(self, node: yaml.Node, path: str) -> Where:
        mark = node.start_mark
        return Where(self.source, mark.line + 1, mark.column + 1, path)

    def convert(self, node: yaml.Node, path: str) -> Located:
        here = self.where(node, path)
        if isinstance(node, yaml.MappingNode):
            self._constructor.flatten_mapping(node)  # merge keys (<<) become ordinary keys
            values: dict[str, Located] = {}
            keys: dict[str, Where] = {}
            for key_node, value_node in node.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
                key_where = self.where(key_node, path)
                if not isinstance(key, str) or key_node.tag != "tag:yaml.org,2002:str":
                    self.errors.append(SeedError(key_where, "keys must be plain strings"))
                    continue
                if key in values:
                    self.errors.append(
                        SeedError(
                            self.where(key_node, _child(path, key)),
                            f"duplicate key (first written on line {keys[key].line})",
                        )
                    )
                    continue
                keys[key] = self.where(key_node, _child(path, key))
                values[key] = self.convert(value_node, _child(path, key))
            return Located(values, here, keys)
        if isinstance(node, yaml.SequenceNode):
            return Located(
                [self.convert(item, _child(path, i)) for i, item in enumerate(node.value)], here
            )
        try:
            value = self._constructor.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as exc:
            self.errors.append(SeedError(here, str(exc.problem or exc)))
            value = None
        if not isinstance(value, str | int | float | bool | type(None)):
            # Timestamps, binary and the like: keep what was written.
            value = str(node.value)
        return Located(value, here)


def load(text: str, source: str = "<seed>") -> Located:
    """Parse ``text`` (one YAML document); raises :class:`WorldInvalid` on a syntax error."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Where(source, mark.line + 1 if mark else 1, mark.column + 1 if mark else 1, "")
        raise WorldInvalid([SeedError(where, f"not valid YAML: {exc.problem or exc}")]) from None
    except yaml.YAMLError as exc:
        raise WorldInvalid([SeedError(Where(source, 1, 1, ""), f"not valid YAML: {exc}")]) from None
    if node is None:
        return Located({}, Where(source, 1, 1, ""))
    converter = _Converter(source)
    located = converter.convert(node, "")
    if converter.errors:
        raise WorldInvalid(converter.errors)
    return located

"""Placeholders in seed values: ``{{ account_id }}``, ``{{ region }}``, ``{{ public_url }}``,
``{{ instances.<ref>.id }}`` and ``{{ instances.<ref>.arn }}``.

They are allowed where a value depends on what only the server knows (instance aliases, policy
and trust documents, the test IdP's roles and relay states) and are expanded when the world is
applied. IAM policy variables (``${aws:userid}``) are a different syntax and pass through as
they are.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

PLACEHOLDER = re.compile(r"\{\{\s*(.*?)\s*\}\}")
_NAME = re.compile(r"account_id|region|public_url|instances\.([A-Za-z0-9_-]+)\.(id|arn)")


class UnknownPlaceholder(ValueError):
    pass


def names(text: str) -> Iterator[str]:
    """The placeholders in ``text``; raises :class:`UnknownPlaceholder` for one we don't know."""
    for match in PLACEHOLDER.finditer(text):
        name = match.group(1)
        if not _NAME.fullmatch(name):
            raise UnknownPlaceholder(
                f"unknown placeholder {{{{ {name} }}}}: use account_id, region, public_url, "
                "instances.<ref>.id or instances.<ref>.arn"
            )
        yield name


def instance_ref(name: str) -> str | None:
    """The instance ``ref`` a placeholder names, if it names one."""
    match = _NAME.fullmatch(name)
    return match.group(1) if match and match.group(1) else None


def texts(value: Any) -> Iterator[str]:
    """Every string in plain data (a policy document), keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from texts(item)


@dataclass(frozen=True, slots=True)
class Context:
    """What placeholders expand to while one account's part of the world is applied."""

    account_id: str
    region: str
    public_url: str
    instances: Mapping[str, tuple[str, str]]  # ref -> (id, ARN), as created so far

    def expand(self, text: str) -> str:
        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in ("account_id", "region", "public_url"):
                return str(getattr(self, name))
            ref = instance_ref(name)
            if ref is None or ref not in self.instances:
                raise UnknownPlaceholder(
                    f"instance {ref!r} is not created yet (declare it before what refers to it)"
                )
            instance_id, arn = self.instances[ref]
            return instance_id if name.endswith(".id") else arn

        return PLACEHOLDER.sub(one, text)

    def expand_all(self, value: Any) -> Any:
        """Plain data with every string expanded (keys included)."""
        if isinstance(value, str):
            return self.expand(value)
        if isinstance(value, dict):
            return {self.expand(k): self.expand_all(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.expand_all(v) for v in value]
        return value

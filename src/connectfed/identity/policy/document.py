"""Parsing IAM policy documents into frozen statements (IAM User Guide, JSON element reference).

:func:`parse_policy` reads the structure a document must have to be evaluated at all; it is what
the evaluator uses for stored documents. It keeps every statement: a condition whose operator this
server does not know is kept (``operator`` None) so that evaluation can fail closed on it, never
skip it. The full IAM validation done on write lives in
:mod:`connectfed.identity.policy.validate`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from connectfed import jsonsafe
from connectfed.identity.policy.conditions import Operator, parse_operator

VERSIONS = ("2012-10-17", "2008-10-17")
SYNTAX = "Syntax errors in policy."


class MalformedPolicy(ValueError):
    """The document is not a valid IAM policy; the message says why (AWS's wording)."""


@dataclass(frozen=True, slots=True)
class Condition:
    operator_name: str  # as written
    operator: Operator | None  # None: not an IAM operator (evaluation fails closed)
    key: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Statement:
    effect: str  # "Allow" | "Deny"
    actions: tuple[str, ...] | None
    not_actions: tuple[str, ...] | None
    resources: tuple[str, ...] | None
    not_resources: tuple[str, ...] | None
    principals: dict[str, tuple[str, ...]] | None  # "*" is {"AWS": ("*",)}
    not_principals: dict[str, tuple[str, ...]] | None
    conditions: tuple[Condition, ...]
    sid: str | None = None


@dataclass(frozen=True, slots=True)
class PolicyDocument:
    version: str
    statements: tuple[Statement, ...]

    @property
    def substitutes_variables(self) -> bool:
        return self.version == "2012-10-17"


def load_json(text: str) -> Any:
    try:
        return jsonsafe.loads(text)  # bounded nesting: never a RecursionError
    except ValueError:
        raise MalformedPolicy(SYNTAX) from None


def strings(value: Any, element: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise MalformedPolicy(f"{SYNTAX} {element} must be a string or list of strings.")


def principal_map(value: Any) -> dict[str, tuple[str, ...]]:
    if value == "*":
        return {"AWS": ("*",)}
    if not isinstance(value, dict) or not value:
        raise MalformedPolicy("Invalid principal in policy")
    out: dict[str, tuple[str, ...]] = {}
    for kind, ids in value.items():
        if kind not in ("AWS", "Service", "Federated", "CanonicalUser"):
            raise MalformedPolicy(f'Invalid principal in policy: "{kind}"')
        out[kind] = strings(ids, "Principal")
    return out


def condition_values(value: Any) -> tuple[str, ...]:
    values = value if isinstance(value, list) else [value]
    out = []
    for item in values:
        if isinstance(item, bool):
            out.append("true" if item else "false")
        elif isinstance(item, int | float | str):
            out.append(str(item))
        else:
            raise MalformedPolicy(f"{SYNTAX} Condition values must be scalars.")
    return tuple(out)


def conditions(block: Any) -> tuple[Condition, ...]:
    if not isinstance(block, dict):
        raise MalformedPolicy(f"{SYNTAX} Condition must be an object.")
    out: list[Condition] = []
    for name, keys in block.items():
        if not isinstance(keys, dict):
            raise MalformedPolicy(f"{SYNTAX} Condition operators take an object.")
        operator = parse_operator(name)
        for key, value in keys.items():
            out.append(Condition(name, operator, key, condition_values(value)))
    return tuple(out)


def _statement(raw: Any, *, trust: bool) -> Statement:
    if not isinstance(raw, dict):
        raise MalformedPolicy(SYNTAX)
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise MalformedPolicy(f"{SYNTAX} Effect must be Allow or Deny.")
    if ("Action" in raw) == ("NotAction" in raw):
        raise MalformedPolicy("Policy statement must contain actions.")
    if not trust and ("Resource" in raw) == ("NotResource" in raw):
        raise MalformedPolicy("Policy statement must contain resources.")
    if trust and "Principal" not in raw and "NotPrincipal" not in raw:
        raise MalformedPolicy(
            "Has prohibited field Resource."
            if "Resource" in raw
            else "Missing required field Principal"
        )
    if not trust and ("Principal" in raw or "NotPrincipal" in raw):
        raise MalformedPolicy("Policy document should not specify a principal.")
    sid = raw.get("Sid")
    return Statement(
        effect=effect,
        actions=strings(raw["Action"], "Action") if "Action" in raw else None,
        not_actions=strings(raw["NotAction"], "NotAction") if "NotAction" in raw else None,
        resources=strings(raw["Resource"], "Resource") if "Resource" in raw else None,
        not_resources=(
            strings(raw["NotResource"], "NotResource") if "NotResource" in raw else None
        ),
        principals=principal_map(raw["Principal"]) if "Principal" in raw else None,
        not_principals=principal_map(raw["NotPrincipal"]) if "NotPrincipal" in raw else None,
        conditions=conditions(raw.get("Condition", {})),
        sid=sid if isinstance(sid, str) else None,
    )


def parse_policy(text: str, *, trust: bool = False) -> PolicyDocument:
    """Parse an identity policy (or, with ``trust``, a role trust policy) for evaluation."""
    raw = load_json(text)
    if not isinstance(raw, dict):
        raise MalformedPolicy(SYNTAX)
    version = raw.get("Version", "2008-10-17")
    if version not in VERSIONS:
        raise MalformedPolicy("The policy failed legacy parsing")
    statements = raw.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        raise MalformedPolicy(SYNTAX)
    return PolicyDocument(version, tuple(_statement(s, trust=trust) for s in statements))


@functools.lru_cache(maxsize=1024)
def parse_trust_policy(text: str) -> PolicyDocument:
    """A role trust policy, parsed once per text (every AssumeRole and SAML sign-in reads its
    role's): the parsed document is never changed, so callers share it. A malformed one raises
    every time (exceptions are not cached)."""
    return parse_policy(text, trust=True)

"""Parsing IAM policy documents into frozen statements (IAM User Guide, JSON element reference)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connectfed import jsonsafe

VERSIONS = ("2012-10-17", "2008-10-17")


class MalformedPolicy(ValueError):
    """The document is not a valid IAM policy; the message says why (AWS's wording)."""


@dataclass(frozen=True, slots=True)
class Statement:
    effect: str  # "Allow" | "Deny"
    actions: tuple[str, ...] | None
    not_actions: tuple[str, ...] | None
    resources: tuple[str, ...] | None
    not_resources: tuple[str, ...] | None
    principals: dict[str, tuple[str, ...]] | None  # "*" is {"AWS": ("*",)}
    not_principals: dict[str, tuple[str, ...]] | None
    conditions: tuple[tuple[str, str, tuple[str, ...]], ...]  # (operator, key, values)


@dataclass(frozen=True, slots=True)
class PolicyDocument:
    version: str
    statements: tuple[Statement, ...]

    @property
    def substitutes_variables(self) -> bool:
        return self.version == "2012-10-17"


def _strings(value: Any, element: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise MalformedPolicy(
        f"Syntax errors in policy. {element} must be a string or list of strings."
    )


def _principal(value: Any) -> dict[str, tuple[str, ...]]:
    if value == "*":
        return {"AWS": ("*",)}
    if not isinstance(value, dict) or not value:
        raise MalformedPolicy("Invalid principal in policy")
    out: dict[str, tuple[str, ...]] = {}
    for kind, ids in value.items():
        if kind not in ("AWS", "Service", "Federated", "CanonicalUser"):
            raise MalformedPolicy(f'Invalid principal in policy: "{kind}"')
        out[kind] = _strings(ids, "Principal")
    return out


def _condition_value(value: Any) -> tuple[str, ...]:
    values = value if isinstance(value, list) else [value]
    out = []
    for item in values:
        if isinstance(item, bool):
            out.append("true" if item else "false")
        elif isinstance(item, int | float | str):
            out.append(str(item))
        else:
            raise MalformedPolicy("Syntax errors in policy. Condition values must be scalars.")
    return tuple(out)


def _statement(raw: Any, *, trust: bool) -> Statement:
    if not isinstance(raw, dict):
        raise MalformedPolicy("Syntax errors in policy.")
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise MalformedPolicy("Syntax errors in policy. Effect must be Allow or Deny.")
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
    conditions: list[tuple[str, str, tuple[str, ...]]] = []
    block = raw.get("Condition", {})
    if not isinstance(block, dict):
        raise MalformedPolicy("Syntax errors in policy. Condition must be an object.")
    for operator, keys in block.items():
        if not isinstance(keys, dict):
            raise MalformedPolicy("Syntax errors in policy. Condition operators take an object.")
        for key, value in keys.items():
            conditions.append((operator, key, _condition_value(value)))
    return Statement(
        effect=effect,
        actions=_strings(raw["Action"], "Action") if "Action" in raw else None,
        not_actions=_strings(raw["NotAction"], "NotAction") if "NotAction" in raw else None,
        resources=_strings(raw["Resource"], "Resource") if "Resource" in raw else None,
        not_resources=(
            _strings(raw["NotResource"], "NotResource") if "NotResource" in raw else None
        ),
        principals=_principal(raw["Principal"]) if "Principal" in raw else None,
        not_principals=_principal(raw["NotPrincipal"]) if "NotPrincipal" in raw else None,
        conditions=tuple(conditions),
    )


def parse_policy(text: str, *, trust: bool = False) -> PolicyDocument:
    """Parse an identity policy (or, with ``trust``, a role trust policy)."""
    try:
        raw = jsonsafe.loads(text)
    except ValueError:
        raise MalformedPolicy("Syntax errors in policy.") from None
    if not isinstance(raw, dict):
        raise MalformedPolicy("Syntax errors in policy.")
    version = raw.get("Version", "2008-10-17")
    if version not in VERSIONS:
        raise MalformedPolicy("The policy failed legacy parsing")
    statements = raw.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        raise MalformedPolicy("Syntax errors in policy.")
    return PolicyDocument(version, tuple(_statement(s, trust=trust) for s in statements))

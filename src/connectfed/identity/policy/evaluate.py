"""Evaluating identity and trust policies (explicit deny, then allow, else implicit deny)."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from connectfed.identity.policy.conditions import (
    ContextValue,
    UnknownOperator,
    condition_holds,
    glob_match,
)
from connectfed.identity.policy.document import PolicyDocument, Statement


class Decision(enum.Enum):
    ALLOW = "allow"
    DENY = "deny"  # explicit
    IMPLICIT_DENY = "implicit"


@dataclass(frozen=True, slots=True)
class RequestFacts:
    """What a policy sees: the action, the resource ARN, the principal and the context keys."""

    action: str
    resource: str
    context: Mapping[str, ContextValue]  # keys lower-cased
    principal_arns: tuple[str, ...] = ()  # for trust policies: ARNs the caller is known by
    principal_kind: str = "AWS"  # "AWS" | "Federated" | "Service"


_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class _Missing(Exception):
    pass


def _substitute(text: str, context: Mapping[str, ContextValue]) -> str:
    def replace(match: re.Match[str]) -> str:
        body = match.group(1).strip()
        if body in ("*", "?", "$"):
            return body
        key, _, default = body.partition(",")
        value = context.get(key.strip().lower())
        if isinstance(value, str):
            return value
        if default.strip():
            return default.strip().strip("'")
        raise _Missing(key)

    return _VARIABLE.sub(replace, text)


def _any_glob(
    patterns: Iterable[str],
    value: str,
    *,
    ignore_case: bool,
    doc: PolicyDocument,
    context: Mapping[str, ContextValue],
) -> bool:
    for pattern in patterns:
        if doc.substitutes_variables and "${" in pattern:
            try:
                pattern = _substitute(pattern, context)
            except _Missing:
                continue
        if glob_match(pattern, value, ignore_case=ignore_case):
            return True
    return False


def _principal_matches(principals: Mapping[str, tuple[str, ...]], facts: RequestFacts) -> bool:
    ids = principals.get(facts.principal_kind, ())
    for candidate in ids:
        if candidate == "*":
            return True
        for arn in facts.principal_arns:
            if candidate == arn:
                return True
            # An account id or its root ARN stands for every principal in that account.
            account = arn.split(":")[4] if arn.count(":") >= 5 else None
            if account and candidate in (account, f"arn:aws:iam::{account}:root"):
                return facts.principal_kind == "AWS"
    return False


def _statement_applies(statement: Statement, facts: RequestFacts, doc: PolicyDocument) -> bool:
    context = facts.context
    if statement.actions is not None:
        if not _any_glob(
            statement.actions, facts.action, ignore_case=True, doc=doc, context=context
        ):
            return False
    elif statement.not_actions is not None and _any_glob(
        statement.not_actions, facts.action, ignore_case=True, doc=doc, context=context
    ):
        return False
    if statement.resources is not None:
        if not _any_glob(
            statement.resources, facts.resource, ignore_case=False, doc=doc, context=context
        ):
            return False
    elif statement.not_resources is not None and _any_glob(
        statement.not_resources, facts.resource, ignore_case=False, doc=doc, context=context
    ):
        return False
    if statement.principals is not None and not _principal_matches(statement.principals, facts):
        return False
    if statement.not_principals is not None and _principal_matches(statement.not_principals, facts):
        return False
    for operator, key, values in statement.conditions:
        expected = values
        if doc.substitutes_variables and any("${" in v for v in values):
            try:
                expected = tuple(_substitute(v, context) for v in values)
            except _Missing:
                return False
        try:
            if not condition_holds(operator, context.get(key.lower()), expected):
                return False
        except UnknownOperator:
            return False
    return True


def evaluate(documents: Iterable[PolicyDocument], facts: RequestFacts) -> Decision:
    allowed = False
    for doc in documents:
        for statement in doc.statements:
            if _statement_applies(statement, facts, doc):
                if statement.effect == "Deny":
                    return Decision.DENY
                allowed = True
    return Decision.ALLOW if allowed else Decision.IMPLICIT_DENY

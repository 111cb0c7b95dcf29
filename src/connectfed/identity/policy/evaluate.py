"""Evaluating identity, trust and session policies (IAM User Guide, "Policy evaluation logic"):
an explicit deny wins, then any allow, else the implicit deny.

No statement is ever skipped silently. A condition this server cannot evaluate — an operator IAM
does not have, or a policy value that is not of its operator's type (possible only in a document
stored before validation on write was complete) — fails CLOSED: the statement is taken to apply
when it is a Deny and not to apply when it is an Allow.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from connectfed import arns
from connectfed.identity.policy.conditions import ContextValue, Unevaluable, condition_holds
from connectfed.identity.policy.document import Condition, PolicyDocument, Statement
from connectfed.identity.policy.glob import (
    Pattern,
    compile_glob,
    literal,
    match_arn_tokens,
    match_tokens,
)


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
    principal_arns: tuple[str, ...] = ()  # for trust policies: ARNs/ids the caller is known by
    principal_kind: str = "AWS"  # "AWS" | "Federated" | "Service"


_VARIABLE = re.compile(r"\$\{([^}]*)\}")  # fixed pattern: linear on any input


class _Missing(Exception):
    pass


def _expand(text: str, doc: PolicyDocument, context: Mapping[str, ContextValue]) -> Pattern:
    """``text`` as a token pattern with its policy variables replaced by their (literal) values.

    ``${*}``, ``${?}`` and ``${$}`` stand for the literal characters. A variable with no value and
    no default raises :class:`_Missing` (IAM User Guide, "Policy variables": the element then
    does not match).
    """
    if not doc.substitutes_variables or "${" not in text:
        return compile_glob(text)
    out: list[str] = []
    for before, variable in _template(text):
        out.extend(before)
        if variable is None:
            continue
        key, fixed = variable
        value = context.get(key) if key else None
        if isinstance(value, str):
            out.extend(literal(value))
        elif fixed is not None:
            out.extend(fixed)
        else:
            raise _Missing(key)
    return tuple(out)


# A variable as the template keeps it: the context key to look up (lower-cased; "" for none) and
# the literal pattern to use when it has no value (its default, or ``${*}``'s own character),
# None when there is none.
_Variable = tuple[str, Pattern | None]


@lru_cache(maxsize=4096)
def _template(text: str) -> tuple[tuple[Pattern, _Variable | None], ...]:
    """``text`` cut at its policy variables, parsed once per text (the hot path expands the
    same few patterns on every request): (the pattern before a variable, the variable), the
    last with None."""
    parts: list[tuple[Pattern, _Variable | None]] = []
    position = 0
    for found in _VARIABLE.finditer(text):
        before = compile_glob(text[position : found.start()])
        position = found.end()
        body = found.group(1).strip()
        if body in ("*", "?", "$"):
            parts.append((before, ("", literal(body))))
            continue
        key, _, default = body.partition(",")
        fixed = literal(default.strip().strip("'")) if default.strip() else None
        parts.append((before, (key.strip().lower(), fixed)))
    parts.append((compile_glob(text[position:]), None))
    return tuple(parts)


def _any_action(patterns: Iterable[str], facts: RequestFacts, doc: PolicyDocument) -> bool:
    for text in patterns:
        try:
            pattern = _expand(text, doc, facts.context)
        except _Missing:
            continue
        if match_tokens(pattern, facts.action, ignore_case=True):
            return True
    return False


def _any_resource(patterns: Iterable[str], facts: RequestFacts, doc: PolicyDocument) -> bool:
    for text in patterns:
        try:
            pattern = _expand(text, doc, facts.context)
        except _Missing:
            continue
        if match_arn_tokens(pattern, facts.resource):
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
            if account and candidate in (account, arns.iam_root(account)):
                return facts.principal_kind == "AWS"
    return False


def condition_applies(condition: Condition, facts: RequestFacts, doc: PolicyDocument) -> bool:
    """Raises Unevaluable when the condition cannot be evaluated (the caller fails closed)."""
    if condition.operator is None:
        raise Unevaluable(f"unknown condition operator {condition.operator_name!r}")
    try:
        expected = tuple(_expand(v, doc, facts.context) for v in condition.values)
    except _Missing:
        return False
    return condition_holds(condition.operator, facts.context.get(condition.key.lower()), expected)


class Miss(enum.Enum):
    """Why a statement does not apply: the first element of it the request fails."""

    ACTION = "Action"
    NOT_ACTION = "NotAction"
    RESOURCE = "Resource"
    NOT_RESOURCE = "NotResource"
    PRINCIPAL = "Principal"
    NOT_PRINCIPAL = "NotPrincipal"
    CONDITION = "Condition"


def target_miss(statement: Statement, facts: RequestFacts, doc: PolicyDocument) -> Miss | None:
    """The first of action, resource and principal the request fails (None: all match)."""
    if statement.actions is not None and not _any_action(statement.actions, facts, doc):
        return Miss.ACTION
    if statement.not_actions is not None and _any_action(statement.not_actions, facts, doc):
        return Miss.NOT_ACTION
    if statement.resources is not None and not _any_resource(statement.resources, facts, doc):
        return Miss.RESOURCE
    if statement.not_resources is not None and _any_resource(statement.not_resources, facts, doc):
        return Miss.NOT_RESOURCE
    if statement.principals is not None and not _principal_matches(statement.principals, facts):
        return Miss.PRINCIPAL
    if statement.not_principals is not None and _principal_matches(statement.not_principals, facts):
        return Miss.NOT_PRINCIPAL
    return None


def statement_applies(statement: Statement, facts: RequestFacts, doc: PolicyDocument) -> bool:
    """Whether the statement applies to the request: action, resource, principal and every
    condition match. A condition that cannot be evaluated fails closed (see the module doc)."""
    if target_miss(statement, facts, doc) is not None:
        return False
    all_hold = True
    unevaluable = False
    for condition in statement.conditions:
        try:
            all_hold = condition_applies(condition, facts, doc) and all_hold
        except Unevaluable:
            unevaluable = True
    if unevaluable:
        # Fail closed: a statement with a condition that cannot be evaluated never lets an
        # Allow grant anything, and its Deny always applies (whatever its other conditions say).
        return statement.effect == "Deny"
    return all_hold


def evaluate(documents: Iterable[PolicyDocument], facts: RequestFacts) -> Decision:
    """The decision alone, stopping at the first explicit deny: the hot path. For the reasons
    behind a decision see :func:`connectfed.identity.policy.trace.trace`, which walks every
    statement with the same matchers and always reaches the same decision."""
    allowed = False
    for doc in documents:
        for statement in doc.statements:
            if statement_applies(statement, facts, doc):
                if statement.effect == "Deny":
                    return Decision.DENY
                allowed = True
    return Decision.ALLOW if allowed else Decision.IMPLICIT_DENY

"""A traced evaluation: the decision together with what every statement made of the request.

:func:`trace` walks every statement of every document with the evaluator's own matchers
(:func:`~connectfed.identity.policy.evaluate.target_miss`,
:func:`~connectfed.identity.policy.evaluate.condition_applies`) and the same rule for conditions
that cannot be evaluated (fail closed), so its decision is always :func:`evaluate`'s. It is the
slow path, for explanations and the policy simulator (IAM API Reference,
``SimulatePrincipalPolicy``/``SimulateCustomPolicy``: ``MatchedStatements`` are the statements
that determine the result — the denying ones when a Deny applies, else the allowing ones —
and ``MissingContextValues`` the condition keys the request did not carry).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from connectfed.identity.policy.conditions import ContextValue, Unevaluable
from connectfed.identity.policy.document import Condition, PolicyDocument, Statement
from connectfed.identity.policy.evaluate import (
    Decision,
    Miss,
    RequestFacts,
    condition_applies,
    target_miss,
)

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_STRING_BASES = ("StringEquals", "StringNotEquals", "StringLike", "StringNotLike")
_UNRELATED = (Miss.ACTION, Miss.NOT_ACTION, Miss.PRINCIPAL, Miss.NOT_PRINCIPAL)


@dataclass(frozen=True, slots=True)
class ConditionResult:
    """One (operator, key) condition: the policy's values, the request's, and the outcome."""

    operator: str  # as written, e.g. "ForAnyValue:StringLike"
    key: str  # as written
    values: tuple[str, ...]  # the policy's values, as written (variables unexpanded)
    actual: tuple[str, ...] | None  # the request's values; None when the key is absent
    holds: bool | None  # None: cannot be evaluated (the statement fails closed)
    note: str = ""


@dataclass(frozen=True, slots=True)
class StatementResult:
    index: int  # position of the statement in its document, from 0
    statement: Statement
    applies: bool  # the statement takes part in the decision (its effect counts)
    miss: Miss | None  # the first element the request fails; None when action etc. match
    conditions: tuple[ConditionResult, ...]  # evaluated only when action etc. match

    @property
    def unevaluable(self) -> bool:
        return any(c.holds is None for c in self.conditions)


@dataclass(frozen=True, slots=True)
class Trace:
    decision: Decision
    documents: tuple[tuple[StatementResult, ...], ...]  # per document, in input order
    missing_keys: tuple[str, ...]  # condition keys the request lacked, as first written

    def deciding(self) -> list[tuple[int, StatementResult]]:
        """(document index, statement) of the statements that determine the decision: the
        applying Deny statements for an explicit deny, the applying Allow statements for an
        allow, none for an implicit deny."""
        effect = {Decision.DENY: "Deny", Decision.ALLOW: "Allow"}.get(self.decision)
        return [
            (d, s)
            for d, results in enumerate(self.documents)
            for s in results
            if s.applies and s.statement.effect == effect
        ]


def _values(actual: ContextValue | None) -> tuple[str, ...] | None:
    if actual is None:
        return None
    return (actual,) if isinstance(actual, str) else tuple(actual)


def _note(condition: Condition, actual: tuple[str, ...] | None, holds: bool | None) -> str:
    if holds is None:
        return (
            "unknown condition operator"
            if condition.operator is None
            else "a policy value is not of the operator's type"
        )
    if actual is None:
        return "the request has no value for this key"
    operator = condition.operator
    if not holds and operator is not None and operator.base in _STRING_BASES:
        wanted = {v.lower() for v in condition.values}
        if any(a.lower() in wanted for a in actual) and not operator.negated:
            return "differs only in letter case (String*IgnoreCase ignores case)"
    return ""


def _condition(condition: Condition, facts: RequestFacts, doc: PolicyDocument) -> ConditionResult:
    actual = _values(facts.context.get(condition.key.lower()))
    holds: bool | None
    try:
        holds = condition_applies(condition, facts, doc)
    except Unevaluable:
        holds = None
    return ConditionResult(
        condition.operator_name,
        condition.key,
        condition.values,
        actual,
        holds,
        _note(condition, actual, holds),
    )


def trace_statement(
    index: int, statement: Statement, facts: RequestFacts, doc: PolicyDocument
) -> StatementResult:
    miss = target_miss(statement, facts, doc)
    if miss is not None:
        return StatementResult(index, statement, False, miss, ())
    conditions = tuple(_condition(c, facts, doc) for c in statement.conditions)
    if any(c.holds is None for c in conditions):
        # Fail closed, exactly as statement_applies: a Deny applies, an Allow does not.
        applies = statement.effect == "Deny"
    else:
        applies = all(c.holds for c in conditions)
    return StatementResult(
        index, statement, applies, None if applies or not conditions else Miss.CONDITION, conditions
    )


def _referenced_keys(statement: Statement, doc: PolicyDocument) -> list[str]:
    keys = [c.key for c in statement.conditions]
    if doc.substitutes_variables:
        texts = [
            *(statement.resources or ()),
            *(statement.not_resources or ()),
            *(v for c in statement.conditions for v in c.values),
        ]
        for text in texts:
            for found in _VARIABLE.finditer(text):
                name, _, default = found.group(1).partition(",")
                if name.strip() not in ("*", "?", "$") and not default.strip():
                    keys.append(name.strip())
    return keys


def trace(
    documents: Sequence[PolicyDocument] | Iterable[PolicyDocument], facts: RequestFacts
) -> Trace:
    """Every statement's outcome and the decision :func:`evaluate` reaches for ``facts``."""
    results: list[tuple[StatementResult, ...]] = []
    missing: dict[str, str] = {}
    denied = allowed = False
    for doc in documents:
        statements = []
        for index, statement in enumerate(doc.statements):
            result = trace_statement(index, statement, facts, doc)
            statements.append(result)
            if result.miss in _UNRELATED:
                continue  # not about this action or principal: its keys do not matter
            for key in _referenced_keys(statement, doc):
                if key.lower() not in facts.context:
                    missing.setdefault(key.lower(), key)
            if result.applies:
                denied = denied or statement.effect == "Deny"
                allowed = allowed or statement.effect == "Allow"
        results.append(tuple(statements))
    decision = Decision.DENY if denied else Decision.ALLOW if allowed else Decision.IMPLICIT_DENY
    return Trace(decision, tuple(results), tuple(missing.values()))

"""Explanations of denied requests, kept under the request id the caller sees.

AWS answers a denial with its error and nothing more (``AccessDenied`` …); the wire keeps doing
exactly that. Beside it, the component that said no records an :class:`Explanation` under the
request id (``x-amzn-RequestId``): the principal, action, resource and context keys of each
policy evaluation with what every statement made of it (:mod:`.policy.trace`), and for flows of
several steps (GetFederationToken, AssumeRoleWithSAML) which step failed and why, with hints.
``connectfed explain <request-id>`` and ``GET /_connectfed/explain/<request-id>`` read them.

Recording happens only on the denial path (the allowed path evaluates untraced), never changes
the error the caller gets, and never holds a secret: principals, ARNs, policy statements and
request context keys only. Records expire (``keep_seconds``) and are bounded in number.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, TypeVar

from connectfed.clock import Clock
from connectfed.identity.policy import Decision, PolicyDocument, RequestFacts
from connectfed.identity.policy.conditions import ContextValue
from connectfed.identity.policy.evaluate import Miss
from connectfed.identity.policy.trace import ConditionResult, StatementResult, trace
from connectfed.store import Store
from connectfed.store.records import DecisionRecord

log = logging.getLogger("connectfed.explain")
FORMAT = 1  # the version of the stored JSON shape
E = TypeVar("E", bound=BaseException)


@dataclass(frozen=True, slots=True)
class ConditionView:
    operator: str
    key: str
    values: tuple[str, ...]
    actual: tuple[str, ...] | None  # None: the request had no value for the key
    holds: bool | None  # None: cannot be evaluated (fails closed)
    note: str = ""


@dataclass(frozen=True, slots=True)
class StatementView:
    """One statement as the evaluation saw it. ``outcome``: "denies", "allows" or "no match";
    ``element`` names what did not match (Action, Resource, Principal, Condition…)."""

    index: int
    sid: str | None
    effect: str
    outcome: str
    element: str | None
    detail: str
    conditions: tuple[ConditionView, ...] = ()


@dataclass(frozen=True, slots=True)
class PolicyView:
    name: str  # e.g. "role Federation / inline policy p", "trust policy of role R"
    statements: tuple[StatementView, ...]


@dataclass(frozen=True, slots=True)
class PolicyCheck:
    """One policy evaluation: who asked to do what on what, with which context, and the answer."""

    kind: str  # "identity" | "trust" | "session"
    principal: str
    action: str
    resource: str
    context: Mapping[str, str | tuple[str, ...]]
    decision: str  # "allowed" | "explicitDeny" | "implicitDeny" (the simulator's words)
    policies: tuple[PolicyView, ...]
    missing_keys: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a flow (GetFederationToken, AssumeRoleWithSAML), passed or failed."""

    name: str
    ok: bool
    detail: str


@dataclass(frozen=True, slots=True)
class Explanation:
    request_id: str
    created: float
    operation: str  # e.g. "connect:GetFederationToken"
    principal: str  # the caller's ARN ("" when unknown, e.g. an unsigned SAML call)
    error: str  # the AWS error code the caller got
    summary: str  # one line: why
    checks: tuple[PolicyCheck, ...] = ()
    steps: tuple[Step, ...] = ()
    hints: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, **asdict(self)}

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> Explanation:
        """The explanation ``to_json`` wrote (raises KeyError/TypeError/ValueError when not)."""
        checks = tuple(
            PolicyCheck(
                c["kind"],
                c["principal"],
                c["action"],
                c["resource"],
                {k: v if isinstance(v, str) else tuple(v) for k, v in c["context"].items()},
                c["decision"],
                tuple(
                    PolicyView(p["name"], tuple(_statement(s) for s in p["statements"]))
                    for p in c["policies"]
                ),
                tuple(c.get("missing_keys", ())),
            )
            for c in data.get("checks", ())
        )
        return Explanation(
            data["request_id"],
            float(data["created"]),
            data["operation"],
            data["principal"],
            data["error"],
            data["summary"],
            checks,
            tuple(Step(s["name"], bool(s["ok"]), s["detail"]) for s in data.get("steps", ())),
            tuple(data.get("hints", ())),
        )


def _statement(data: Mapping[str, Any]) -> StatementView:
    return StatementView(
        data["index"],
        data["sid"],
        data["effect"],
        data["outcome"],
        data["element"],
        data["detail"],
        tuple(
            ConditionView(
                c["operator"],
                c["key"],
                tuple(c["values"]),
                None if c["actual"] is None else tuple(c["actual"]),
                c["holds"],
                c.get("note", ""),
            )
            for c in data.get("conditions", ())
        ),
    )


_NEAR = ("Resource", "NotResource", "Condition")
DECISION_WORDS = {
    Decision.ALLOW: "allowed",
    Decision.DENY: "explicitDeny",
    Decision.IMPLICIT_DENY: "implicitDeny",
}


def _listed(values: Sequence[str] | None) -> str:
    return ", ".join(values or ())


def _condition_text(c: ConditionResult) -> str:
    wanted = _listed(c.values)
    have = "no value" if c.actual is None else _listed(c.actual)
    verdict = "cannot be evaluated" if c.holds is None else "holds" if c.holds else "fails"
    text = f"{c.operator} {c.key} [{wanted}] vs request [{have}]: {verdict}"
    return f"{text} ({c.note})" if c.note else text


def _detail(result: StatementResult, facts: RequestFacts) -> str:
    s = result.statement
    if result.applies:
        return (
            "fails closed: "
            + "; ".join(_condition_text(c) for c in result.conditions if c.holds is None)
            if result.unevaluable
            else "action, resource, principal and conditions match"
        )
    miss = result.miss
    if miss is Miss.ACTION:
        return f"Action [{_listed(s.actions)}] does not match {facts.action}"
    if miss is Miss.NOT_ACTION:
        return f"NotAction [{_listed(s.not_actions)}] excludes {facts.action}"
    if miss is Miss.RESOURCE:
        return f"Resource [{_listed(s.resources)}] does not match {facts.resource}"
    if miss is Miss.NOT_RESOURCE:
        return f"NotResource [{_listed(s.not_resources)}] excludes {facts.resource}"
    if miss in (Miss.PRINCIPAL, Miss.NOT_PRINCIPAL):
        named = "; ".join(
            f"{k}: {_listed(v)}"
            for k, v in (
                (s.principals if miss is Miss.PRINCIPAL else s.not_principals) or {}
            ).items()
        )
        verb = "does not name" if miss is Miss.PRINCIPAL else "excludes"
        return (
            f"{miss.value} [{named}] {verb} {facts.principal_kind} {_listed(facts.principal_arns)}"
        )
    failed = [c for c in result.conditions if not c.holds]
    return "condition fails: " + ", ".join(f"{c.operator} {c.key}" for c in failed)


def _view(result: StatementResult, facts: RequestFacts) -> StatementView:
    s = result.statement
    outcome = ("denies" if s.effect == "Deny" else "allows") if result.applies else "no match"
    element = None if result.applies else (result.miss.value if result.miss else None)
    conditions = tuple(
        ConditionView(c.operator, c.key, c.values, c.actual, c.holds, c.note)
        for c in result.conditions
    )
    return StatementView(
        result.index, s.sid, s.effect, outcome, element, _detail(result, facts), conditions
    )


def _context(context: Mapping[str, ContextValue]) -> dict[str, str | tuple[str, ...]]:
    return {k: v if isinstance(v, str) else tuple(v) for k, v in sorted(context.items())}


def check(
    kind: str, principal: str, named: Sequence[tuple[str, PolicyDocument]], facts: RequestFacts
) -> PolicyCheck:
    """Evaluate ``named`` (policy name, document) pairs for ``facts`` with the traced
    evaluator and describe every statement."""
    traced = trace([doc for _, doc in named], facts)
    policies = tuple(
        PolicyView(name, tuple(_view(r, facts) for r in results))
        for (name, _), results in zip(named, traced.documents, strict=True)
    )
    return PolicyCheck(
        kind,
        principal,
        facts.action,
        facts.resource,
        _context(facts.context),
        DECISION_WORDS[traced.decision],
        policies,
        traced.missing_keys,
    )


def summarize(check: PolicyCheck) -> str:
    """One line: why the evaluation ended as it did."""
    what = f"{check.action} on {check.resource}"
    if check.decision == "explicitDeny":
        for policy in check.policies:
            for s in policy.statements:
                if s.outcome == "denies":
                    label = f'statement "{s.sid}"' if s.sid else f"statement #{s.index + 1}"
                    return f"Explicitly denied by {label} of {policy.name}: {what}"
    if check.decision == "allowed":
        return f"Allowed by the {check.kind} policy: {what}"
    if not check.policies:
        return f"Implicitly denied: {check.principal} has no {check.kind} policy ({what})"
    text = f"Implicitly denied: no statement of the {check.kind} policies allows {check.action}"
    # The nearest miss: an Allow whose action (and principal) matched but whose resource or
    # condition did not: most often the one the author meant to apply.
    for policy in check.policies:
        for s in policy.statements:
            if s.effect == "Allow" and s.element in _NEAR:
                label = f'statement "{s.sid}"' if s.sid else f"statement #{s.index + 1}"
                return f"{text}; nearest: {label} of {policy.name}, whose {s.element} fails"
    return f"{text} on {check.resource}"


class Explanations:
    """Records and reads explanations through the store; records expire after
    ``keep_seconds`` and at most ``keep_at_most`` are kept (collected at most every minute)."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        keep_seconds: float = 24 * 3600,
        keep_at_most: int = 10_000,
        gc_interval_seconds: float = 60.0,
        told: Callable[[str], str] | None = None,
    ) -> None:
        """``told``: the code the caller of the request being answered is told for a domain
        error's code (the wire's spelling: ``AccessDenied`` on awsQuery), handed down by the
        composition root; explanations are recorded with it."""
        self._told = told
        self._store = store
        self._clock = clock
        self._keep = keep_seconds
        self._keep_at_most = keep_at_most
        self._gc_interval = gc_interval_seconds
        self._last_gc: float | None = None
        self._gc_lock = threading.Lock()

    def record(self, explanation: Explanation) -> None:
        """Keep ``explanation``; a failure to store it is logged and never reaches the caller
        (who gets AWS's error either way)."""
        if not explanation.request_id:
            return
        if self._told is not None:
            explanation = replace(explanation, error=self._told(explanation.error))
        try:
            created = explanation.created
            self._store.put_decision(
                DecisionRecord(
                    explanation.request_id,
                    created,
                    created + self._keep,
                    json.dumps(explanation.to_json(), separators=(",", ":")),
                )
            )
            self._maybe_gc()
        except Exception:
            log.warning(
                "could not record the explanation of request %s",
                explanation.request_id,
                exc_info=True,
            )

    def get(self, request_id: str) -> Explanation | None:
        record = self._store.get_decision(request_id, self._clock.now().timestamp())
        if record is None:
            return None
        try:
            return Explanation.from_json(json.loads(record.document))
        except (KeyError, TypeError, ValueError):
            log.warning("stored explanation of request %s cannot be read", request_id)
            return None

    def now(self) -> float:
        return self._clock.now().timestamp()

    def gc(self) -> int:
        return self._store.gc_decisions(self.now(), self._keep_at_most)

    def _maybe_gc(self) -> None:
        now = self._clock.monotonic()
        with self._gc_lock:
            if self._last_gc is not None and now - self._last_gc < self._gc_interval:
                return
            self._last_gc = now
        self.gc()


class Diagnosis:
    """The steps of one flow as they pass or fail, for its explanation: ``passed`` after each
    step, ``failed`` at the one that stops it (returning the error to raise).

    Most flows pass every step and never need their explanation, so a passed step is kept as
    the plain (name, detail) pair it is given and becomes a :class:`Step` only when an
    explanation is asked for (issue 9: GetFederationToken notes six)."""

    __slots__ = (
        "_passed",
        "_steps",
        "checks",
        "hints",
        "operation",
        "principal",
        "request_id",
        "summary",
    )

    def __init__(self, operation: str, principal: str, request_id: str | None) -> None:
        self.operation = operation
        self.principal = principal
        self.request_id = request_id
        # Every step in order: a passed one as (name, detail), a failed one as its Step.
        self._steps: list[tuple[str, str] | Step] = []
        self.checks: list[PolicyCheck] = []
        self.hints: list[str] = []
        self.summary = ""

    @property
    def steps(self) -> list[Step]:
        return [s if isinstance(s, Step) else Step(s[0], True, s[1]) for s in self._steps]

    @property
    def has_failed(self) -> bool:
        """Whether a step was noted as failed."""
        return any(isinstance(s, Step) for s in self._steps)

    def passed(self, name: str, detail: str) -> None:
        self._steps.append((name, detail))

    def mark_failed(
        self, name: str, detail: str, check: PolicyCheck | None = None, hints: Sequence[str] = ()
    ) -> None:
        self._steps.append(Step(name, False, detail))
        if check is not None:
            self.checks.append(check)
        self.hints.extend(hints)
        self.summary = self.summary or f"{name}: {detail}"

    def failed(
        self,
        name: str,
        detail: str,
        error: E,
        check: PolicyCheck | None = None,
        hints: Sequence[str] = (),
    ) -> E:
        """Note the step as failed and return ``error``, for the caller to raise."""
        self.mark_failed(name, detail, check, hints)
        return error

    def explanation(self, created: float, error_code: str) -> Explanation | None:
        """The explanation to record, or None when no step failed or the request has no id."""
        if not self.request_id or not self.has_failed:
            return None
        return Explanation(
            self.request_id,
            created,
            self.operation,
            self.principal,
            error_code,
            self.summary,
            tuple(self.checks),
            tuple(self.steps),
            tuple(self.hints),
        )

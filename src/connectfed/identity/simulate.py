"""The IAM policy simulator (IAM API Reference, ``SimulatePrincipalPolicy`` and
``SimulateCustomPolicy``) on the evaluator the live calls use.

Each action is evaluated against each resource (``*`` by default) with the traced evaluator
(:mod:`.policy.trace`, whose decision is always the live :func:`evaluate`'s). As IAM now
answers: one result per action, whose decision is the most restrictive over the resources
(explicitDeny, then implicitDeny, then allowed), with per-resource results when resources were
named; ``MatchedStatements`` are the statements that determine a decision (the Deny ones when
one applies, else the Allow ones) with their positions in the document; ``MissingContextValues``
the condition keys the policies use that the context entries did not give. A permissions
boundary (``PermissionsBoundaryPolicyInputList``) caps the identity policies: allowed only when
both allow, and a Deny in either wins.

The request context is exactly the ``ContextEntries``: nothing is filled in from the caller
(a simulated principal has no session, source IP or time of its own), nor from the simulated
user's or role's tags (AWS documents the simulator as evaluating the policies and the inputs
given, and says nowhere that it adds ``aws:PrincipalTag``), so a key a policy needs and the
entries lack shows in ``MissingContextValues``. What connectfed cannot simulate —
resource-based policies, SCPs, policy exclusions, EC2 resource handling options — is refused
with :class:`~connectfed.identity.errors.InvalidRequest` (IAM's ``InvalidInput``) rather than
silently ignored (docs/compatibility.md).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from connectfed.identity.authorize import DENY_ALL, Authorizer
from connectfed.identity.errors import Entity, EntityNotFound, InvalidRequest
from connectfed.identity.explain import DECISION_WORDS
from connectfed.identity.policy import (
    Decision,
    MalformedPolicy,
    PolicyDocument,
    PolicyKind,
    RequestFacts,
    parse_policy,
    validate_policy,
)
from connectfed.identity.policy.conditions import (
    ContextValue,
    read_address,
    read_binary,
    read_bool,
    read_date,
    read_number,
)
from connectfed.identity.policy.positions import Position, statement_spans
from connectfed.identity.policy.trace import Trace, trace
from connectfed.identity.principal import Principal
from connectfed.store import Store

_READERS: dict[str, Callable[[str], object | None]] = {
    "numeric": read_number,
    "date": read_date,
    "boolean": read_bool,
    "ip": read_address,
    "binary": read_binary,
}
_RANK = {"allowed": 0, "implicitDeny": 1, "explicitDeny": 2}


# What connectfed does not simulate, and why (refused rather than ignored).
UNSUPPORTED = {
    "ResourcePolicy": "no connectfed service has resource-based policies",
    "ResourceOwner": "no connectfed service has resource-based policies",
    "ResourceHandlingOption": "it selects EC2 scenarios",
    "PolicyExclusionList": "policies cannot be excluded from a simulation here",
    "OrderedOrganizationPolicyInputList": "connectfed has no AWS Organizations or SCPs",
}


def refuse_unsupported(present: Sequence[str]) -> None:
    """InvalidRequest naming the first parameter in ``present`` this simulator cannot honour."""
    for name in present:
        if name in UNSUPPORTED:
            raise InvalidRequest(f"connectfed does not simulate {name}: {UNSUPPORTED[name]}.")


class SourceType(enum.Enum):
    USER = "user"
    ROLE = "role"
    NONE = "none"  # a document passed in the request


@dataclass(frozen=True, slots=True)
class ContextEntry:
    key: str
    values: tuple[str, ...]
    type: str  # string, stringList, numeric, …, dateList (the model's enum)


@dataclass(frozen=True, slots=True)
class PolicySource:
    """A document taking part in a simulation, with what identifies it in the answer."""

    source_id: str  # inline policy name, or "PolicyInputList.1", …
    source_type: SourceType
    document: PolicyDocument
    text: str


@dataclass(frozen=True, slots=True)
class MatchedStatement:
    source_id: str
    source_type: SourceType
    start: Position | None
    end: Position | None


@dataclass(frozen=True, slots=True)
class Outcome:
    """The decision for one action on one resource (or the aggregate over resources)."""

    resource: str
    decision: str  # allowed | explicitDeny | implicitDeny
    matched: tuple[MatchedStatement, ...]
    missing: tuple[str, ...]
    boundary_allows: bool | None  # None: no permissions boundary simulated


@dataclass(frozen=True, slots=True)
class ActionResult:
    action: str
    overall: Outcome  # resource "*": the aggregate (most restrictive) over the resources
    per_resource: tuple[Outcome, ...]  # when resources were named


@dataclass(frozen=True, slots=True)
class Simulation:
    """What the caller asked to simulate, beyond the policies."""

    actions: tuple[str, ...]
    resources: tuple[str, ...] | None  # None: "*"
    context: tuple[ContextEntry, ...]


def _context(entries: Sequence[ContextEntry]) -> dict[str, ContextValue]:
    context: dict[str, ContextValue] = {}
    for entry in entries:
        kind = entry.type.removesuffix("List")
        reader = _READERS.get(kind)
        for value in entry.values:
            if reader is not None and reader(value) is None:
                raise InvalidRequest(
                    f"Context key {entry.key} has a value {value!r} that is not a valid {kind}."
                )
        many = entry.type.endswith("List") or len(entry.values) != 1
        context[entry.key.lower()] = entry.values if many else entry.values[0]
    return context


def _matched(sources: Sequence[PolicySource], traced: Trace) -> list[MatchedStatement]:
    out = []
    for doc_index, result in traced.deciding():
        source = sources[doc_index]
        spans = statement_spans(source.text)
        span = spans[result.index] if result.index < len(spans) else None
        out.append(
            MatchedStatement(
                source.source_id,
                source.source_type,
                span.start if span else None,
                span.end if span else None,
            )
        )
    return out


def _outcome(
    identity: Sequence[PolicySource], boundary: Sequence[PolicySource], facts: RequestFacts
) -> Outcome:
    mine = trace([s.document for s in identity], facts)
    capped = trace([s.document for s in boundary], facts) if boundary else None
    decisions = {mine.decision} | ({capped.decision} if capped else set())
    if Decision.DENY in decisions:
        decision = Decision.DENY
    elif mine.decision is Decision.ALLOW and (capped is None or capped.decision is Decision.ALLOW):
        decision = Decision.ALLOW
    else:
        decision = Decision.IMPLICIT_DENY
    matched: list[MatchedStatement] = []
    missing = list(mine.missing_keys)
    if decision is not Decision.IMPLICIT_DENY:
        if mine.decision is decision:
            matched += _matched(identity, mine)
        if capped is not None and capped.decision is decision:
            matched += _matched(boundary, capped)
    if capped is not None:
        missing += [k for k in capped.missing_keys if k not in missing]
    return Outcome(
        facts.resource,
        DECISION_WORDS[decision],
        tuple(matched),
        tuple(missing),
        None if capped is None else capped.decision is Decision.ALLOW,
    )


def _aggregate(outcomes: Sequence[Outcome]) -> Outcome:
    worst = max(outcomes, key=lambda o: _RANK[o.decision])
    matched: list[MatchedStatement] = []
    missing: list[str] = []
    for o in outcomes:
        if o.decision == worst.decision:
            matched += [m for m in o.matched if m not in matched]
        missing += [k for k in o.missing if k not in missing]
    boundary = [o.boundary_allows for o in outcomes if o.boundary_allows is not None]
    return Outcome(
        "*", worst.decision, tuple(matched), tuple(missing), all(boundary) if boundary else None
    )


def _inputs(texts: Sequence[str], label: str) -> list[PolicySource]:
    sources = []
    for number, text in enumerate(texts, start=1):
        try:
            document = validate_policy(text, PolicyKind.IDENTITY)
        except MalformedPolicy as exc:
            raise InvalidRequest(f"{label}.{number}: {exc}") from None
        sources.append(PolicySource(f"{label}.{number}", SourceType.NONE, document, text))
    return sources


class PolicySimulator:
    def __init__(self, store: Store, authz: Authorizer) -> None:
        self._store = store
        self._authz = authz

    def _stored(self, kind: str, owner_id: str) -> list[PolicySource]:
        sources = []
        for policy in self._store.list_policies(kind, owner_id):
            try:
                document = parse_policy(policy.document)
            except MalformedPolicy:
                document = DENY_ALL  # fail closed, as the live path does
            sources.append(
                PolicySource(policy.policy_name, SourceType(kind), document, policy.document)
            )
        return sources

    def _principal_sources(self, caller: Principal, arn: str) -> list[PolicySource]:
        parts = arn.split(":", 5)
        if len(parts) != 6 or parts[0] != "arn" or parts[2] != "iam" or "/" not in parts[5]:
            raise InvalidRequest(f"Invalid ARN: {arn}")
        kind, _, path_name = parts[5].partition("/")
        name = path_name.rsplit("/", 1)[-1]
        if kind not in ("user", "role", "group"):
            raise InvalidRequest(f"PolicySourceArn must name a user, group or role: {arn}")
        missing = EntityNotFound(Entity(kind), name)
        if parts[4] != caller.account_id:
            raise missing
        if kind == "user":
            user = self._store.get_user(parts[4], name)
            if user is None or user.arn != arn:
                raise missing
            return self._stored("user", user.user_id)
        role = self._store.get_role(parts[4], name) if kind == "role" else None
        if role is None or role.arn != arn:
            raise missing  # connectfed has no groups
        return self._stored("role", role.role_id)

    def simulate_principal(
        self,
        caller: Principal,
        source_arn: str,
        inputs: Sequence[str],
        boundary: Sequence[str],
        simulation: Simulation,
    ) -> list[ActionResult]:
        self._authz.require(caller, "iam:SimulatePrincipalPolicy", source_arn)
        sources = self._principal_sources(caller, source_arn) + _inputs(inputs, "PolicyInputList")
        return self._run(
            sources, _inputs(boundary, "PermissionsBoundaryPolicyInputList"), simulation
        )

    def simulate_custom(
        self,
        caller: Principal,
        inputs: Sequence[str],
        boundary: Sequence[str],
        simulation: Simulation,
    ) -> list[ActionResult]:
        self._authz.require(caller, "iam:SimulateCustomPolicy", "*")
        for action in simulation.actions:
            if "*" in action or "?" in action:
                raise InvalidRequest(
                    f"Action {action} contains a wildcard; SimulateCustomPolicy "
                    "does not support wildcards in action names."
                )
        return self._run(
            _inputs(inputs, "PolicyInputList"),
            _inputs(boundary, "PermissionsBoundaryPolicyInputList"),
            simulation,
        )

    def _run(
        self, identity: list[PolicySource], boundary: list[PolicySource], simulation: Simulation
    ) -> list[ActionResult]:
        if len(boundary) > 1:
            raise InvalidRequest("Only one permissions boundary policy may be simulated.")
        context = _context(simulation.context)
        results = []
        for action in simulation.actions:
            if ":" not in action:
                raise InvalidRequest(
                    f"Action {action} must be prefaced by a service, such as iam:CreateUser."
                )
            outcomes = [
                _outcome(identity, boundary, RequestFacts(action, resource, context))
                for resource in simulation.resources or ("*",)
            ]
            results.append(
                ActionResult(
                    action, _aggregate(outcomes), tuple(outcomes) if simulation.resources else ()
                )
            )
        return results

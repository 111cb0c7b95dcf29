"""Authorisation of a principal's action on a resource through its identity policies.

Root is never subject to identity policies. IAM users are governed by their inline policies,
assumed-role sessions by their role's, narrowed by the session policy passed when the session was
made, if any (IAM User Guide, "Session policies": the session may do what both allow; an explicit
deny in either denies). The request context carries the global keys
(``aws:userid``, ``aws:username``, ``aws:PrincipalArn``, …) plus the service's own.

:meth:`Authorizer.decide` is the hot path: cached documents, untraced evaluation. Only when
:meth:`Authorizer.require` denies does it evaluate again with the tracer (:meth:`explain`) and
record the explanation under the request's id (:mod:`connectfed.identity.explain`).

A denial is :class:`~connectfed.errors.AccessDenied`, a :class:`~connectfed.errors.ServiceError`
raised here directly rather than a domain exception mapped by :mod:`connectfed.api.errors`: it
cuts across every operation of every service, and the wire spells its code per protocol
(``AccessDeniedException`` / ``AccessDenied``).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from connectfed.cache import TtlCache
from connectfed.clock import Clock, iso_second
from connectfed.errors import AccessDenied
from connectfed.identity.explain import Explanation, Explanations, PolicyCheck, check, summarize
from connectfed.identity.policy import (
    Decision,
    MalformedPolicy,
    PolicyDocument,
    RequestFacts,
    evaluate,
    parse_policy,
)
from connectfed.identity.policy.conditions import ContextValue
from connectfed.identity.principal import Principal
from connectfed.store import Store

log = logging.getLogger("connectfed.identity")
ISO_SECONDS = "%Y-%m-%dT%H:%M:%SZ"
DENY_ALL = parse_policy(
    '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}'
)


@functools.lru_cache(maxsize=1024)
def session_document(text: str) -> PolicyDocument:
    """A session policy, parsed once per text (validated when the session was made; one that
    no longer parses denies everything: fail closed)."""
    try:
        return parse_policy(text)
    except MalformedPolicy:
        log.warning("a stored session policy no longer parses: the session may do nothing")
        return DENY_ALL


_PRINCIPAL_TYPES = {"root": "Account", "user": "User"}  # anything else: "AssumedRole"


@functools.lru_cache(maxsize=4096)
def _issue_time(issued: datetime) -> str:
    """``aws:TokenIssueTime`` of a session: fixed for its lifetime, formatted once (in UTC:
    equal instants, equal keys, equal text)."""
    return issued.astimezone(UTC).strftime(ISO_SECONDS)


def principal_context(principal: Principal, clock: Clock, region: str) -> dict[str, ContextValue]:
    second = int(clock.now().timestamp())
    context: dict[str, ContextValue] = {
        "aws:userid": principal.user_id,
        "aws:principalarn": principal.role_arn or principal.arn,
        "aws:principalaccount": principal.account_id,
        "aws:principaltype": _PRINCIPAL_TYPES.get(principal.kind, "AssumedRole"),
        "aws:currenttime": iso_second(second),
        "aws:epochtime": str(second),
        "aws:requestedregion": region,
        "aws:securetransport": "true" if principal.origin.secure else "false",
        "aws:multifactorauthpresent": "false",
    }
    if principal.origin.source_ip is not None:
        context["aws:sourceip"] = principal.origin.source_ip
    if principal.kind == "user":
        context["aws:username"] = principal.name
    if principal.session_issued is not None:
        context["aws:tokenissuetime"] = _issue_time(principal.session_issued)
    # aws:PrincipalTag/<key>, the key in any case: the user's or role's tags, then the
    # session's, which override a role tag of the same key (IAM User Guide, "Passing session
    # tags in AWS STS").
    for identity_tag in principal.identity_tags:
        context[f"aws:principaltag/{identity_tag.key.lower()}"] = identity_tag.value
    for tag in principal.session_tags:
        context[f"aws:principaltag/{tag.key.lower()}"] = tag.value
    if principal.source_identity is not None:
        context["aws:sourceidentity"] = principal.source_identity
    if principal.saml_subject is not None:  # a session made by AssumeRoleWithSAML
        context["saml:sub"] = principal.saml_subject.sub
        context["saml:sub_type"] = principal.saml_subject.sub_type
        context["saml:namequalifier"] = principal.saml_subject.name_qualifier
    return context


@dataclass(frozen=True, slots=True)
class PolicySet:
    """A principal's inline policies: the documents (what the hot path reads) and their names
    (for explanations), in the same order."""

    names: tuple[str, ...]
    documents: tuple[PolicyDocument, ...]

    def named(self) -> list[tuple[str, PolicyDocument]]:
        return list(zip(self.names, self.documents, strict=True))


class Authorizer:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        region: str,
        ttl: float,
        explanations: Explanations | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._region = region
        self._policies: TtlCache[PolicySet] = TtlCache(ttl, clock.monotonic)
        # Where denials are explained (None: not recorded).
        self.explanations = explanations

    def invalidate(self, owner_kind: str, owner_id: str) -> None:
        self._policies.invalidate((owner_kind, owner_id))

    def policy_set(self, owner_kind: str, owner_id: str) -> PolicySet:
        """The inline policies of a user or role, by its unique id (AIDA…/AROA…): a principal
        recreated under an old name is a new id, so nothing cached for the old one applies."""

        def load() -> PolicySet:
            names, docs = [], []
            for policy in self._store.list_policies(owner_kind, owner_id):
                names.append(policy.policy_name)
                try:
                    docs.append(parse_policy(policy.document))
                except MalformedPolicy:
                    # Validated on Put, so only a damaged row gets here. It may have held a
                    # Deny: fail closed and deny everything to this owner until it is fixed.
                    log.warning(
                        "stored %s policy %s of %s cannot be parsed: denying all",
                        owner_kind,
                        policy.policy_name,
                        owner_id,
                    )
                    docs.append(DENY_ALL)
            return PolicySet(tuple(names), tuple(docs))

        return self._policies.get((owner_kind, owner_id), load)

    def policies(self, owner_kind: str, owner_id: str) -> tuple[PolicyDocument, ...]:
        return self.policy_set(owner_kind, owner_id).documents

    def _owner(self, principal: Principal) -> tuple[str, str] | None:
        if principal.kind == "user":
            return "user", principal.user_id
        if principal.kind == "assumed-role" and principal.role_id is not None:
            return "role", principal.role_id
        return None

    def identity_policies(self, principal: Principal) -> tuple[PolicyDocument, ...]:
        owner = self._owner(principal)
        return self.policies(*owner) if owner else ()

    def facts(
        self,
        principal: Principal,
        action: str,
        resource: str,
        context: Mapping[str, ContextValue] | None = None,
    ) -> RequestFacts:
        facts_context = principal_context(principal, self._clock, self._region)
        if context:
            facts_context.update({k.lower(): v for k, v in context.items()})
        return RequestFacts(action=action, resource=resource, context=facts_context)

    def decide(
        self,
        principal: Principal,
        action: str,
        resource: str,
        context: Mapping[str, ContextValue] | None = None,
    ) -> Decision:
        if principal.is_root:
            return Decision.ALLOW
        facts = self.facts(principal, action, resource, context)
        decision = evaluate(self.identity_policies(principal), facts)
        if principal.session_policy is None or decision is Decision.DENY:
            return decision
        narrowed = evaluate((session_document(principal.session_policy),), facts)
        if narrowed is Decision.DENY:
            return Decision.DENY
        if decision is Decision.ALLOW and narrowed is Decision.ALLOW:
            return Decision.ALLOW
        return Decision.IMPLICIT_DENY

    def explain(
        self,
        principal: Principal,
        action: str,
        resource: str,
        context: Mapping[str, ContextValue] | None = None,
    ) -> PolicyCheck:
        """The traced evaluation of what :meth:`decide` decides (the same cached documents),
        with every statement's outcome. The slow path: for denials and explanations only."""
        owner = self._owner(principal)
        named = []
        if owner is not None:
            kind, owner_id = owner
            owner_name = principal.name
            named = [
                (f"{kind} {owner_name} / inline policy {name}", doc)
                for name, doc in self.policy_set(kind, owner_id).named()
            ]
        facts = self.facts(principal, action, resource, context)
        identity = check("identity", principal.arn, named, facts)
        if principal.session_policy is None or identity.decision == "explicitDeny":
            return identity
        session = check(
            "session",
            principal.arn,
            [("session policy", session_document(principal.session_policy))],
            facts,
        )
        # The evaluation that refused: an explicit deny of the session policy, else whichever
        # of the two does not allow.
        if session.decision == "explicitDeny" or identity.decision == "allowed":
            return session
        return identity

    def record(self, explanation: Explanation) -> None:
        if self.explanations is not None:
            self.explanations.record(explanation)

    @staticmethod
    def denial(principal: Principal, action: str, resource: str) -> AccessDenied:
        """The error a denied request gets (AWS-BEHAVIOUR.md: the caller, action, resource)."""
        return AccessDenied(
            f"User: {principal.arn} is not authorized to perform: {action} on resource: {resource}"
        )

    def now(self) -> float:
        return self._clock.now().timestamp()

    def require(
        self,
        principal: Principal,
        action: str,
        resource: str,
        context: Mapping[str, ContextValue] | None = None,
        *,
        named: str | None = None,
    ) -> None:
        """``action`` allowed on ``resource``, else AccessDenied naming it (``named``: as the
        service names it instead of its ARN, e.g. IAM's ``user <name>``)."""
        if self.decide(principal, action, resource, context) is Decision.ALLOW:
            return
        denied = self.denial(principal, action, named or resource)
        if principal.origin.request_id and self.explanations is not None:
            evaluation = self.explain(principal, action, resource, context)
            self.record(
                Explanation(
                    principal.origin.request_id,
                    self.now(),
                    action,
                    principal.arn,
                    denied.code,
                    summarize(evaluation),
                    (evaluation,),
                )
            )
        raise denied

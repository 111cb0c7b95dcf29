"""Authorisation of a principal's action on a resource through its identity policies.

Root is never subject to identity policies. IAM users are governed by their inline policies,
assumed-role sessions by their role's. The request context carries the global keys
(``aws:userid``, ``aws:username``, ``aws:PrincipalArn``, …) plus the service's own.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from connectfed.cache import TtlCache
from connectfed.clock import Clock
from connectfed.errors import AccessDenied
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
DENY_ALL = parse_policy(
    '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}'
)


def principal_context(principal: Principal, clock: Clock, region: str) -> dict[str, ContextValue]:
    now = clock.now()
    context: dict[str, ContextValue] = {
        "aws:userid": principal.user_id,
        "aws:principalarn": principal.role_arn or principal.arn,
        "aws:principalaccount": principal.account_id,
        "aws:principaltype": {"root": "Account", "user": "User"}.get(principal.kind, "AssumedRole"),
        "aws:currenttime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "aws:epochtime": str(int(now.timestamp())),
        "aws:requestedregion": region,
        "aws:securetransport": "true" if principal.origin.secure else "false",
        "aws:multifactorauthpresent": "false",
    }
    if principal.origin.source_ip is not None:
        context["aws:sourceip"] = principal.origin.source_ip
    if principal.kind == "user":
        context["aws:username"] = principal.name
    if principal.session_issued is not None:
        context["aws:tokenissuetime"] = principal.session_issued.strftime("%Y-%m-%dT%H:%M:%SZ")
    return context


class Authorizer:
    def __init__(self, store: Store, clock: Clock, region: str, ttl: float) -> None:
        self._store = store
        self._clock = clock
        self._region = region
        self._policies: TtlCache[tuple[PolicyDocument, ...]] = TtlCache(ttl, clock.monotonic)

    def invalidate(self, owner_kind: str, owner_id: str) -> None:
        self._policies.invalidate((owner_kind, owner_id))

    def policies(self, owner_kind: str, owner_id: str) -> tuple[PolicyDocument, ...]:
        """The inline policies of a user or role, by its unique id (AIDA…/AROA…): a principal
        recreated under an old name is a new id, so nothing cached for the old one applies."""

        def load() -> tuple[PolicyDocument, ...]:
            docs = []
            for policy in self._store.list_policies(owner_kind, owner_id):
                try:
                    docs.append(parse_policy(policy.document))
                except MalformedPolicy:
                    # Validated on Put, so only a damaged row gets here. It may have held a
                    # Deny: fail closed and deny everything to this owner until it is fixed.
                    log.warning("stored %s policy %s of %s cannot be parsed: denying all",
                                owner_kind, policy.policy_name, owner_id)
                    docs.append(DENY_ALL)
            return tuple(docs)

        return self._policies.get((owner_kind, owner_id), load)

    def identity_policies(self, principal: Principal) -> tuple[PolicyDocument, ...]:
        if principal.kind == "user":
            return self.policies("user", principal.user_id)
        if principal.kind == "assumed-role" and principal.role_id is not None:
            return self.policies("role", principal.role_id)
        return ()

    def decide(
        self,
        principal: Principal,
        action: str,
        resource: str,
        context: Mapping[str, ContextValue] | None = None,
    ) -> Decision:
        if principal.is_root:
            return Decision.ALLOW
        facts_context = principal_context(principal, self._clock, self._region)
        if context:
            facts_context.update({k.lower(): v for k, v in context.items()})
        return evaluate(
            self.identity_policies(principal),
            RequestFacts(action=action, resource=resource, context=facts_context),
        )

    def require(
        self,
        principal: Principal,
        action: str,
        resource: str,
        context: Mapping[str, ContextValue] | None = None,
    ) -> None:
        if self.decide(principal, action, resource, context) is not Decision.ALLOW:
            raise AccessDenied(
                f"User: {principal.arn} is not authorized to perform: {action} "
                f"on resource: {resource}"
            )

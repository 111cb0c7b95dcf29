"""STS: AssumeRole (trust policy + identity policy) and GetCallerIdentity.

A role may be assumed when its trust policy allows the caller for ``sts:AssumeRole`` and the
caller's identity policies allow it too — except in one case (IAM User Guide, "Cross-account
policy evaluation logic" / "Policy evaluation logic: role trust policies"): within one account,
the identity policy is not needed when a trust statement that *names the caller itself* (its
ARN, its role's ARN, or its unique id — not the account) applies in full: action, principal AND
conditions. A statement naming the caller whose condition fails (a wrong ``sts:ExternalId``,
say) exempts nothing. Root may not assume roles.

A session policy (the ``Policy`` parameter) is validated as IAM validates an identity policy and
kept with the session: the session may then do only what both its role's policies and the
session policy allow (:mod:`connectfed.identity.authorize`).

Session tags need ``sts:TagSession`` and a source identity ``sts:SetSourceIdentity``, each
checked like ``sts:AssumeRole`` (trust policy, then the identity policy under the same
same-account rule), with ``aws:RequestTag/<key>``, ``aws:TagKeys``, ``sts:TransitiveTagKeys``
and ``sts:SourceIdentity`` in the request context of all three. A calling session's transitive
tags and source identity pass on (role chaining); a source identity cannot be changed, and a
chained session is refused without ``sts:SetSourceIdentity`` though it passes none itself (IAM
User Guide, "Role chaining and cross-account requirements"). The tag rules and the packed
size are in :mod:`connectfed.identity.session_tags`.
Refusals are :class:`~connectfed.errors.AccessDenied` (the caller may not have the role),
:class:`~connectfed.identity.policy.MalformedPolicy` and :mod:`connectfed.identity.errors`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from connectfed import arns
from connectfed.clock import Clock, utc
from connectfed.errors import AccessDenied, ServiceError
from connectfed.identity import ids
from connectfed.identity.authorize import Authorizer, principal_context
from connectfed.identity.credentials import session_principal, token_digest
from connectfed.identity.errors import DurationLimit, DurationTooLong, InvalidRoleArn
from connectfed.identity.explain import Diagnosis, check, summarize
from connectfed.identity.iam_tags import resource_context
from connectfed.identity.policy import (
    Decision,
    MalformedPolicy,
    PolicyDocument,
    PolicyKind,
    RequestFacts,
    evaluate,
    parse_trust_policy,
    statement_applies,
    validate_policy,
)
from connectfed.identity.policy.conditions import ContextValue
from connectfed.identity.principal import Principal
from connectfed.identity.roles import RoleDirectory
from connectfed.identity.session_tags import (
    NO_TAGS,
    TagRequest,
    granted_tags,
    packed_policy_size,
    request_context,
)
from connectfed.identity.sts_values import (
    AssumeRoleRequest,
    CallerIdentity,
    RoleSession,
    SessionCredentials,
)
from connectfed.store import Store
from connectfed.store.records import Role, SamlSubject, Session, SessionTag

ROLE_CHAINING_MAX = 3600


def caller_identifiers(caller: Principal) -> tuple[str, ...]:
    """What a trust policy may name the caller by: its ARN, its role's ARN, its unique id."""
    ids = [caller.arn]
    if caller.role_arn:
        ids.append(caller.role_arn)
    if caller.role_id:
        ids.append(caller.role_id)
    elif caller.kind == "user":
        ids.append(caller.user_id)
    return tuple(ids)


def names_caller(trust: PolicyDocument, facts: RequestFacts, own: tuple[str, ...]) -> bool:
    """Whether an Allow statement that names the caller itself (not ``*``, not its account)
    applies to the request in full — action, principal and conditions."""
    return any(
        statement.effect == "Allow"
        and any(p in own for p in (statement.principals or {}).get("AWS", ()))
        and statement_applies(statement, facts, trust)
        for statement in trust.statements
    )


class StsService:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        authz: Authorizer,
        hmac_key: bytes,
        region: str,
        roles: RoleDirectory,
    ) -> None:
        self._store = store
        self.roles = roles  # AssumeRole's and AssumeRoleWithSAML's role look-ups (cached)
        self._clock = clock
        self._authz = authz
        self._key = hmac_key
        self._region = region

    def get_caller_identity(self, caller: Principal) -> CallerIdentity:
        return CallerIdentity(caller.user_id, caller.account_id, caller.arn)

    def _trust_allows(
        self,
        role: Role,
        caller: Principal,
        action: str,
        context: dict[str, Any],
        diagnosis: Diagnosis,
    ) -> tuple[bool, bool]:
        """(trust policy allows ``action``, an applying Allow statement names the caller
        itself)."""
        try:
            trust = parse_trust_policy(role.trust_policy)
        except MalformedPolicy:
            diagnosis.mark_failed("trust", f"the trust policy of {role.arn} cannot be parsed")
            return False, False
        own = caller_identifiers(caller)
        facts = RequestFacts(action=action, resource=role.arn, context=context, principal_arns=own)
        allowed = evaluate((trust,), facts) is Decision.ALLOW
        if not allowed:
            evaluation = check("trust", caller.arn, [(f"trust policy of {role.arn}", trust)], facts)
            diagnosis.mark_failed("trust", summarize(evaluation), evaluation)
        return allowed, allowed and names_caller(trust, facts, own)

    def _require(
        self,
        caller: Principal,
        role: Role,
        action: str,
        request_keys: dict[str, ContextValue],
        diagnosis: Diagnosis,
    ) -> None:
        """``action`` (``sts:AssumeRole``, ``sts:TagSession``, ``sts:SetSourceIdentity``) on
        ``role``: its trust policy must allow it, and the caller's identity policies too unless
        an Allow trust statement naming the caller itself applies in full in its own account.
        Raises AccessDenied naming the action, as AWS does."""
        denied = AccessDenied(
            f"User: {caller.arn} is not authorized to perform: {action} on resource: {role.arn}"
        )
        context = principal_context(caller, self._clock, self._region)
        context.update({k.lower(): v for k, v in request_keys.items()})
        trusted, named = self._trust_allows(role, caller, action, context, diagnosis)
        if not trusted:
            raise denied
        diagnosis.passed("trust", f"the trust policy of {role.arn} allows {action} to {caller.arn}")
        exempt = named and role.account_id == caller.account_id
        if (
            not exempt
            and self._authz.decide(caller, action, role.arn, request_keys) is not Decision.ALLOW
        ):
            evaluation = self._authz.explain(caller, action, role.arn, request_keys)
            raise diagnosis.failed("authorize", summarize(evaluation), denied, evaluation)

    def assume_role(
        self,
        caller: Principal,
        role_arn: str,
        session_name: str,
        *,
        duration_seconds: int = 3600,
        policy: str | None = None,
        external_id: str | None = None,
        tags: TagRequest = NO_TAGS,
        source_identity: str | None = None,
    ) -> RoleSession:
        """:meth:`assume` with the request's members as arguments."""
        return self.assume(
            caller,
            AssumeRoleRequest(
                role_arn,
                session_name,
                duration_seconds,
                policy,
                external_id,
                tags,
                source_identity,
            ),
        )

    def assume(self, caller: Principal, request: AssumeRoleRequest) -> RoleSession:
        """AssumeRole. A refusal is explained under the caller's request id."""
        diagnosis = Diagnosis("sts:AssumeRole", caller.arn, caller.origin.request_id)
        try:
            return self._assume_role(caller, request, diagnosis)
        except ServiceError as error:
            explanation = diagnosis.explanation(self._clock.now().timestamp(), error.code)
            if explanation is not None:
                self._authz.record(explanation)
            raise

    def _assume_role(
        self, caller: Principal, request: AssumeRoleRequest, diagnosis: Diagnosis
    ) -> RoleSession:
        role_arn, session_name = request.role_arn, request.session_name
        denied = AccessDenied(
            f"User: {caller.arn} is not authorized to perform: sts:AssumeRole on resource: "
            f"{role_arn}"
        )
        if caller.is_root:
            raise diagnosis.failed(
                "caller",
                "root may not assume roles",
                AccessDenied("Roles may not be assumed by root accounts."),
            )
        target = arns.role_of(role_arn)
        if target is None:
            raise InvalidRoleArn(role_arn)
        account, name = target
        role = self.roles.get(account, name)
        if role is None or role.arn != role_arn:
            raise diagnosis.failed("role", f"no role {role_arn} exists", denied)
        diagnosis.passed("role", f"role {role.arn} ({role.role_id})")
        if request.policy is not None:
            validate_policy(request.policy, PolicyKind.SESSION)
        # The calling session's transitive tags and source identity pass on (role chaining).
        tags = granted_tags(request.tags, caller.session_tags)
        source_identity = caller.source_identity or request.source_identity
        request_keys: dict[str, ContextValue] = {"sts:RoleSessionName": session_name}
        if request.external_id is not None:
            request_keys["sts:ExternalId"] = request.external_id
        request_keys.update(request_context(request.tags))
        request_keys.update(resource_context(role.tags))  # aws:ResourceTag/<key> of the role
        if source_identity is not None:
            request_keys["sts:SourceIdentity"] = source_identity
        self._require(caller, role, "sts:AssumeRole", request_keys, diagnosis)
        if request.tags:
            self._require(caller, role, "sts:TagSession", request_keys, diagnosis)
        if source_identity is not None:
            if request.source_identity not in (None, source_identity):
                # AWS: a source identity, once set, cannot be changed in a role chain
                raise diagnosis.failed(
                    "caller",
                    f"the calling session's source identity is {source_identity!r}",
                    AccessDenied(
                        f"User: {caller.arn} is not authorized to perform: "
                        f"sts:SetSourceIdentity on resource: {role.arn}"
                    ),
                )
            self._require(caller, role, "sts:SetSourceIdentity", request_keys, diagnosis)
        duration = request.duration_seconds
        if caller.is_temporary and duration > ROLE_CHAINING_MAX:
            raise DurationTooLong(DurationLimit.ROLE_CHAINING)
        if duration > role.max_session_duration:
            raise DurationTooLong(DurationLimit.ROLE_MAXIMUM)
        packed = (
            packed_policy_size(request.policy, tags)
            if request.policy is not None or request.tags
            else None
        )
        return self.issue_session(
            role,
            session_name,
            duration,
            source="AssumeRole",
            session_policy=request.policy,
            tags=tags,
            source_identity=source_identity,
            packed_policy_size=packed,
        )

    def issue_session(
        self,
        role: Role,
        session_name: str,
        duration: int,
        *,
        source: str,
        session_policy: str | None = None,
        tags: tuple[SessionTag, ...] = (),
        source_identity: str | None = None,
        packed_policy_size: int | None = None,
    ) -> RoleSession:
        """A new session of ``role`` for ``duration`` seconds (``source``: the operation),
        narrowed by ``session_policy`` when one is given (already validated), with ``tags``
        and ``source_identity`` (already checked and authorised)."""
        record, session = self.prepare_session(
            role,
            session_name,
            duration,
            source=source,
            session_policy=session_policy,
            tags=tags,
            source_identity=source_identity,
            packed_policy_size=packed_policy_size,
        )
        self._store.create_session(record)
        return session

    def prepare_session(
        self,
        role: Role,
        session_name: str,
        duration: int,
        *,
        source: str,
        session_policy: str | None = None,
        tags: tuple[SessionTag, ...] = (),
        source_identity: str | None = None,
        packed_policy_size: int | None = None,
        saml_subject: SamlSubject | None = None,
    ) -> tuple[Session, RoleSession]:
        """What :meth:`issue_session` issues, not yet stored: the record to store (the caller
        writes it, e.g. with other rows in one transaction) and the session it gives."""
        now = self._clock.now().replace(microsecond=0)
        expiration = now + timedelta(seconds=duration)
        token = ids.session_token()
        session = Session(
            access_key_id=ids.temporary_access_key_id(),
            secret_access_key=ids.secret_access_key(),
            token_hash=token_digest(self._key, token),
            account_id=role.account_id,
            role_arn=role.arn,
            role_id=role.role_id,
            role_name=role.role_name,
            session_name=session_name,
            source=source,
            created=now.timestamp(),
            expiration=expiration.timestamp(),
            session_policy=session_policy,
            tags=tags,
            source_identity=source_identity,
            saml_subject=saml_subject,
        )
        return session, RoleSession(
            SessionCredentials(
                session.access_key_id,
                session.secret_access_key,
                token,
                utc(session.expiration),
            ),
            assumed_role_id=f"{role.role_id}:{session_name}",
            arn=arns.assumed_role(role.account_id, role.role_name, session_name),
            principal=session_principal(session, role.tags),
            packed_policy_size=packed_policy_size,
            source_identity=source_identity,
        )

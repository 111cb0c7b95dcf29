"""STS: AssumeRole (trust policy + identity policy) and GetCallerIdentity.

A role may be assumed when its trust policy allows the caller for ``sts:AssumeRole`` and, unless
the trust policy names the caller's own ARN, the caller's identity policies allow it too (the IAM
rule for principals in the same account). Root may not assume roles.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from connectfed.clock import Clock
from connectfed.errors import AccessDenied, client_error
from connectfed.identity import ids
from connectfed.identity.authorize import Authorizer, principal_context
from connectfed.identity.credentials import token_digest
from connectfed.identity.policy import (
    Decision,
    MalformedPolicy,
    RequestFacts,
    evaluate,
    parse_policy,
)
from connectfed.identity.principal import Principal
from connectfed.store import Store
from connectfed.store.records import Role, Session

ROLE_CHAINING_MAX = 3600


def _role_name_from_arn(arn: str) -> tuple[str, str] | None:
    parts = arn.split(":", 5)
    if (
        len(parts) != 6
        or parts[0] != "arn"
        or parts[2] != "iam"
        or not parts[5].startswith("role/")
    ):
        return None
    return parts[4], parts[5].rsplit("/", 1)[-1]


class StsService:
    def __init__(
        self, store: Store, clock: Clock, authz: Authorizer, hmac_key: bytes, region: str
    ) -> None:
        self._store = store
        self._clock = clock
        self._authz = authz
        self._key = hmac_key
        self._region = region

    def get_caller_identity(self, caller: Principal) -> dict[str, Any]:
        return {"UserId": caller.user_id, "Account": caller.account_id, "Arn": caller.arn}

    def _trust_allows(
        self, role: Role, caller: Principal, action: str, context: dict[str, Any]
    ) -> tuple[bool, bool]:
        """(trust policy allows, trust policy names the caller itself)."""
        try:
            trust = parse_policy(role.trust_policy, trust=True)
        except MalformedPolicy:
            return False, False
        arns = tuple(a for a in (caller.arn, caller.role_arn) if a)
        facts = RequestFacts(action=action, resource=role.arn, context=context, principal_arns=arns)
        allowed = evaluate((trust,), facts) is Decision.ALLOW
        named = any(
            caller.arn in (s.principals or {}).get("AWS", ())
            or (
                caller.role_arn is not None
                and caller.role_arn in (s.principals or {}).get("AWS", ())
            )
            for s in trust.statements
            if s.effect == "Allow"
        )
        return allowed, named

    def assume_role(self, caller: Principal, params: dict[str, Any]) -> dict[str, Any]:
        role_arn, session_name = params["RoleArn"], params["RoleSessionName"]
        denied = AccessDenied(
            f"User: {caller.arn} is not authorized to perform: sts:AssumeRole on resource: "
            f"{role_arn}"
        )
        if caller.is_root:
            raise AccessDenied("Roles may not be assumed by root accounts.")
        target = _role_name_from_arn(role_arn)
        if target is None:
            raise client_error("ValidationError", f"{role_arn} is invalid")
        account, name = target
        role = self._store.get_role(account, name)
        if role is None or role.arn != role_arn:
            raise denied
        context = principal_context(caller, self._clock, self._region)
        context["sts:rolesessionname"] = session_name
        if "ExternalId" in params:
            context["sts:externalid"] = params["ExternalId"]
        trusted, named = self._trust_allows(role, caller, "sts:AssumeRole", context)
        if not trusted:
            raise denied
        if (
            not named
            and account == caller.account_id
            and self._authz.decide(
                caller, "sts:AssumeRole", role.arn, {"sts:RoleSessionName": session_name}
            )
            is not Decision.ALLOW
        ):
            raise denied
        duration = params.get("DurationSeconds", 3600)
        if caller.is_temporary and duration > ROLE_CHAINING_MAX:
            raise client_error(
                "ValidationError",
                "The requested DurationSeconds exceeds the 1 hour session limit for roles "
                "assumed by role chaining.",
            )
        if duration > role.max_session_duration:
            raise client_error(
                "ValidationError",
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
            )
        return self.issue_session(role, session_name, duration, source="AssumeRole")

    def issue_session(
        self, role: Role, session_name: str, duration: int, *, source: str
    ) -> dict[str, Any]:
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
        )
        self._store.create_session(session)
        return {
            "Credentials": {
                "AccessKeyId": session.access_key_id,
                "SecretAccessKey": session.secret_access_key,
                "SessionToken": token,
                "Expiration": datetime.fromtimestamp(session.expiration, UTC),
            },
            "AssumedRoleUser": {
                "AssumedRoleId": f"{role.role_id}:{session_name}",
                "Arn": f"arn:aws:sts::{role.account_id}:assumed-role/{role.role_name}/"
                f"{session_name}",
            },
        }

"""GetFederationToken: an authenticated principal becomes tokens for its Connect user.

Steps (AWS-BEHAVIOUR.md, "GetFederationToken"): throttle per account and Region; refuse root;
authorise ``connect:GetFederationToken`` on ``instance/<id>/user/${aws:userid}`` with the
``connect:InstanceId`` condition key; find the SAML instance; map the caller to a username (the
role session name, exactly; an IAM user's name); bind the caller's role to the user (one role per
user unless configured otherwise); issue a token family (access token, refresh token and the
SignInUrl's single-use code) through :class:`~connectfed.connect.agent_sessions.AgentSessions`,
whose tokens never outlast the caller's session.

Each step is noted as it passes; the one that fails is recorded, with the policy evaluation or
hints (the user names present, the role already bound), as the explanation of the request
(:mod:`connectfed.identity.explain`). The error on the wire stays AWS's: refusals are domain
exceptions (:mod:`connectfed.connect.errors`, :class:`ConnectUserNotFound`,
:class:`RoleAlreadyBound`) or policy denials, and the audit event and explanation name the AWS
error the caller is told of them (``aws_error``, from the wire side).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connectfed import arns
from connectfed.audit.actors import actor_of
from connectfed.audit.events import AuditEvent, EventName, EventSource, Failure, Resource
from connectfed.audit.log import DISCARD, AuditLog
from connectfed.cache import TtlCache
from connectfed.clock import Clock
from connectfed.connect.agent_sessions import AgentSessions
from connectfed.connect.diagnosis import binding_hints, username_hints
from connectfed.connect.errors import ConnectError, InvalidRequest, ResourceKind, ResourceNotFound
from connectfed.connect.instances import InstanceService
from connectfed.connect.resource_tags import resource_context
from connectfed.connect.throttle import Throttled, make_throttle
from connectfed.errors import AwsErrorOf, ExpiredToken, ServiceError
from connectfed.identity.authorize import Authorizer
from connectfed.identity.explain import Diagnosis, summarize
from connectfed.identity.policy import Decision
from connectfed.identity.policy.conditions import ContextValue
from connectfed.identity.principal import Principal
from connectfed.settings import Settings
from connectfed.store import Store
from connectfed.store.records import ConnectUser, RoleBinding
from connectfed.tokens import MintedToken, TokenRejected

FEDERATION_USER = arns.ConnectResource.FEDERATION_USER


@dataclass(frozen=True, slots=True)
class FederationToken:
    """What GetFederationToken answers: the Connect user's access and refresh tokens, and a
    URL with a single-use code (5 minutes) that signs a browser into the instance."""

    access: MintedToken
    refresh: MintedToken
    sign_in_url: str
    user_arn: str
    user_id: str

    def __repr__(self) -> str:  # never show a token or the sign-in code
        return f"FederationToken(user_arn={self.user_arn!r}, access={self.access!r})"


class ConnectUserNotFound(ConnectError):
    """No Connect user has the caller's name (the user is not onboarded)."""

    def __init__(self) -> None:
        super().__init__(
            "No user with the specified credentials was found in the Amazon Connect instance."
        )


class RoleAlreadyBound(ConnectError):
    """The Connect user is already bound to another role, and a user signs in through one role
    unless ``allow_multiple_roles_per_user`` (AWS-BEHAVIOUR.md). ``bound_roles`` are the ARNs
    bound to it, for the browser's error page; the API's message names none, as AWS's does
    not."""

    def __init__(self, username: str, instance_id: str, bound_roles: tuple[str, ...]) -> None:
        super().__init__(
            f"The user {username} is already associated with the Amazon Connect "
            f"instance {instance_id}"
        )
        self.username = username
        self.bound_roles = bound_roles


class FederationService:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        authz: Authorizer,
        instances: InstanceService,
        sessions: AgentSessions,
        settings: Settings,
        aws_error: AwsErrorOf,
        audit: AuditLog = DISCARD,
    ) -> None:
        # The AWS error a caller is told of a refusal (the wire's table, handed in by the
        # composition root): refusals are audited and explained under that code.
        self._aws_error = aws_error
        self._store = store
        self._audit = audit
        self._clock = clock
        self._authz = authz
        self._instances = instances
        self._sessions = sessions
        self._settings = settings
        self._throttle = make_throttle(
            store,
            clock,
            settings.throttle_rate,
            settings.throttle_burst,
            shared=settings.throttle_shared,
        )
        # Whether a role is bound to a user (see _known_bound).
        self._bound: TtlCache[bool] = TtlCache(settings.cache_ttl_seconds, clock.monotonic)

    def _username(self, caller: Principal) -> str:
        if caller.kind == "assumed-role":
            assert caller.session_name is not None
            return caller.session_name
        return caller.name  # IAM user: its user name (our documented choice)

    def _binding_key(
        self, instance_id: str, user: ConnectUser, caller: Principal
    ) -> tuple[str, str, str]:
        # Bound by the caller's unique id (AROA… role id, AIDA… user id), not its ARN: a role
        # recreated under the same name is another principal and inherits no binding.
        return (instance_id, user.user_id, caller.role_id or caller.user_id)

    def _known_bound(self, instance_id: str, user: ConnectUser, caller: Principal) -> bool:
        """Whether the caller's role is bound to the user (cached: bindings only grow while a
        user exists, so a known one may be remembered)."""
        key = self._binding_key(instance_id, user, caller)
        role_id = key[2]

        def load() -> bool:
            return any(
                b.role_id == role_id
                for b in self._store.list_role_bindings(instance_id, user.user_id)
            )

        return self._bound.get(key, load)

    def _bind(
        self,
        instance_id: str,
        user: ConnectUser,
        caller: Principal,
        username: str,
        diagnosis: Diagnosis,
    ) -> None:
        role_arn = caller.role_arn or caller.arn
        key = self._binding_key(instance_id, user, caller)
        role_id = key[2]
        if self._known_bound(instance_id, user, caller):
            diagnosis.passed("binding", f"{role_arn} is bound to {username}")
            return
        binding = RoleBinding(
            instance_id, user.user_id, role_arn, role_id, self._clock.now().timestamp()
        )
        if not self._store.bind_role(
            binding, allow_many=self._settings.allow_multiple_roles_per_user
        ):
            others = [
                b
                for b in self._store.list_role_bindings(instance_id, user.user_id)
                if b.role_id != role_id
            ]
            raise diagnosis.failed(
                "binding",
                f"{username} is already bound to another role",
                RoleAlreadyBound(username, instance_id, tuple(b.role_arn for b in others)),
                hints=binding_hints(username, others, role_arn),
            )
        diagnosis.passed("binding", f"{role_arn} bound to {username} now")
        self._bound.invalidate(key)

    def federate(self, caller: Principal, instance_id: str) -> FederationToken:
        """GetFederationToken for ``caller``; every outcome is recorded in the audit trail, a
        refusal under the AWS error the caller is told of it."""
        instance_arn = self._instances.instance_arn(caller.account_id, instance_id)
        instance = Resource("AWS::Connect::Instance", instance_arn)
        try:
            result = self._explained(caller, instance_id, instance_arn)
        except (ServiceError, ConnectError) as exc:
            # A throttled call is counted (metrics) but not written down: under a flood the
            # quota must stay the cheap answer it is.
            if not isinstance(exc, Throttled):
                told = self._aws_error(exc)
                self._record(
                    caller, instance_id, (instance,), failure=Failure(told.code, told.message)
                )
            raise
        user = Resource("AWS::Connect::User", result.user_arn)
        self._record(
            caller,
            instance_id,
            (instance, user),
            response={"UserArn": result.user_arn, "UserId": result.user_id},
        )
        return result

    def _record(
        self,
        caller: Principal,
        instance_id: str,
        resources: tuple[Resource, ...],
        failure: Failure | None = None,
        response: dict[str, Any] | None = None,
    ) -> None:
        self._audit.record(
            AuditEvent(
                EventName.GET_FEDERATION_TOKEN,
                EventSource.CONNECT,
                actor_of(caller),
                account_id=caller.account_id,
                resources=resources,
                failure=failure,
                parameters={"InstanceId": instance_id},
                response=response,
            )
        )

    def _explained(self, caller: Principal, instance_id: str, instance_arn: str) -> FederationToken:
        """GetFederationToken, step by step: a refusal is explained under the request id."""
        diagnosis = Diagnosis("connect:GetFederationToken", caller.arn, caller.origin.request_id)
        try:
            return self._federate(caller, instance_id, instance_arn, diagnosis)
        except (ServiceError, ConnectError) as error:
            told = self._aws_error(error)
            if not diagnosis.has_failed:
                diagnosis.failed("unexpected", told.message, error)
            explanation = diagnosis.explanation(self._authz.now(), told.code)
            if explanation is not None:
                self._authz.record(explanation)
            raise

    def _federate(
        self, caller: Principal, instance_id: str, instance_arn: str, diagnosis: Diagnosis
    ) -> FederationToken:
        try:
            self._throttle.take((caller.account_id, self._settings.region))
        except Throttled as throttled:
            raise diagnosis.failed(
                "throttle",
                f"over {self._settings.throttle_rate:g} requests/s (burst "
                f"{self._settings.throttle_burst}) for account {caller.account_id} in "
                f"{self._settings.region}",
                throttled,
            ) from None
        diagnosis.passed("throttle", "within the GetFederationToken rate")
        if caller.is_root:
            raise diagnosis.failed(
                "caller",
                "root credentials cannot federate; use a role session or IAM user",
                InvalidRequest(
                    f"Provided identity: Principal: {caller.arn} User: {caller.user_id} cannot "
                    "be used for federation with Amazon Connect"
                ),
            )
        diagnosis.passed("caller", f"{caller.kind} {caller.arn}")
        action = "connect:GetFederationToken"
        resource = arns.connect_resource(instance_arn, FEDERATION_USER, caller.user_id)
        # The instance's tags are its aws:ResourceTag/<key> (the Service Authorization
        # Reference's resource type for this action is the instance); it is looked up
        # before the decision (cached), but "not found" is said only after it.
        found = self._instances.find(caller, instance_id)
        context: dict[str, ContextValue] = {"connect:InstanceId": instance_id}
        if found is not None and found.tags:
            context.update(resource_context(found.tags))
        if self._authz.decide(caller, action, resource, context) is not Decision.ALLOW:
            evaluation = self._authz.explain(caller, action, resource, context)
            raise diagnosis.failed(
                "authorize",
                summarize(evaluation),
                self._authz.denial(caller, action, resource),
                evaluation,
            )
        diagnosis.passed("authorize", f"{action} allowed on {resource}")
        if found is None:
            raise diagnosis.failed(
                "instance",
                f"no instance {instance_id} in account {caller.account_id}, "
                f"Region {self._settings.region}",
                ResourceNotFound(ResourceKind.INSTANCE, instance_id),
            )
        instance = found
        if instance.identity_management_type != "SAML":
            raise diagnosis.failed(
                "instance",
                f"instance {instance_id} uses {instance.identity_management_type} "
                "identity management; GetFederationToken works for SAML instances only",
                InvalidRequest(
                    f"Instance {instance_id} does not use SAML 2.0-based authentication; "
                    "GetFederationToken supports SAML instances only."
                ),
            )
        diagnosis.passed("instance", f"SAML instance {instance.alias or instance_id}")
        username = self._username(caller)
        user = self._instances.user_named(instance_id, username)  # cached once found
        if user is not None and not self._known_bound(instance_id, user, caller):
            # A binding is about to be written on the user's behalf: it must exist now, not
            # as remembered (a binding written for a user deleted meanwhile would be left
            # behind, and pass to a user created again under its id by a declared world).
            user = self._instances.user_named(instance_id, username, fresh=True)
        if user is None:
            names = [u.username for u in self._store.list_connect_users(instance_id, None, 1000)]
            raise diagnosis.failed(
                "user",
                f"no Connect user named {username!r} in instance {instance_id}",
                ConnectUserNotFound(),
                hints=username_hints(username, names, from_session=caller.is_temporary),
            )
        diagnosis.passed("user", f"Connect user {username} ({user.user_id})")
        self._bind(instance_id, user, caller, username, diagnosis)
        try:
            return self._issue(caller, instance_id, user)
        except ServiceError as expired:
            raise diagnosis.failed(
                "issue", "the caller's session ended before tokens were issued", expired
            ) from None

    def _issue(self, caller: Principal, instance_id: str, user: ConnectUser) -> FederationToken:
        try:
            issued = self._sessions.issue(
                instance_id=instance_id,
                user_id=user.user_id,
                session_key_id=caller.access_key_id,
                role_arn=caller.role_arn or caller.arn,
                session_expiration=caller.session_expiration,
            )
        except TokenRejected:  # the caller's session ended since its signature was checked
            raise ExpiredToken() from None
        return FederationToken(
            issued.access,
            issued.refresh,
            f"{self._settings.public_url}/connect/{instance_id}/auth/sign-in"
            f"?code={issued.signin_code.token}",
            user.arn,
            user.user_id,
        )

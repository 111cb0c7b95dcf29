"""GetFederationToken: an authenticated principal becomes tokens for its Connect user.

Steps (AWS-BEHAVIOUR.md, "GetFederationToken"): throttle per account and Region; refuse root;
authorise ``connect:GetFederationToken`` on ``instance/<id>/user/${aws:userid}`` with the
``connect:InstanceId`` condition key; find the SAML instance; map the caller to a username (the
role session name, exactly; an IAM user's name); bind the caller's role to the user (one role per
user unless configured otherwise); issue a token family (access token, refresh token and the
SignInUrl's single-use code) through :class:`~connectfed.connect.agent_sessions.AgentSessions`,
whose tokens never outlast the caller's session.
"""

from __future__ import annotations

from typing import Any

from connectfed.cache import TtlCache
from connectfed.clock import Clock
from connectfed.connect.agent_sessions import AgentSessions
from connectfed.connect.instances import InstanceService
from connectfed.connect.throttle import make_throttle
from connectfed.errors import ExpiredToken, client_error
from connectfed.identity.authorize import Authorizer
from connectfed.identity.principal import Principal
from connectfed.settings import Settings
from connectfed.store import Store
from connectfed.store.records import ConnectUser, RoleBinding
from connectfed.tokens import TokenRejected


class FederationService:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        authz: Authorizer,
        instances: InstanceService,
        sessions: AgentSessions,
        settings: Settings,
    ) -> None:
        self._store = store
        self._clock = clock
        self._authz = authz
        self._instances = instances
        self._sessions = sessions
        self._settings = settings
        self._throttle = make_throttle(store, clock, settings.throttle_rate,
                                       settings.throttle_burst, shared=settings.throttle_shared)
        # Bindings only grow while a user exists, so a known one may be remembered.
        self._bound: TtlCache[bool] = TtlCache(settings.cache_ttl_seconds, clock.monotonic)

    def _username(self, caller: Principal) -> str:
        if caller.kind == "assumed-role":
            assert caller.session_name is not None
            return caller.session_name
        return caller.name  # IAM user: its user name (our documented choice)

    def _bind(self, instance_id: str, user: ConnectUser, caller: Principal, username: str) -> None:
        # Bound by the caller's unique id (AROA… role id, AIDA… user id), not its ARN: a role
        # recreated under the same name is another principal and inherits no binding.
        role_arn = caller.role_arn or caller.arn
        role_id = caller.role_id or caller.user_id
        key = (instance_id, user.user_id, role_id)

        def load() -> bool:
            return any(
                b.role_id == role_id
                for b in self._store.list_role_bindings(instance_id, user.user_id)
            )

        if self._bound.get(key, load):
            return
        binding = RoleBinding(
            instance_id, user.user_id, role_arn, role_id, self._clock.now().timestamp()
        )
        if not self._store.bind_role(
            binding, allow_many=self._settings.allow_multiple_roles_per_user
        ):
            raise client_error(
                "DuplicateResourceException",
                f"The user {username} is already associated with the Amazon Connect instance "
                f"{instance_id}",
                409,
            )
        self._bound.invalidate(key)

    def federate(self, caller: Principal, instance_id: str) -> dict[str, Any]:
        self._throttle.take((caller.account_id, self._settings.region))
        if caller.is_root:
            raise client_error(
                "InvalidRequestException",
                f"Provided identity: Principal: {caller.arn} User: {caller.user_id} cannot be "
                "used for federation with Amazon Connect",
            )
        instance_arn = self._instances.instance_arn(caller.account_id, instance_id)
        self._authz.require(
            caller,
            "connect:GetFederationToken",
            f"{instance_arn}/user/{caller.user_id}",
            {"connect:InstanceId": instance_id},
        )
        instance = self._instances.lookup(caller, instance_id)
        if instance.identity_management_type != "SAML":
            raise client_error(
                "InvalidRequestException",
                f"Instance {instance_id} does not use SAML 2.0-based authentication; "
                "GetFederationToken supports SAML instances only.",
            )
        username = self._username(caller)
        user = self._store.find_connect_user(instance_id, username)
        if user is None:
            raise client_error(
                "UserNotFoundException",
                "No user with the specified credentials was found in the Amazon Connect instance.",
                404,
            )
        self._bind(instance_id, user, caller, username)
        return self._issue(caller, instance_id, user)

    def _issue(self, caller: Principal, instance_id: str, user: ConnectUser) -> dict[str, Any]:
        try:
            issued = self._sessions.issue(
                instance_id=instance_id, user_id=user.user_id,
                session_key_id=caller.access_key_id, role_arn=caller.role_arn or caller.arn,
                session_expiration=caller.session_expiration)
        except TokenRejected:  # the caller's session ended since its signature was checked
            raise ExpiredToken() from None
        return {
            "Credentials": {
                "AccessToken": issued.access.token,
                "AccessTokenExpiration": issued.access.expires,
                "RefreshToken": issued.refresh.token,
                "RefreshTokenExpiration": issued.refresh.expires,
            },
            # A single-use code (5 minutes) that signs a browser into the instance.
            "SignInUrl": f"{self._settings.public_url}/connect/{instance_id}/auth/sign-in"
                         f"?code={issued.signin_code.token}",
            "UserArn": user.arn,
            "UserId": user.user_id,
        }

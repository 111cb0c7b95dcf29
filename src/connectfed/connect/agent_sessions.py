"""Agent sessions: Connect tokens composed with the identity they stand for.

A token family (see :mod:`connectfed.tokens`) is issued to one Connect user from one IAM
session (or IAM user key) through one bound role. A token of it proves something only while all
of that still holds: the Connect user exists, the role is still bound to it, the STS session
is neither revoked nor expired and its role still exists (the same role: a role deleted and
created again under the same name has a new id, and its old sessions stay dead), the IAM user's
key is still active. When any of it is gone the family is revoked on the spot, and the caller
gets :class:`~connectfed.tokens.TokenRejected` with ``EXPIRED`` — Amazon Connect Streams treats
every such failure as an expired session (HTTP 401 → sign in again).

Entry points: GetFederationToken (:meth:`AgentSessions.issue`), the CTI API's bearer token
(:meth:`authenticate`) and ``GetNewAuthToken`` (:meth:`refresh`), and the browser: the
SignInUrl code and the credentials form post become a session (:meth:`sign_in_with_code`,
:meth:`sign_in_with_tokens`), kept alive by ``/auth/authorize`` (:meth:`authorize_browser`) and
ended by sign-out (:meth:`sign_out`) or by the browser signing in again (:meth:`replace`).
Knows nothing of HTTP.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from connectfed.audit.actors import session_actor
from connectfed.audit.events import (
    UNKNOWN_ACTOR,
    AuditEvent,
    EventName,
    EventSource,
    EventType,
    Failure,
    Resource,
)
from connectfed.audit.log import DISCARD, AuditLog
from connectfed.clock import Clock
from connectfed.settings import Settings
from connectfed.store import Store
from connectfed.store.records import TokenFamily
from connectfed.tokens import (
    FamilyOwner,
    IssuedTokens,
    MintedToken,
    RejectReason,
    TokenGrant,
    TokenKind,
    TokenRejected,
    TokenService,
)

SIGNIN_CODE_SECONDS = 300
_SESSION_OVER = (RejectReason.EXPIRED, RejectReason.REVOKED, RejectReason.REUSED)


@dataclass(frozen=True, slots=True)
class FederationTokens:
    """What GetFederationToken hands out: one new family."""

    family_id: str
    access: MintedToken
    refresh: MintedToken
    signin_code: MintedToken  # the single-use code of the SignInUrl


@dataclass(frozen=True, slots=True)
class BrowserSession:
    """A browser signed in to one instance as one user (the session cookie's token)."""

    token: str
    expires: datetime
    instance_id: str
    user_id: str
    family_id: str

    def __repr__(self) -> str:
        return (
            f"BrowserSession(instance_id={self.instance_id!r}, user_id={self.user_id!r}, "
            f"expires={self.expires.isoformat()})"
        )


@dataclass(frozen=True, slots=True)
class IssuedAccess:
    """Fresh tokens for a signed-in browser (``/auth/authorize``)."""

    access_token: str
    access_expires: datetime
    refresh_token: str
    refresh_expires: datetime
    family_id: str
    instance_id: str
    user_id: str

    def __repr__(self) -> str:
        return (
            f"IssuedAccess(instance_id={self.instance_id!r}, user_id={self.user_id!r}, "
            f"access_expires={self.access_expires.isoformat()})"
        )


def _expired(exc: TokenRejected) -> TokenRejected:
    """Every way a once-good session ends looks like expiry to the client (Streams)."""
    if exc.reason in _SESSION_OVER:
        return TokenRejected(RejectReason.EXPIRED, str(exc))
    return exc


class AgentSessions:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        tokens: TokenService,
        settings: Settings,
        audit: AuditLog = DISCARD,
        on_ended: Callable[[str, str], None] | None = None,
    ) -> None:
        """``on_ended(instance_id, user_id)`` is told when a browser ends a session of the user
        (sign-out, or signing in again over it), for the user's waiting long polls to check
        theirs at once (:meth:`AgentService.session_ended`)."""
        self._on_ended = on_ended
        self._audit = audit
        self._store = store
        self._clock = clock
        self._tokens = tokens
        self._access = timedelta(seconds=settings.access_token_seconds)
        self._refresh = timedelta(seconds=settings.refresh_token_seconds)
        self._federation = {  # what GetFederationToken mints, each capped at the horizon
            TokenKind.ACCESS: self._access,
            TokenKind.REFRESH: self._refresh,
            TokenKind.SIGNIN: timedelta(seconds=SIGNIN_CODE_SECONDS),
        }

    # -- GetFederationToken ---------------------------------------------------------------------
    def issue(
        self,
        *,
        instance_id: str,
        user_id: str,
        session_key_id: str | None,
        role_arn: str | None,
        session_expiration: datetime | None,
    ) -> FederationTokens:
        """A new family for the user: access, refresh and a sign-in code, none of which outlives
        the refresh horizon nor the caller's IAM session."""
        now = self._clock.now().replace(microsecond=0)
        horizon = now + self._refresh
        if session_expiration is not None:
            horizon = min(horizon, session_expiration)
        family = self._tokens.open_family(
            FamilyOwner(instance_id, user_id, session_key_id, role_arn), horizon, self._federation
        )
        return FederationTokens(
            family.family_id,
            family.tokens[TokenKind.ACCESS],
            family.tokens[TokenKind.REFRESH],
            family.tokens[TokenKind.SIGNIN],
        )

    # -- the CTI API ------------------------------------------------------------------------------
    def authenticate(self, access_token: str, instance_id: str | None = None) -> TokenGrant:
        """The grant of a live access token whose user, role and session still exist."""
        try:
            grant = self._tokens.verify(access_token, TokenKind.ACCESS, instance_id)
        except TokenRejected as exc:
            raise _expired(exc) from None
        self._ensure_alive(grant)
        return grant

    def confirm(self, grant: TokenGrant) -> None:
        """Raise ``EXPIRED`` when the session ``grant`` came from has ended since the grant was
        checked (signed out, past its horizon, the token expired, the identity gone): for a
        call that waited (GetAgentSnapshot's long poll), before it answers."""
        if self.over(grant):
            raise TokenRejected(RejectReason.EXPIRED, "the session has ended")
        self._ensure_alive(grant)

    def over(self, grant: TokenGrant) -> bool:
        """Whether the session ``grant`` came from has ended by its tokens alone (signed out or
        otherwise revoked, past its horizon, the token expired): one read of its family, for a
        long poll to check while it waits; :meth:`confirm` checks the identity behind it too."""
        now = self._clock.now()
        family = self._store.get_token_family(grant.family_id)
        return (
            family is None
            or family.revoked is not None
            or family.expires <= now.timestamp()
            or grant.expires <= now
        )

    def refresh(self, refresh_token: str) -> IssuedTokens:
        """Rotate a refresh token (CTI ``GetNewAuthToken``): a new access and refresh token; a
        refresh token presented again after its rotation revokes the family and is refused
        with ``REUSED``; any other end of the session is ``EXPIRED``."""
        try:
            issued = self._tokens.rotate(refresh_token, self._access)
        except TokenRejected as exc:
            if exc.reason is RejectReason.REUSED:
                raise
            raise _expired(exc) from None
        try:
            grant = self._tokens.verify(issued.access_token, TokenKind.ACCESS)
        except TokenRejected as exc:  # revoked between the rotation and now
            raise _expired(exc) from None
        self._ensure_alive(grant)
        return issued

    # -- the browser ------------------------------------------------------------------------------
    def sign_in_with_code(self, instance_id: str, code: str) -> BrowserSession:
        """Spend a SignInUrl code (single use) for a browser session in its family."""
        return self._audited(
            "SignInUrl", instance_id, lambda: self._sign_in_with_code(instance_id, code)
        )

    def sign_in_with_tokens(
        self, instance_id: str, access_token: str, refresh_token: str | None = None
    ) -> BrowserSession:
        """The documented form post of GetFederationToken's credentials: the access token must
        be live and for this instance; a refresh token, when given, must be a live one of the
        same family. Neither is spent: the browser session joins their family."""
        return self._audited(
            "Credentials",
            instance_id,
            lambda: self._sign_in_with_tokens(instance_id, access_token, refresh_token),
        )

    def _audited(
        self, method: str, instance_id: str, sign_in: Callable[[], BrowserSession]
    ) -> BrowserSession:
        """Run a sign-in, recording it (``SignIn``, connect.amazonaws.com) either way."""
        try:
            session = sign_in()
        except TokenRejected as exc:
            self._audit.record(self._sign_in_event(method, instance_id, None, str(exc)))
            raise
        self._audit.record(self._sign_in_event(method, instance_id, session, None))
        return session

    def _sign_in_event(
        self, method: str, instance_id: str, session: BrowserSession | None, failure: str | None
    ) -> AuditEvent:
        instance = self._store.get_instance(instance_id)
        resources: list[Resource] = []
        if instance is not None:
            resources.append(Resource("AWS::Connect::Instance", instance.arn))
        actor, username = UNKNOWN_ACTOR, None
        if session is not None:
            user = self._store.get_connect_user(instance_id, session.user_id)
            family = self._store.get_token_family(session.family_id)
            username = user.username if user is not None else None
            if user is not None:
                resources.append(Resource("AWS::Connect::User", user.arn))
            if family is not None:
                actor = session_actor(
                    instance.account_id if instance else None,
                    family.session_key_id,
                    family.role_arn,
                    username,
                )
        return AuditEvent(
            EventName.SIGN_IN,
            EventSource.CONNECT,
            actor,
            account_id=instance.account_id if instance is not None else None,
            username=username,
            resources=tuple(resources),
            failure=None if failure is None else Failure("Unauthorized", failure),
            event_type=EventType.CONSOLE_SIGN_IN,
            parameters={"InstanceId": instance_id},
            response={"SignIn": "Success" if failure is None else "Failure"},
            additional={"Method": method},
        )

    def _sign_in_with_code(self, instance_id: str, code: str) -> BrowserSession:
        try:
            grant = self._tokens.spend(code, TokenKind.SIGNIN, instance_id)
        except TokenRejected as exc:
            raise _expired(exc) from None
        self._ensure_alive(grant)
        return self._open_browser_session(grant)

    def _sign_in_with_tokens(
        self, instance_id: str, access_token: str, refresh_token: str | None
    ) -> BrowserSession:
        grant = self.authenticate(access_token, instance_id)
        if refresh_token:
            try:
                other = self._tokens.verify(refresh_token, TokenKind.REFRESH, instance_id)
            except TokenRejected as exc:
                raise _expired(exc) from None
            if other.family_id != grant.family_id:
                raise TokenRejected(
                    RejectReason.INVALID, "the refresh token was not issued with the access token"
                )
        return self._open_browser_session(grant)

    def browser_session(self, session_cookie: str, instance_id: str | None = None) -> TokenGrant:
        """The grant of a live browser session (optionally: in this instance)."""
        try:
            grant = self._tokens.verify(session_cookie, TokenKind.SESSION, instance_id)
        except TokenRejected as exc:
            raise _expired(exc) from None
        self._ensure_alive(grant)
        return grant

    def authorize_browser(self, session_cookie: str, instance_id: str | None) -> IssuedAccess:
        """Fresh access (and a refresh token) for a signed-in browser, as Streams' worker asks
        ``/auth/authorize`` for them; bounded by the session's horizon."""
        grant = self.browser_session(session_cookie, instance_id)
        now = self._clock.now()
        assert grant.horizon is not None
        try:
            minted = self._tokens.add(
                grant.family_id,
                {TokenKind.ACCESS: self._access, TokenKind.REFRESH: grant.horizon - now},
            )
        except TokenRejected as exc:
            raise _expired(exc) from None
        access, refresh = minted[TokenKind.ACCESS], minted[TokenKind.REFRESH]
        return IssuedAccess(
            access.token,
            access.expires,
            refresh.token,
            refresh.expires,
            grant.family_id,
            grant.instance_id,
            grant.user_id,
        )

    def sign_out(self, session_cookie: str) -> bool:
        """End the browser session's whole family; False when there was nothing to end."""
        return self._told_ended(self._tokens.revoke(session_cookie, TokenKind.SESSION, "sign-out"))

    def _told_ended(self, family: TokenFamily | None) -> bool:
        if family is not None and self._on_ended is not None:
            self._on_ended(family.instance_id, family.user_id)
        return family is not None

    def replace(self, old_cookie: str, new: BrowserSession) -> bool:
        """End the session a browser held before ``new`` took its cookie's place (it signed in
        again, perhaps as another user or in another instance): as a sign-out ends it, its
        whole family, unless the new session is of that family (the same credentials posted
        again), where the old cookie alone ends. A copy of the old cookie never works again.
        True when a family was ended."""
        if old_cookie == new.token:
            return False
        return self._told_ended(
            self._tokens.retire(
                old_cookie, TokenKind.SESSION, "signed-in-again", keep_family=new.family_id
            )
        )

    def _open_browser_session(self, grant: TokenGrant) -> BrowserSession:
        assert grant.horizon is not None
        try:
            minted = self._tokens.add(
                grant.family_id, {TokenKind.SESSION: grant.horizon - self._clock.now()}
            )
        except TokenRejected as exc:
            raise _expired(exc) from None
        session = minted[TokenKind.SESSION]
        return BrowserSession(
            session.token, session.expires, grant.instance_id, grant.user_id, grant.family_id
        )

    # -- does the identity behind the grant still exist? ------------------------------------------
    def _ensure_alive(self, grant: TokenGrant) -> None:
        reason = self._ended(grant)
        if reason is not None:
            self._tokens.revoke_family(grant.family_id, reason)
            raise TokenRejected(RejectReason.EXPIRED, "the session has ended")

    def _ended(self, grant: TokenGrant) -> str | None:
        if self._store.get_connect_user(grant.instance_id, grant.user_id) is None:
            return "user-deleted"
        # The principal behind the grant, by unique id (AROA… / AIDA…): a role or user deleted
        # and recreated under the same name is another principal, bound or not.
        principal_id: str | None = None
        key = grant.session_key_id
        if key is not None and key.startswith("ASIA"):
            session = self._store.get_session(key)
            if session is None or session.revoked:
                return "session-ended"
            if session.expiration <= self._clock.now().timestamp():
                return "session-expired"
            if self._store.get_role_by_id(session.role_id) is None:
                return "role-deleted"
            principal_id = session.role_id
        elif key is not None:
            access_key = self._store.get_access_key(key)
            if access_key is None or access_key.status != "Active":
                return "access-key-inactive"
            if (
                access_key.user_id is not None
                and self._store.get_user_by_id(access_key.user_id) is None
            ):
                return "user-deleted"
            principal_id = access_key.user_id
        if grant.role_arn is not None and all(
            binding.role_id != principal_id
            if principal_id is not None
            else binding.role_arn != grant.role_arn
            for binding in self._store.list_role_bindings(grant.instance_id, grant.user_id)
        ):
            return "role-unbound"
        return None

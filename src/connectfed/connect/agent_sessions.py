"""Agent sessions: access-token authentication, refresh, browser authorisation, sign-out.

# TEMP until merge of branch connectdata/tokens: a minimal stand-in for the real AgentSessions
# and the tokens/ types (ISSUE7-DESIGN.md), on the pre-issue-7 token rows, only so the CTI
# branch's tests run; replace wholesale.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from connectfed.clock import Clock
from connectfed.store import Store
from connectfed.store.records import Token
from connectfed.tokens import TokenMinter


class TokenKind(enum.Enum):
    ACCESS = "access"
    REFRESH = "refresh"
    SIGNIN = "signin"
    CONSOLE = "console"
    SESSION = "session"


class RejectReason(enum.Enum):
    INVALID = "invalid"
    EXPIRED = "expired"
    REVOKED = "revoked"
    WRONG_KIND = "wrong_kind"
    WRONG_INSTANCE = "wrong_instance"
    REUSED = "reused"


class TokenRejected(Exception):
    def __init__(self, reason: RejectReason) -> None:
        super().__init__(reason.value)
        self.reason = reason


@dataclass(frozen=True)
class TokenGrant:
    kind: TokenKind
    family_id: str
    instance_id: str
    user_id: str
    session_key_id: str | None
    expires: datetime
    issued: datetime


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    access_expires: datetime
    refresh_token: str
    refresh_expires: datetime
    family_id: str


@dataclass(frozen=True)
class IssuedAccess:
    access_token: str
    access_expires: datetime


class AgentSessions:
    def __init__(self, store: Store, clock: Clock, minter: TokenMinter,
                 access_seconds: int) -> None:
        self._store, self._clock, self._minter = store, clock, minter
        self._access_seconds = access_seconds

    def _grant(self, token: str, kind: str, instance_id: str | None) -> Token:
        found = self._store.get_token(self._minter.digest(token)) if token else None
        if found is None:
            raise TokenRejected(RejectReason.INVALID)
        if found.kind != kind:
            raise TokenRejected(RejectReason.WRONG_KIND)
        if found.revoked or found.expires <= self._clock.now().timestamp() \
                or self._store.get_connect_user(found.instance_id, found.user_id) is None:
            raise TokenRejected(RejectReason.EXPIRED)
        if instance_id is not None and found.instance_id != instance_id:
            raise TokenRejected(RejectReason.WRONG_INSTANCE)
        return found

    def authenticate(self, access_token: str, instance_id: str | None = None) -> TokenGrant:
        row = self._grant(access_token, "access", instance_id)
        return TokenGrant(TokenKind.ACCESS, row.family_id, row.instance_id, row.user_id,
                          row.session_key_id, datetime.fromtimestamp(row.expires, UTC),
                          datetime.fromtimestamp(row.created, UTC))

    def refresh(self, refresh_token: str) -> IssuedTokens:
        row = self._grant(refresh_token, "refresh", None)
        now = self._clock.now()
        spent = self._store.consume_token(row.token_hash, "refresh", now.timestamp())
        if spent is None:
            raise TokenRejected(RejectReason.REUSED)
        access, access_hash = self._minter.mint("access")
        fresh, fresh_hash = self._minter.mint("refresh")
        expires = min(now + timedelta(seconds=self._access_seconds),
                      datetime.fromtimestamp(row.expires, UTC))
        self._store.insert_tokens([
            Token(access_hash, "access", row.family_id, row.instance_id, row.user_id,
                  row.session_key_id, now.timestamp(), expires.timestamp()),
            Token(fresh_hash, "refresh", row.family_id, row.instance_id, row.user_id,
                  row.session_key_id, now.timestamp(), row.expires)])
        return IssuedTokens(access, expires, fresh, datetime.fromtimestamp(row.expires, UTC),
                            row.family_id)

    def authorize_browser(self, session_cookie: str, instance_id: str | None) -> IssuedAccess:
        grant = self.authenticate(session_cookie, instance_id)  # the cookie is an access token
        return IssuedAccess(session_cookie, grant.expires)

    def sign_out(self, session_cookie: str) -> None:
        return None

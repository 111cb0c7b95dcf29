"""The typed values of the token lifecycle: kinds, what a verified token proves, what was issued,
and why a token was refused. Knows nothing of HTTP, the wire or the store."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class TokenKind(enum.Enum):
    """Each kind has its own prefix, so one kind can never be presented as another."""

    ACCESS = "access"  # bearer token for the CTI API (GetFederationToken's AccessToken)
    REFRESH = "refresh"  # rotates on every use (RFC 9700 §4.14.2)
    SIGNIN = "signin"  # the single-use code of a SignInUrl
    CONSOLE = "console"  # a browser's role session after SAML sign-in (what the console holds)
    SESSION = "session"  # a browser's session in one instance as one user (the session cookie)

    @property
    def prefix(self) -> str:
        return PREFIXES[self]


PREFIXES = {
    TokenKind.ACCESS: "cfa_",
    TokenKind.REFRESH: "cfr_",
    TokenKind.SIGNIN: "cfs_",
    TokenKind.CONSOLE: "cfc_",
    TokenKind.SESSION: "cfb_",
}


class RejectReason(enum.Enum):
    INVALID = "invalid"  # unknown, malformed, or made with a key this server never had
    EXPIRED = "expired"  # past its expiry or its family's horizon
    REVOKED = "revoked"  # its family was revoked (sign-out, reuse, user or role gone)
    WRONG_KIND = "wrong_kind"
    WRONG_INSTANCE = "wrong_instance"
    REUSED = "reused"  # a single-use token spent before, or a refresh token already rotated


class TokenRejected(Exception):
    """A presented token proves nothing. ``reason`` is for the caller's mapping (Streams treats
    every rejection of a once-good token as an expired session); the message never holds the
    token."""

    def __init__(self, reason: RejectReason, message: str = "") -> None:
        super().__init__(message or f"token rejected: {reason.value}")
        self.reason = reason


@dataclass(frozen=True, slots=True)
class FamilyOwner:
    """Whom a new token family is for."""

    instance_id: str  # "" for a console session
    user_id: str  # the Connect user id ("" for a console session)
    session_key_id: str | None  # the STS/IAM access key the grant came from
    role_arn: str | None  # the role (or IAM user) ARN bound to the Connect user


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """What a verified token proves."""

    kind: TokenKind
    family_id: str
    instance_id: str
    user_id: str
    session_key_id: str | None
    expires: datetime
    issued: datetime
    role_arn: str | None = None
    horizon: datetime | None = None  # the family's: no token of it outlives this


@dataclass(frozen=True, slots=True)
class MintedToken:
    kind: TokenKind
    token: str
    expires: datetime

    def __repr__(self) -> str:  # never show the token itself
        return f"MintedToken({self.kind.name}, expires={self.expires.isoformat()})"


@dataclass(frozen=True, slots=True)
class MintedFamily:
    family_id: str
    horizon: datetime
    tokens: dict[TokenKind, MintedToken]


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    """An access token and the refresh token that replaces it (GetFederationToken, refresh)."""

    access_token: str
    access_expires: datetime
    refresh_token: str
    refresh_expires: datetime
    family_id: str

    def __repr__(self) -> str:
        return (
            f"IssuedTokens(family_id={self.family_id!r}, access_expires="
            f"{self.access_expires.isoformat()}, refresh_expires="
            f"{self.refresh_expires.isoformat()})"
        )

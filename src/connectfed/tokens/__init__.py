"""Connect tokens: one home for their whole lifecycle.

Minting (256 bits, a prefix per kind), keyed-hash storage with rotating server keys,
verification by kind, expiry, single use, refresh rotation with reuse detection, family
revocation and garbage collection (:class:`TokenService`); the typed values in ``model``.
Used by GetFederationToken, the browser sign-in and session endpoints and the CTI API (through
:class:`connectfed.connect.agent_sessions.AgentSessions`). Knows nothing of HTTP or the wire.
"""

from __future__ import annotations

from connectfed.tokens.keys import KeyRing, TokenKey, TokenKeys
from connectfed.tokens.model import (
    FamilyOwner,
    IssuedTokens,
    MintedFamily,
    MintedToken,
    RejectReason,
    TokenGrant,
    TokenKind,
    TokenRejected,
)
from connectfed.tokens.service import TokenService

__all__ = [
    "FamilyOwner",
    "IssuedTokens",
    "KeyRing",
    "MintedFamily",
    "MintedToken",
    "RejectReason",
    "TokenGrant",
    "TokenKey",
    "TokenKeys",
    "TokenKind",
    "TokenRejected",
    "TokenService",
]

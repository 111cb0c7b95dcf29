"""Connect tokens: minting with type prefixes, keyed hashing for storage and lookup.

A token is ``<prefix><43 url-safe chars>`` (256 bits from :mod:`secrets`); the prefix names its
kind so one kind can never be used as another. Only ``HMAC-SHA256(server key, token)`` is stored.
Knows nothing of HTTP or the wire.
"""

from __future__ import annotations

import hmac
import secrets

# "console": the browser's role session after SAML sign-in (what the AWS console holds).
PREFIXES = {"access": "cfa_", "refresh": "cfr_", "signin": "cfs_", "console": "cfc_"}
ENTROPY_BYTES = 32


class TokenMinter:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def mint(self, kind: str) -> tuple[str, str]:
        """A new token of ``kind`` and the hash to store for it."""
        token = PREFIXES[kind] + secrets.token_urlsafe(ENTROPY_BYTES)
        return token, self.digest(token)

    def digest(self, token: str) -> str:
        return hmac.digest(self._key, token.encode(), "sha256").hex()

    @staticmethod
    def kind_of(token: str) -> str | None:
        for kind, prefix in PREFIXES.items():
            if token.startswith(prefix):
                return kind
        return None

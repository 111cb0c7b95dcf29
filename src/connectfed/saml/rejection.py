"""Why a SAML response was refused."""

from __future__ import annotations


class AssertionRejected(ValueError):
    """The response is not acceptable; ``reason`` is a short machine-readable kind.

    Kinds callers act on: ``not_saml`` (not a SAML 2.0 Response at all), ``no_key`` (encrypted
    but the provider has no private key), ``expired``. ``detail`` may hold more for the
    operator's log when the message is deliberately uniform (decryption failures).
    """

    def __init__(self, message: str, reason: str = "invalid", detail: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.detail = detail

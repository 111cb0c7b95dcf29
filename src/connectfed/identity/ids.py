"""Identifiers shaped like AWS's: unique ids (``AIDA…``, ``AROA…``), access keys, secrets."""

from __future__ import annotations

import base64
import secrets
import string


def _chars(count: int) -> str:
    """``count`` random characters of ``[A-Z2-7]``: base32 of fresh random bytes, whose
    alphabet is exactly that, 5 uniform bits a character (as ``secrets.choice`` over it gave,
    from one read of the system's random source instead of one per character)."""
    return base64.b32encode(secrets.token_bytes((count * 5 + 7) // 8)).decode()[:count]


def user_unique_id() -> str:
    return "AIDA" + _chars(17)


def role_unique_id() -> str:
    return "AROA" + _chars(17)


def long_term_access_key_id() -> str:
    return "AKIA" + _chars(16)


def temporary_access_key_id() -> str:
    return "ASIA" + _chars(16)


def secret_access_key() -> str:
    return base64.b64encode(secrets.token_bytes(30)).decode()  # 40 characters


def session_token() -> str:
    return "IQoJb3JpZ2luX2Vj" + base64.b64encode(secrets.token_bytes(256)).decode()


def account_id() -> str:
    return "".join(secrets.choice(string.digits) for _ in range(12)).replace("0", "1", 1)

"""Identifiers shaped like AWS's: unique ids (``AIDA…``, ``AROA…``), access keys, secrets."""

from __future__ import annotations

import base64
import secrets
import string

_UPPER_DIGITS = string.ascii_uppercase + "234567"


def _chars(count: int) -> str:
    return "".join(secrets.choice(_UPPER_DIGITS) for _ in range(count))


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

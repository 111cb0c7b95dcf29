"""The browser's cookies: their names and attributes, in one place.

The session cookie names one instance and one user (a ``session`` token, ``cfb_…``, whose family
carries both). It is HTTP-only and sent with ``Path=/`` because Streams' worker asks for fresh
access at ``<public-url>/auth/authorize``, outside the instance's path. Served over HTTPS it is
``SameSite=None; Secure``: the CCP runs in an iframe of the agent's own application, a third-party
context in which only such cookies are sent. Over plain HTTP (local use) ``SameSite=Lax``.
"""

from __future__ import annotations

from datetime import datetime

SESSION_COOKIE = "connectfed_session"
CONSOLE_COOKIE = "connectfed_console"


def _attributes(path: str, secure: bool) -> str:
    same_site = "SameSite=None; Secure" if secure else "SameSite=Lax"
    return f"Path={path}; HttpOnly; {same_site}"


def max_age(expires: datetime, now: datetime) -> int:
    return max(0, int((expires - now).total_seconds()))


def session_cookie(token: str, seconds: int, secure: bool) -> str:
    return f"{SESSION_COOKIE}={token}; {_attributes('/', secure)}; Max-Age={seconds}"


def clear_session_cookie(secure: bool) -> str:
    return f"{SESSION_COOKIE}=; {_attributes('/', secure)}; Max-Age=0"


def console_cookie(token: str, seconds: int, secure: bool) -> str:
    """The browser's role session after SAML sign-in, for ``/connect/federate/<id>`` only: a
    top-level navigation, so ``SameSite=Lax`` whatever the scheme."""
    return (
        f"{CONSOLE_COOKIE}={token}; Path=/connect/; HttpOnly; SameSite=Lax; "
        f"Max-Age={seconds}" + ("; Secure" if secure else "")
    )

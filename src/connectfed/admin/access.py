"""Who may use the admin API: on or off, and with or without a bearer token.

The API moves the clock every expiry check reads and makes calls fail, so it is off unless asked
for (``--admin``, or implied by ``--demo``), and a server reachable from other machines (bound
to anything but loopback) needs a token for it: an explicit ``--admin`` without one refuses to
start; an implied one stays off. Requests then carry ``Authorization: Bearer <token>`` (RFC 6750
§2.1), compared in constant time.
"""

from __future__ import annotations

import hmac
import ipaddress
from dataclasses import dataclass, field


class AdminRefused(Exception):
    """The admin API was asked for where it cannot be opened safely."""


@dataclass(frozen=True, slots=True)
class AdminAccess:
    enabled: bool
    token: str | None = field(default=None, repr=False)
    reason: str = ""  # why it is off, for the start-up line


def is_loopback(host: str) -> bool:
    """True for a bind that only this machine reaches: ``localhost``, 127.0.0.0/8, ``::1``."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve to anything


def decide(*, requested: bool, implied: bool, host: str, token: str | None) -> AdminAccess:
    """The admin API's access for a server bound to ``host``. ``requested``: ``--admin``;
    ``implied``: a mode that turns it on by default (``--demo``)."""
    if not (requested or implied):
        return AdminAccess(False, reason="off (start with --admin to turn it on)")
    if token:
        return AdminAccess(True, token)
    if is_loopback(host):
        return AdminAccess(True)
    if requested:
        raise AdminRefused(
            f"--admin on a non-loopback bind ({host}) needs a token: --admin-token TOKEN or "
            "CONNECTFED_ADMIN_TOKEN"
        )
    return AdminAccess(False, reason=f"off: a non-loopback bind ({host}) without --admin-token")


def check_authorization(access: AdminAccess, header: str | None) -> int | None:
    """None when a request with this ``Authorization`` header may use the API; else the HTTP
    status to refuse it with (401: no bearer token; 403: a wrong one)."""
    if access.token is None:
        return None
    scheme, _, credentials = (header or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return 401
    if hmac.compare_digest(credentials.strip().encode(), access.token.encode()):
        return None
    return 403

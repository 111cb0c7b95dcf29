"""Testing against a real connectfed server: the pytest plugin (``connectfed.testing.plugin``,
loaded through the ``pytest11`` entry point) and what it is built of, usable without pytest
too: :class:`ServerProcess` starts a server, :class:`Connectfed` seeds it and hands out clients.
Documentation: docs/pytest-plugin.md.
"""

from __future__ import annotations

from connectfed.testing.admin import AdminError, Clock, ClockState, Faults
from connectfed.testing.handle import AWS_SIGNIN, Connectfed, Credentials
from connectfed.testing.server import (
    ACCOUNT_ID,
    REGION,
    ROOT_ACCESS_KEY_ID,
    ROOT_SECRET_ACCESS_KEY,
    ServerFailed,
    ServerProcess,
)

__all__ = [
    "ACCOUNT_ID",
    "AWS_SIGNIN",
    "REGION",
    "ROOT_ACCESS_KEY_ID",
    "ROOT_SECRET_ACCESS_KEY",
    "AdminError",
    "Clock",
    "ClockState",
    "Connectfed",
    "Credentials",
    "Faults",
    "ServerFailed",
    "ServerProcess",
]

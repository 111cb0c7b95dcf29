"""Testing against a real connectfed server: the pytest plugin (``connectfed.testing.plugin``,
loaded through the ``pytest11`` entry point) and what it is built of, usable without pytest
too: :class:`ServerProcess` starts a server, :class:`Connectfed` seeds it and hands out clients.
Documentation: docs/pytest-plugin.md.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from connectfed.testing.admin import AdminError, Clock, ClockState, Faults
    from connectfed.testing.handle import AWS_SIGNIN, Connectfed, Credentials
    from connectfed.testing.server import (
        ACCOUNT_ID,
        MASTER_KEY,
        REGION,
        ROOT_ACCESS_KEY_ID,
        ROOT_SECRET_ACCESS_KEY,
        ServerFailed,
        ServerProcess,
    )

# Loaded on first use: pytest imports the plugin (a submodule) in every run wherever connectfed
# is installed, and must not pay for the server's imports when no test asks for a fixture.
_HOMES = {
    "admin": ("AdminError", "Clock", "ClockState", "Faults"),
    "handle": ("AWS_SIGNIN", "Connectfed", "Credentials"),
    "server": (
        "ACCOUNT_ID",
        "MASTER_KEY",
        "REGION",
        "ROOT_ACCESS_KEY_ID",
        "ROOT_SECRET_ACCESS_KEY",
        "ServerFailed",
        "ServerProcess",
    ),
}


def __getattr__(name: str) -> Any:
    for module, names in _HOMES.items():
        if name in names:
            return getattr(import_module(f"connectfed.testing.{module}"), name)
    raise AttributeError(f"module 'connectfed.testing' has no attribute {name!r}")


__all__ = [
    "ACCOUNT_ID",
    "AWS_SIGNIN",
    "MASTER_KEY",
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

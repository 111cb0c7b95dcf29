"""Thin protocol handlers: each registers one operation and calls one domain service method.

Importing this package registers every handler in :data:`connectfed.wire.registry.REGISTRY`.
"""

from connectfed.api import connect, connect_agents, iam, sts

__all__ = ["connect", "connect_agents", "iam", "sts"]

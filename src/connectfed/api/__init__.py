"""Thin protocol handlers: each registers one operation and calls one domain service method.

Importing this package registers every handler in :data:`connectfed.wire.registry.REGISTRY`
(and the CTI handlers in :data:`connectfed.wire.json10.HANDLERS`).
"""

from connectfed.api import cloudtrail, connect, connect_agents, cti, iam, iam_simulate, sts

__all__ = ["cloudtrail", "connect", "connect_agents", "cti", "iam", "iam_simulate", "sts"]

"""Thin protocol handlers: each registers one operation and calls one domain service method.

Importing this package registers every handler in :data:`connectfed.wire.registry.REGISTRY`.
"""

from connectfed.api import connect, iam, sts

__all__ = ["connect", "iam", "sts"]

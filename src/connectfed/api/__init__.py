"""Thin protocol handlers: each registers one operation and calls one domain service method.

The ``*_shapes`` modules (``iam_shapes``, ``sts_shapes``, ``connect_shapes``, ``agent_shapes``,
``cti_shapes``) are the one place request members become typed values and the domain's typed
answers become the botocore model's output shapes; ``paging`` owns the NextToken; ``errors`` is
the one table of the AWS error codes and statuses of the domain's exceptions, applied to every
handler registered with :func:`connectfed.api.errors.operation`.

Importing this package registers every handler in :data:`connectfed.wire.registry.REGISTRY`
(and the CTI handlers in :data:`connectfed.wire.json10.HANDLERS`).
"""

from connectfed.api import cloudtrail, connect, connect_agents, cti, iam, iam_simulate, sts

__all__ = ["cloudtrail", "connect", "connect_agents", "cti", "iam", "iam_simulate", "sts"]

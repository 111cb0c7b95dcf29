"""Persistence: the :class:`~connectfed.store.protocol.Store` interface and its backends.

``records`` holds the frozen dataclasses every backend stores; ``protocol`` the interface;
``sql`` the one SQL implementation, with ``sqlite`` (embedded default) and ``postgres`` adapting
it to their drivers; ``schema`` the migrations; ``sealing`` the encryption of secrets at rest under
a master key kept outside the database. Backends import only the protocol, the records and
the schema; nothing here imports a domain package.
"""

from connectfed.store.protocol import (
    Conflict,
    InUse,
    LimitReached,
    NotFound,
    Store,
    Unavailable,
    open_store,
)
from connectfed.store.sealing import KeyFile, MasterKey, MasterKeyError, StaticKey

__all__ = [
    "Conflict",
    "InUse",
    "KeyFile",
    "LimitReached",
    "MasterKey",
    "MasterKeyError",
    "NotFound",
    "StaticKey",
    "Store",
    "Unavailable",
    "open_store",
]

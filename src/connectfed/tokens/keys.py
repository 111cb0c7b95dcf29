"""The server's token keys: tokens are stored as ``HMAC-SHA256(key, token)`` with the key's id.

Rotation without invalidating live tokens, as fosite does with its rotated global secrets: a
new key becomes current (every new token is hashed with it), the previous ones stay in the ring
for lookup until every token they could have hashed has expired, then they are dropped. The ring
lives in the store's meta table (``token_keys``), shared by every server on one database; each
server re-reads it within ``ttl`` seconds, and at once when a presented token is not found (a
token hashed with a key newer than its copy of the ring): one small read per unknown token,
next to the lookup that already missed.

The first key, ``k0``, is the server's original token key (meta ``token_hmac_key``), so tokens
issued before the ring existed stay valid.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from connectfed.clock import Clock
from connectfed.store import Store

if TYPE_CHECKING:
    from hashlib import _Hash

META_KEY = "token_keys"
LEGACY_META_KEY = "token_hmac_key"


_BLOCK = 64  # SHA-256's block size, in bytes (RFC 2104's B)


def _pads(secret: bytes) -> tuple[_Hash, _Hash]:
    """SHA-256 states that have absorbed ``K XOR ipad`` and ``K XOR opad`` (RFC 2104 §2)."""
    key = hashlib.sha256(secret).digest() if len(secret) > _BLOCK else secret
    key = key.ljust(_BLOCK, b"\0")
    return (
        hashlib.sha256(bytes(b ^ 0x36 for b in key)),
        hashlib.sha256(bytes(b ^ 0x5C for b in key)),
    )


@dataclass(frozen=True, slots=True)
class TokenKey:
    key_id: str
    secret: bytes
    retired: float | None = None  # when another key became current (epoch seconds)
    # The key's two padded blocks, hashed once (see digest); derived from the secret, so kept
    # out of repr and comparisons like it.
    _pads: tuple[_Hash, _Hash] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_pads", _pads(self.secret))

    def digest(self, token: str) -> str:
        """``HMAC-SHA256(secret, token)``, hex. Computed from the key's padded blocks hashed
        once (RFC 2104's own remark: the intermediate results may be precomputed), so each
        token costs two copies of a SHA-256 state and the hashing of the token: the same bytes
        as ``hmac.digest``, at a third of its cost in a server (OpenSSL's one-shot HMAC looks
        the digest up and sets the key up again on every call; measured in a federation,
        three tokens, ~38 → ~18 µs, issue 9)."""
        inner_pad, outer_pad = self._pads
        inner = inner_pad.copy()
        inner.update(token.encode())
        outer = outer_pad.copy()
        outer.update(inner.digest())
        return outer.hexdigest()

    def __repr__(self) -> str:
        return f"TokenKey({self.key_id!r}, retired={self.retired})"


@dataclass(frozen=True, slots=True)
class KeyRing:
    keys: tuple[TokenKey, ...]  # the current key first

    @property
    def current(self) -> TokenKey:
        return self.keys[0]

    def get(self, key_id: str) -> TokenKey | None:
        return next((k for k in self.keys if k.key_id == key_id), None)

    def rotated(self, now: float) -> KeyRing:
        number = 1 + max(int(k.key_id[1:]) for k in self.keys)
        fresh = TokenKey(f"k{number}", secrets.token_bytes(32))
        old = tuple(k if k.retired is not None else replace(k, retired=now) for k in self.keys)
        return KeyRing((fresh, *old))

    def without_retired_before(self, cutoff: float) -> KeyRing:
        kept = (
            self.current,
            *(k for k in self.keys[1:] if k.retired is None or k.retired > cutoff),
        )
        return KeyRing(kept)

    def to_json(self) -> str:
        return json.dumps(
            [{"id": k.key_id, "secret": k.secret.hex(), "retired": k.retired} for k in self.keys]
        )

    @staticmethod
    def from_json(text: str) -> KeyRing:
        return KeyRing(
            tuple(
                TokenKey(item["id"], bytes.fromhex(item["secret"]), item["retired"])
                for item in json.loads(text)
            )
        )


class TokenKeys:
    """The ring as this server sees it: cached, re-read on a miss, rotated through the store."""

    def __init__(self, store: Store, clock: Clock, ttl: float) -> None:
        self._store = store
        self._clock = clock
        self._ttl = ttl
        self._lock = threading.Lock()
        self._ring: KeyRing | None = None
        self._loaded = float("-inf")

    def ring(self) -> KeyRing:
        ring = self._ring
        if ring is not None and self._clock.monotonic() - self._loaded < self._ttl:
            return ring
        return self._reload()

    def reload_on_miss(self) -> bool:
        """Re-read the ring after a token was not found; True when it changed."""
        before = self._ring
        return self._reload() != before

    def rotate(self) -> TokenKey:
        """Make a new key current; the previous ones keep verifying the tokens they hashed."""
        self.ring()  # make sure the ring exists (k0 from the legacy key)
        now = self._clock.now().timestamp()
        text = self._store.update_meta(
            META_KEY, lambda old: KeyRing.from_json(old or "[]").rotated(now).to_json(), secret=True
        )
        return self._remember(KeyRing.from_json(text)).current

    def drop_retired(self, keep_seconds: float) -> tuple[str, ...]:
        """Drop keys retired more than ``keep_seconds`` ago (no token they hashed is alive:
        ``keep_seconds`` is at least the longest token lifetime); returns the dropped ids."""
        ring = self.ring()
        cutoff = self._clock.now().timestamp() - keep_seconds
        if ring.without_retired_before(cutoff) == ring:
            return ()
        text = self._store.update_meta(
            META_KEY,
            lambda old: KeyRing.from_json(old or "[]").without_retired_before(cutoff).to_json(),
            secret=True,
        )
        kept = self._remember(KeyRing.from_json(text))
        return tuple(k.key_id for k in ring.keys if kept.get(k.key_id) is None)

    def _reload(self) -> KeyRing:
        # The ring holds secrets: sealed at rest under the master key, like every other secret.
        text = self._store.meta_secret_get(META_KEY)
        if text is None:
            legacy = self._store.meta_secret_setdefault(LEGACY_META_KEY, secrets.token_hex(32))
            first = KeyRing((TokenKey("k0", bytes.fromhex(legacy)),))
            text = self._store.meta_secret_setdefault(META_KEY, first.to_json())
        return self._remember(KeyRing.from_json(text))

    def _remember(self, ring: KeyRing) -> KeyRing:
        with self._lock:
            self._ring, self._loaded = ring, self._clock.monotonic()
        return ring

"""The one home of the token lifecycle: mint, verify, spend, rotate, revoke, collect.

- **Minting.** ``<prefix><43 url-safe chars>``: 256 bits from :mod:`secrets`, a prefix per kind
  (:class:`~connectfed.tokens.model.TokenKind`). Only ``HMAC-SHA256(key, token)`` is stored,
  with the key's id (:mod:`connectfed.tokens.keys`); the database never holds a usable token.
- **Verification** by kind: the prefix must be the kind's; the token is looked up by its keyed
  hash under every key of the ring (current first) and the stored hash compared in constant time
  with the one its own key gives; then its family (revoked? past the horizon?), its expiry, its
  instance and its state are checked.
- **Families.** Every token belongs to a family: one grant (a GetFederationToken call, a browser
  role session) with one horizon that no token of it outlives (the refresh horizon, capped at
  the IAM session the grant came from). Revoking the family ends all of its tokens at once.
- **Single use** (sign-in codes): ``active`` → ``used`` inside one transaction, exactly one
  winner. A code presented again revokes what it was spent for (RFC 6749 §4.1.2, "SHOULD
  revoke all tokens previously issued based on that authorization code").
- **Rotation** (refresh tokens, RFC 9700 §4.14.2): a refresh token is used once; using it marks
  it ``used`` and issues a new access and refresh token in the same family. Presenting a
  rotated refresh token again revokes the whole family, unless it comes within
  ``reuse_grace_seconds`` of the rotation (a lost response retried), which then issues another
  pair.
- **Garbage collection.** :meth:`TokenService.gc` deletes expired tokens, families past their
  horizon and stale sign-in states, and drops retired keys. It runs opportunistically: minting is
  the only way rows are added, so every mint runs it when the last run is older than
  ``gc_interval_seconds`` (default 5 minutes) — the tables stay bounded without a background task.

Knows nothing of HTTP or the wire.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import threading
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from connectfed.clock import Clock
from connectfed.store import Store
from connectfed.store.records import Token, TokenChange, TokenFamily
from connectfed.tokens.keys import KeyRing, TokenKeys
from connectfed.tokens.model import (
    PREFIXES,
    FamilyOwner,
    IssuedTokens,
    MintedFamily,
    MintedToken,
    RejectReason,
    TokenGrant,
    TokenKind,
    TokenRejected,
)

log = logging.getLogger("connectfed.tokens")

ENTROPY_BYTES = 32
TOKEN_LENGTH = 4 + 43  # prefix + base64url of 32 bytes
ACTIVE, USED = "active", "used"


def _time(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _grant(token: Token, family: TokenFamily) -> TokenGrant:
    return TokenGrant(
        TokenKind(token.kind),
        family.family_id,
        family.instance_id,
        family.user_id,
        family.session_key_id,
        _time(token.expires),
        _time(token.created),
        family.role_arn,
        _time(family.expires),
    )


class TokenService:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        keys: TokenKeys,
        *,
        reuse_grace_seconds: float = 0.0,
        gc_interval_seconds: float = 300.0,
        key_keep_seconds: float = 13 * 3600.0,
    ) -> None:
        self._store = store
        self._clock = clock
        self._keys = keys
        self._grace = reuse_grace_seconds
        self._gc_interval = gc_interval_seconds
        self._key_keep = key_keep_seconds
        self._last_gc: float | None = None
        self._gc_lock = threading.Lock()

    # -- minting --------------------------------------------------------------------------------
    def open_family(
        self, owner: FamilyOwner, horizon: datetime, lifetimes: Mapping[TokenKind, timedelta]
    ) -> MintedFamily:
        """A new family for ``owner`` whose tokens all end by ``horizon``, with one token of
        each kind in ``lifetimes`` (each capped at the horizon)."""
        now = self._clock.now()
        if horizon <= now:
            raise TokenRejected(RejectReason.EXPIRED, "the session has already ended")
        family_id = str(uuid.uuid4())
        minted, rows = self._mint_all(family_id, lifetimes, now, horizon)
        self._store.create_token_family(
            TokenFamily(
                family_id,
                owner.instance_id,
                owner.user_id,
                owner.session_key_id,
                owner.role_arn,
                now.timestamp(),
                horizon.timestamp(),
            ),
            rows,
        )
        self._maybe_gc()
        return MintedFamily(family_id, horizon, minted)

    def add(
        self, family_id: str, lifetimes: Mapping[TokenKind, timedelta]
    ) -> dict[TokenKind, MintedToken]:
        """New tokens in a live family (a browser session from a sign-in, fresh access)."""
        now = self._clock.now()
        family = self._store.get_token_family(family_id)
        if family is None or family.revoked is not None:
            raise TokenRejected(RejectReason.REVOKED, "the session has ended")
        horizon = _time(family.expires)
        if horizon <= now:
            raise TokenRejected(RejectReason.EXPIRED, "the session has expired")
        minted, rows = self._mint_all(family_id, lifetimes, now, horizon)
        if not self._store.add_tokens(family_id, rows, now.timestamp()):
            raise TokenRejected(RejectReason.REVOKED, "the session has ended")
        self._maybe_gc()
        return minted

    def _mint_all(
        self,
        family_id: str,
        lifetimes: Mapping[TokenKind, timedelta],
        now: datetime,
        horizon: datetime,
    ) -> tuple[dict[TokenKind, MintedToken], list[Token]]:
        key = self._keys.ring().current
        minted: dict[TokenKind, MintedToken] = {}
        rows: list[Token] = []
        for kind, lifetime in lifetimes.items():
            expires = min(now + lifetime, horizon)
            token = kind.prefix + secrets.token_urlsafe(ENTROPY_BYTES)
            minted[kind] = MintedToken(kind, token, expires)
            rows.append(
                Token(
                    key.digest(token),
                    key.key_id,
                    kind.value,
                    family_id,
                    ACTIVE,
                    now.timestamp(),
                    expires.timestamp(),
                )
            )
        return minted, rows

    # -- checking -------------------------------------------------------------------------------
    def verify(self, token: str, kind: TokenKind, instance_id: str | None = None) -> TokenGrant:
        """What a live ``kind`` token proves; :class:`TokenRejected` otherwise. No side effect."""
        row, family = self._find(token, kind)
        self._check(row, family, instance_id, self._clock.now().timestamp(), allow_used=False)
        return _grant(row, family)

    def spend(self, token: str, kind: TokenKind, instance_id: str | None = None) -> TokenGrant:
        """Use a single-use token: exactly one caller wins; a second use revokes the family."""
        row, _ = self._find(token, kind)
        now = self._clock.now().timestamp()
        reused = False

        def spend_once(current: Token, family: TokenFamily) -> TokenChange:
            nonlocal reused
            self._check(current, family, instance_id, now, allow_used=True)
            reused = current.state == USED
            if reused:
                return TokenChange(USED, current.spent, revoke_family=f"{kind.value}-reuse")
            return TokenChange(USED, now)

        updated = self._store.update_token(row.token_hash, spend_once)
        if updated is None:
            raise TokenRejected(RejectReason.INVALID)
        if reused:
            log.warning(
                "a spent %s token was presented again: family %s revoked",
                kind.value,
                updated[1].family_id,
            )
            raise TokenRejected(RejectReason.REUSED, "this token was already used")
        return _grant(*updated)

    def rotate(self, refresh_token: str, access_lifetime: timedelta) -> IssuedTokens:
        """Spend a refresh token for a new access token and a new refresh token (same family,
        same horizon). Reuse of a rotated refresh token revokes the family (RFC 9700 §4.14.2)."""
        row, _ = self._find(refresh_token, TokenKind.REFRESH)
        now = self._clock.now()
        issued: IssuedTokens | None = None
        reused = False

        def rotate_once(current: Token, family: TokenFamily) -> TokenChange:
            nonlocal issued, reused
            issued, reused = None, False  # the updater may run again after a transient failure
            self._check(current, family, None, now.timestamp(), allow_used=True)
            if current.state == USED and not self._within_grace(current, now.timestamp()):
                reused = True
                return TokenChange(USED, current.spent, revoke_family="refresh-token-reuse")
            horizon = _time(family.expires)
            minted, rows = self._mint_all(
                family.family_id,
                {TokenKind.ACCESS: access_lifetime, TokenKind.REFRESH: horizon - now},
                now,
                horizon,
            )
            access, refresh = minted[TokenKind.ACCESS], minted[TokenKind.REFRESH]
            issued = IssuedTokens(
                access.token, access.expires, refresh.token, refresh.expires, family.family_id
            )
            spent = current.spent if current.state == USED else now.timestamp()
            return TokenChange(USED, spent, insert=tuple(rows))

        updated = self._store.update_token(row.token_hash, rotate_once)
        if updated is None:
            raise TokenRejected(RejectReason.INVALID)
        if reused or issued is None:
            log.warning(
                "a rotated refresh token was presented again: family %s revoked",
                updated[1].family_id,
            )
            raise TokenRejected(RejectReason.REUSED, "this refresh token was already used")
        self._maybe_gc()
        return issued

    def _within_grace(self, token: Token, now: float) -> bool:
        return self._grace > 0 and token.spent is not None and now - token.spent <= self._grace

    def _find(self, token: str, kind: TokenKind) -> tuple[Token, TokenFamily]:
        if not isinstance(token, str) or len(token) != TOKEN_LENGTH:
            raise TokenRejected(RejectReason.INVALID)
        if not token.startswith(kind.prefix):
            if any(token.startswith(p) for p in PREFIXES.values()):
                raise TokenRejected(RejectReason.WRONG_KIND, f"not a {kind.value} token")
            raise TokenRejected(RejectReason.INVALID)
        ring = self._keys.ring()
        found = self._lookup(ring, token)
        if found is None and self._keys.reload_on_miss():
            ring = self._keys.ring()
            found = self._lookup(ring, token)
        if found is None:
            raise TokenRejected(RejectReason.INVALID)
        row, family = found
        if row.kind != kind.value:
            raise TokenRejected(RejectReason.WRONG_KIND, f"not a {kind.value} token")
        return row, family

    def _lookup(self, ring: KeyRing, token: str) -> tuple[Token, TokenFamily] | None:
        found = self._store.find_token([key.digest(token) for key in ring.keys])
        if found is None:
            return None
        key = ring.get(found[0].key_id)
        # The row must be the one its own key names: compare that hash in constant time.
        if key is None or not hmac.compare_digest(key.digest(token), found[0].token_hash):
            return None
        return found

    @staticmethod
    def _check(
        token: Token, family: TokenFamily, instance_id: str | None, now: float, *, allow_used: bool
    ) -> None:
        if instance_id is not None and family.instance_id != instance_id:
            raise TokenRejected(RejectReason.WRONG_INSTANCE, "the token is for another instance")
        if family.revoked is not None:
            raise TokenRejected(RejectReason.REVOKED, "the session has ended")
        if token.expires <= now or family.expires <= now:
            raise TokenRejected(RejectReason.EXPIRED, "the token has expired")
        if token.state != ACTIVE and not allow_used:
            raise TokenRejected(RejectReason.REUSED, "this token was already used")

    # -- ending ---------------------------------------------------------------------------------
    def revoke(self, token: str, kind: TokenKind, reason: str) -> bool:
        """Revoke the family of a presented token whatever its state (sign-out); False when the
        token is unknown or the family was already revoked."""
        try:
            _, family = self._find(token, kind)
        except TokenRejected:
            return False
        return self.revoke_family(family.family_id, reason)

    def revoke_family(self, family_id: str, reason: str) -> bool:
        return self._store.revoke_token_family(family_id, reason)

    def revoke_user(self, instance_id: str, user_id: str, reason: str) -> int:
        return self._store.revoke_user_token_families(instance_id, user_id, reason)

    # -- housekeeping ---------------------------------------------------------------------------
    def gc(self, now: datetime | None = None) -> int:
        """Delete what has expired by ``now``; drop keys retired longer than any token lives."""
        moment = now or self._clock.now()
        removed = self._store.gc_tokens(moment.timestamp())
        dropped = self._keys.drop_retired(self._key_keep)
        if removed or dropped:
            log.info("token gc: %d rows removed, keys dropped: %s", removed, dropped or "none")
        return removed

    def rotate_key(self) -> str:
        """Make a new token key current (live tokens keep verifying); returns its id."""
        return self._keys.rotate().key_id

    def _maybe_gc(self) -> None:
        mono = self._clock.monotonic()
        with self._gc_lock:
            if self._last_gc is not None and mono - self._last_gc < self._gc_interval:
                return
            self._last_gc = mono
        try:
            self.gc()
        except Exception:  # housekeeping must never fail the request that triggered it
            log.exception("token gc failed")

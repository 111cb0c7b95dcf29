"""The one home of the token lifecycle: mint, verify, spend, rotate, revoke, collect.

- **Minting.** ``<prefix><family id><43 url-safe chars>`` (:mod:`connectfed.tokens.format`):
  256 bits from :mod:`secrets`, a prefix per kind (:class:`~connectfed.tokens.model.TokenKind`).
  Only ``HMAC-SHA256(key, token)`` is stored, with the key's id (:mod:`connectfed.tokens.keys`);
  the database never holds a usable token.
- **Families.** Every token belongs to a family: one grant (a GetFederationToken call, a browser
  role session) with one horizon that no token of it outlives (the refresh horizon, capped at
  the IAM session the grant came from). Revoking the family ends all of its tokens at once. The
  tokens minted with a family are stored in its row, state included (one write per federation,
  see :meth:`TokenService.open_family`); tokens minted later have rows of their own.
- **Verification** by kind: the prefix must be the kind's; the token is looked up by its keyed
  hash under every key of the ring (current first), in the family it names (tokens of the
  format before family ids: by hash alone), and the stored hash compared in constant time with
  the one its own key gives; then its family (revoked? past the horizon?), its expiry, its
  instance and its state are checked.
- **Single use** (sign-in codes): ``active`` → ``used`` inside one transaction, exactly one
  winner. A code presented again revokes what it was spent for (RFC 6749 §4.1.2, "SHOULD
  revoke all tokens previously issued based on that authorization code").
- **Rotation** (refresh tokens, RFC 9700 §4.14.2): a refresh token is used once; using it marks
  it ``used`` and issues a new access and refresh token in the same family. Presenting a
  rotated refresh token again revokes the whole family, unless it comes within
  ``reuse_grace_seconds`` after the rotation (a lost response retried), which then issues
  another pair; a clock set back before the rotation never counts as within it.
- **Garbage collection.** :meth:`TokenService.gc` deletes families past their horizon (by
  :data:`GC_MARGIN`) with all of their tokens, and stale sign-in states, and drops retired
  keys. It runs opportunistically: minting is the only way rows are added, so every mint runs
  it when the last run is older than ``gc_interval_seconds`` (default 5 minutes) — the tables
  stay bounded without a background task.

Knows nothing of HTTP or the wire.
"""

from __future__ import annotations

import hmac
import logging
import threading
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from connectfed.clock import Clock, settled
from connectfed.store import Store, Unavailable
from connectfed.store.records import Token, TokenChange, TokenFamily
from connectfed.tokens import format as token_format
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

ACTIVE, USED = "active", "used"
# Families are collected this long after their horizon: longer than any clock skew between
# servers sharing the database, so no server still adding a token to a family (live by its
# clock) races its deletion (see Store.gc_tokens).
GC_MARGIN = timedelta(minutes=5)


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
        each kind in ``lifetimes`` (each capped at the horizon).

        **One row per family** (issue 9). The family row carries the keyed hashes of these
        tokens (``TokenFamily.inline_tokens``), so GetFederationToken writes one row, not a
        family and three tokens. A commit costs the pages it dirties (an empty transaction is
        ~8 µs on SQLite): the four rows touched 8 B-trees (the family's table, primary key,
        user and expiry indexes; the tokens' table, primary key, family and expiry indexes),
        ~15 WAL pages per federation; the one row touches 4 (4-5 pages). Measured
        (``bench.token_store``, medians of runs alternating with the previous version),
        ``Store.create_token_family`` with its commit: SQLite ~160 → ~54 µs, PostgreSQL ~680
        → ~400 µs. Of the other ways the issue names, group commit (SQLite) was already there and
        shares one COMMIT, not the pages; time-ordered family ids (:mod:`.format`) make the
        families of one group commit share their pages too.

        What it keeps. Each token still has its own 256 random bits (nothing is derived from
        the family or a server secret: a stolen token key forges nothing) and only its keyed
        hash is stored, in the family row. The token names its family, so a lookup reads that
        row by primary key (with a LEFT JOIN for the rows of tokens minted later): no index
        over the inline hashes, one read as before, and the hash compared in constant time.
        A state change of an inline token (a sign-in code spent, a refresh token rotated)
        rewrites its family's row with a compare-and-set on the inline tokens read, in the
        updater's transaction: exactly one of concurrent uses applies (PostgreSQL makes the
        others wait, find the row changed and run again on it, seeing the token used, which
        is reuse detection, grace included, as before). Recording the first use by INSERTing
        the token's own row instead worked as well but cost a sign-in ~50 µs more on SQLite
        (three B-trees against one page); that state in the family row also means an inline
        token can never be found in two places. Revocation stays one UPDATE of the family row.
        Tokens minted later (rotation, browser sessions) still get rows of their own.
        """
        record, family = self.prepare_family(owner, horizon, lifetimes)
        self._store.create_token_family(record)
        return family

    def prepare_family(
        self, owner: FamilyOwner, horizon: datetime, lifetimes: Mapping[TokenKind, timedelta]
    ) -> tuple[TokenFamily, MintedFamily]:
        """What :meth:`open_family` opens, not yet stored: the record to store (the caller
        writes it, e.g. with other rows in one transaction) and the tokens minted in it."""
        now = self._clock.now()
        if horizon <= now:
            raise TokenRejected(RejectReason.EXPIRED, "the session has already ended")
        family_id = token_format.new_family_id(now)
        minted, tokens = self._mint_all(family_id, lifetimes, now, horizon)
        record = TokenFamily(
            family_id,
            owner.instance_id,
            owner.user_id,
            owner.session_key_id,
            owner.role_arn,
            now.timestamp(),
            horizon.timestamp(),
            inline_tokens=tuple(tokens),
        )
        self._maybe_gc()  # periodic housekeeping: whether before or after the write is immaterial
        return record, MintedFamily(family_id, horizon, minted)

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
        wanted = list(lifetimes.items())
        tokens = token_format.mint_all([kind for kind, _ in wanted], family_id)
        created = now.timestamp()
        minted: dict[TokenKind, MintedToken] = {}
        rows: list[Token] = []
        for (kind, lifetime), token in zip(wanted, tokens, strict=True):
            expires = min(now + lifetime, horizon)
            minted[kind] = MintedToken(kind, token, expires)
            rows.append(
                Token(
                    key.digest(token),
                    key.key_id,
                    kind.value,
                    family_id,
                    ACTIVE,
                    created,
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

        updated = self._store.update_token(row.token_hash, spend_once, family_id=row.family_id)
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

        updated = self._store.update_token(row.token_hash, rotate_once, family_id=row.family_id)
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
        """Whether a rotated token presented again at ``now`` comes within the grace after its
        rotation. Only a time at or after the rotation counts: a clock set back (the admin
        API's offset returned to 0 after a test moved it on) puts ``now`` before it, and the
        time since the rotation is then unknown, so it is reuse, never a window that grows by
        however far the clock went back."""
        if self._grace <= 0 or token.spent is None:
            return False
        return 0 <= now - token.spent <= self._grace

    def _find(self, token: str, kind: TokenKind) -> tuple[Token, TokenFamily]:
        if not token_format.well_formed(token):
            raise TokenRejected(RejectReason.INVALID)
        if not token.startswith(kind.prefix):
            if any(token.startswith(p) for p in PREFIXES.values()):
                raise TokenRejected(RejectReason.WRONG_KIND, f"not a {kind.value} token")
            raise TokenRejected(RejectReason.INVALID)
        # None for a token of the format before family ids: looked up by its hash alone (its
        # row exists: tokens were not inline then) until it expires.
        family_id = token_format.family_of(token)
        ring = self._keys.ring()
        found = self._lookup(ring, token, family_id)
        if found is None and self._keys.reload_on_miss():
            ring = self._keys.ring()
            found = self._lookup(ring, token, family_id)
        if found is None:
            raise TokenRejected(RejectReason.INVALID)
        row, family = found
        if row.kind != kind.value:
            raise TokenRejected(RejectReason.WRONG_KIND, f"not a {kind.value} token")
        return row, family

    def _lookup(
        self, ring: KeyRing, token: str, family_id: str | None
    ) -> tuple[Token, TokenFamily] | None:
        digests = {key.key_id: key.digest(token) for key in ring.keys}
        found = self._store.find_token(list(digests.values()), family_id)
        if found is None:
            return None
        # The token must be the one its own key names: compare that hash in constant time.
        digest = digests.get(found[0].key_id)
        if digest is None or not hmac.compare_digest(digest, found[0].token_hash):
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
    def revoke(self, token: str, kind: TokenKind, reason: str) -> TokenFamily | None:
        """Revoke the family of a presented token whatever its state (sign-out): the family
        revoked, whose instance and user the caller may tell; None when the token is unknown
        or the family was already revoked."""
        try:
            _, family = self._find(token, kind)
        except TokenRejected:
            return None
        return family if self.revoke_family(family.family_id, reason) else None

    def retire(
        self, token: str, kind: TokenKind, reason: str, *, keep_family: str
    ) -> TokenFamily | None:
        """End a presented token that something new of ``keep_family`` replaces (a browser
        signed in again): its whole family, as :meth:`revoke` does (and returns), unless that
        is ``keep_family`` itself, where only this token ends (``used``: never accepted again;
        the family lives on, and None is returned). None as well when the token is unknown or
        its family already revoked."""
        try:
            row, family = self._find(token, kind)
        except TokenRejected:
            return None
        if family.family_id != keep_family:
            return family if self.revoke_family(family.family_id, reason) else None
        now = self._clock.now().timestamp()

        def end_once(current: Token, family: TokenFamily) -> TokenChange | None:
            return TokenChange(USED, now) if current.state == ACTIVE else None

        self._store.update_token(row.token_hash, end_once, family_id=row.family_id)
        return None

    def revoke_family(self, family_id: str, reason: str) -> bool:
        return self._store.revoke_token_family(family_id, reason)

    def revoke_user(self, instance_id: str, user_id: str, reason: str) -> int:
        return self._store.revoke_user_token_families(instance_id, user_id, reason)

    # -- housekeeping ---------------------------------------------------------------------------
    def gc(self, now: datetime | None = None) -> int:
        """Delete the families whose horizon was over :data:`GC_MARGIN` before ``now`` (by
        default the clock's :func:`~connectfed.clock.settled` time: never what a clock set back
        finds alive), with their tokens, and stale sign-in states; drop keys retired longer
        than any token lives."""
        moment = now or settled(self._clock)
        removed = self._store.gc_tokens((moment - GC_MARGIN).timestamp())
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
        except Unavailable as exc:  # the database is down: the next interval will do
            log.warning("token gc skipped: %s", exc)
        except Exception:  # housekeeping must never fail the request that triggered it
            log.exception("token gc failed")

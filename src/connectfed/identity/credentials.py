"""Resolve the access key a request was signed with to its secret and its :class:`Principal`.

Temporary keys (``ASIA…``) must come with their session token, bound to that key (compared as a
keyed hash in constant time), from a session that is neither expired nor revoked.

Keys and sessions belong to principals by unique id, as on AWS: a user's key resolves only while
the user with that id (``AIDA…``) exists, a session only while its role (``AROA…``) does. A user
or role deleted and recreated under the same name is a new principal; the old one's keys and
sessions are refused (``UnrecognizedClientException`` / ``InvalidClientTokenId``, what AWS says
for credentials it no longer recognises). Secrets arrive from the store already opened; the
caches below keep them, and the principal they stand for, so the hot path decrypts a key and
builds its principal once per cache lifetime. ``resolve(claim, cached_only=True)`` answers from
those caches alone, or raises :class:`~connectfed.cache.NotCached`: the server resolves on the
event loop when it can, and in the store's threads when it must read the store.
"""

from __future__ import annotations

import hmac

from connectfed import arns
from connectfed.auth.verify import SignatureClaim
from connectfed.cache import TtlCache, not_cached
from connectfed.clock import Clock, utc
from connectfed.errors import ExpiredToken, UnrecognizedClient
from connectfed.identity.principal import Principal
from connectfed.store import Store
from connectfed.store.records import AccessKey, IamUser, Role, Session, Tag

PROVEN_TOKENS = 10_000  # session tokens remembered once proven (cleared when full)


def token_digest(key: bytes, token: str) -> str:
    return hmac.digest(key, token.encode(), "sha256").hex()


class CredentialResolver:
    def __init__(self, store: Store, clock: Clock, hmac_key: bytes, ttl: float) -> None:
        self._store = store
        self._clock = clock
        self._key = hmac_key
        # access key id -> (key, user, principal), and session key id -> (session, role,
        # principal); the principal is None where the key or session resolves to nobody.
        self._keys: TtlCache[tuple[AccessKey | None, IamUser | None, Principal | None]] = TtlCache(
            ttl, clock.monotonic
        )
        self._sessions: TtlCache[tuple[Session | None, Role | None, Principal | None]] = TtlCache(
            ttl, clock.monotonic
        )

        self._proven_tokens: dict[str, bytes] = {}  # see _token_matches

    def invalidate(self) -> None:
        self._keys.invalidate()
        self._sessions.invalidate()
        self._proven_tokens.clear()

    def resolve(self, claim: SignatureClaim, *, cached_only: bool = False) -> tuple[str, Principal]:
        """The secret and the principal of the key ``claim`` was signed with; with
        ``cached_only``, from memory or not at all (:class:`~connectfed.cache.NotCached`)."""
        key_id = claim.access_key_id
        if "\x00" in key_id:
            # No key holds one (ids are generated, or seeded through IAM's [\w]+), and
            # PostgreSQL's text cannot: a presigned URL's %00 would be a store error.
            raise UnrecognizedClient()
        if key_id.startswith("ASIA"):
            return self._temporary(claim, cached_only)
        if claim.security_token:
            raise UnrecognizedClient()
        key, _, principal = self._keys.get(
            key_id, not_cached if cached_only else lambda: self._load_key(key_id)
        )
        if key is None or key.status != "Active" or principal is None:
            raise UnrecognizedClient()
        return key.secret_access_key, principal

    def _load_key(self, key_id: str) -> tuple[AccessKey | None, IamUser | None, Principal | None]:
        key = self._store.get_access_key(key_id)
        if key is None:
            return None, None, None
        if key.user_name is None:
            return key, None, Principal.root(key.account_id, key_id)
        user = self._store.get_user_by_id(key.user_id) if key.user_id is not None else None
        if user is None:
            return key, None, None
        principal = Principal(
            kind="user",
            account_id=key.account_id,
            arn=user.arn,
            user_id=user.user_id,
            name=user.user_name,
            access_key_id=key_id,
            identity_tags=user.tags,
        )
        return key, user, principal

    def _load_session(self, key_id: str) -> tuple[Session | None, Role | None, Principal | None]:
        session = self._store.get_session(key_id)
        role = self._store.get_role_by_id(session.role_id) if session is not None else None
        if session is None or role is None or role.account_id != session.account_id:
            return session, role, None  # not (or no longer) the very role it was issued for
        return session, role, session_principal(session, role.tags)

    def principal_of_session(self, access_key_id: str) -> Principal:
        """The principal of a session this server just issued (the browser sign-in flow)."""
        _, _, principal = self._load_session(access_key_id)
        if principal is None:
            raise UnrecognizedClient()
        return principal

    def _temporary(self, claim: SignatureClaim, cached_only: bool) -> tuple[str, Principal]:
        key_id = claim.access_key_id
        session, _, principal = self._sessions.get(
            key_id, not_cached if cached_only else lambda: self._load_session(key_id)
        )
        if session is None or principal is None:
            raise UnrecognizedClient()
        if session.revoked or not claim.security_token:
            raise UnrecognizedClient()
        if not self._token_matches(session, claim.security_token):
            raise UnrecognizedClient()
        if self._clock.now().timestamp() >= session.expiration:
            raise ExpiredToken()
        return session.secret_access_key, principal

    def _token_matches(self, session: Session, token: str) -> bool:
        """The session token is the one issued with the session: its keyed hash is the stored
        one. A token once proven is remembered (bytes, per key id: a session's token never
        changes) and compared in constant time, sparing a keyed hash of ~1 KB per request. It
        lives in memory no longer, and no more exposed, than the session's secret key beside it
        in the cache."""
        given = token.encode()
        known = self._proven_tokens.get(session.access_key_id)
        if known is not None and hmac.compare_digest(known, given):
            return True
        if not hmac.compare_digest(token_digest(self._key, token), session.token_hash):
            return False
        if len(self._proven_tokens) >= PROVEN_TOKENS:
            self._proven_tokens.clear()
        self._proven_tokens[session.access_key_id] = given
        return True


def session_principal(session: Session, role_tags: tuple[Tag, ...] = ()) -> Principal:
    """The principal that signs with ``session``'s credentials; ``role_tags``, its role's
    tags, are its ``aws:PrincipalTag`` where the session's own tags do not override them."""
    return Principal(
        kind="assumed-role",
        account_id=session.account_id,
        arn=arns.assumed_role(session.account_id, session.role_name, session.session_name),
        user_id=f"{session.role_id}:{session.session_name}",
        name=session.role_name,
        access_key_id=session.access_key_id,
        role_arn=session.role_arn,
        role_id=session.role_id,
        session_name=session.session_name,
        session_expiration=utc(session.expiration),
        session_issued=utc(session.created),
        session_source=session.source,
        session_policy=session.session_policy,
        session_tags=session.tags,
        source_identity=session.source_identity,
        identity_tags=role_tags,
        saml_subject=session.saml_subject,
    )

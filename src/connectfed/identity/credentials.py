"""Resolve the access key a request was signed with to its secret and its :class:`Principal`.

Temporary keys (``ASIA…``) must come with their session token, bound to that key (compared as a
keyed hash in constant time), from a session that is neither expired nor revoked.

Keys and sessions belong to principals by unique id, as on AWS: a user's key resolves only while
the user with that id (``AIDA…``) exists, a session only while its role (``AROA…``) does. A user
or role deleted and recreated under the same name is a new principal; the old one's keys and
sessions are refused (``UnrecognizedClientException`` / ``InvalidClientTokenId``, what AWS says
for credentials it no longer recognises). Secrets arrive from the store already opened; the
caches below keep them, so the hot path decrypts a key once per cache lifetime.
"""

from __future__ import annotations

import hmac

from connectfed import arns
from connectfed.auth.verify import SignatureClaim
from connectfed.cache import TtlCache
from connectfed.clock import Clock, utc
from connectfed.errors import ExpiredToken, UnrecognizedClient
from connectfed.identity.principal import Principal
from connectfed.store import Store
from connectfed.store.records import AccessKey, IamUser, Role, Session


def token_digest(key: bytes, token: str) -> str:
    return hmac.digest(key, token.encode(), "sha256").hex()


class CredentialResolver:
    def __init__(self, store: Store, clock: Clock, hmac_key: bytes, ttl: float) -> None:
        self._store = store
        self._clock = clock
        self._key = hmac_key
        self._keys: TtlCache[tuple[AccessKey | None, IamUser | None]] = TtlCache(
            ttl, clock.monotonic
        )
        self._sessions: TtlCache[tuple[Session | None, Role | None]] = TtlCache(
            ttl, clock.monotonic
        )

    def invalidate(self) -> None:
        self._keys.invalidate()
        self._sessions.invalidate()

    def resolve(self, claim: SignatureClaim) -> tuple[str, Principal]:
        key_id = claim.access_key_id
        if key_id.startswith("ASIA"):
            return self._temporary(claim)
        if claim.security_token:
            raise UnrecognizedClient()
        key, user = self._keys.get(key_id, lambda: self._load_key(key_id))
        if key is None or key.status != "Active":
            raise UnrecognizedClient()
        if key.user_name is None:
            principal = Principal.root(key.account_id, key_id)
        else:
            if user is None:
                raise UnrecognizedClient()
            principal = Principal(
                kind="user",
                account_id=key.account_id,
                arn=user.arn,
                user_id=user.user_id,
                name=user.user_name,
                access_key_id=key_id,
            )
        return key.secret_access_key, principal

    def _load_key(self, key_id: str) -> tuple[AccessKey | None, IamUser | None]:
        key = self._store.get_access_key(key_id)
        user = None
        if key is not None and key.user_id is not None:
            user = self._store.get_user_by_id(key.user_id)
        return key, user

    def _load_session(self, key_id: str) -> tuple[Session | None, Role | None]:
        session = self._store.get_session(key_id)
        role = self._store.get_role_by_id(session.role_id) if session is not None else None
        return session, role

    @staticmethod
    def _live(session: Session | None, role: Role | None) -> Session:
        """The session, if it and the very role (by unique id) it was issued for still exist."""
        if session is None or role is None or role.account_id != session.account_id:
            raise UnrecognizedClient()
        return session

    def principal_of_session(self, access_key_id: str) -> Principal:
        """The principal of a session this server just issued (the browser sign-in flow)."""
        return session_principal(self._live(*self._load_session(access_key_id)))

    def _temporary(self, claim: SignatureClaim) -> tuple[str, Principal]:
        key_id = claim.access_key_id
        session = self._live(*self._sessions.get(key_id, lambda: self._load_session(key_id)))
        if session.revoked or not claim.security_token:
            raise UnrecognizedClient()
        if not hmac.compare_digest(
            token_digest(self._key, claim.security_token), session.token_hash
        ):
            raise UnrecognizedClient()
        if self._clock.now().timestamp() >= session.expiration:
            raise ExpiredToken()
        return session.secret_access_key, session_principal(session)


def session_principal(session: Session) -> Principal:
    """The principal that signs with ``session``'s credentials."""
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
    )

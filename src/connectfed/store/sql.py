"""The SQL implementation of :class:`~connectfed.store.protocol.Store`, shared by all backends.

Statements are written once with ``?`` placeholders; a backend supplies a :class:`Database`
that runs them (converting placeholders if its driver needs to) and says which driver errors
mean a uniqueness clash.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from connectfed.store.protocol import Conflict, NotFound
from connectfed.store.records import (
    AccessKey,
    ConnectUser,
    IamUser,
    InlinePolicy,
    Instance,
    Profile,
    Role,
    RoleBinding,
    SamlProvider,
    Session,
    Token,
)

Row = Sequence[Any]


class Transaction(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; return the number of rows it changed."""
        ...

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...


class Database(Protocol):
    def transaction(self) -> AbstractContextManager[Transaction]:
        """A write transaction; uniqueness violations surface as :class:`Conflict`."""
        ...

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """A read outside any explicit transaction."""
        ...

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One statement in its own (implicit, atomic) transaction; returns rows changed."""
        ...

    def close(self) -> None: ...


def _bool(value: Any) -> bool:
    return bool(value)


_SESSION_COLS = (
    "access_key_id, secret_access_key, token_hash, account_id, role_arn, role_id, role_name,"
    " session_name, source, created, expiration, revoked"
)
_INSTANCE_COLS = (
    "instance_id, account_id, region, arn, alias, identity_management_type, status,"
    " inbound_calls, outbound_calls, created"
)
_USER_COLS = (
    "instance_id, user_id, username, arn, security_profile_ids, routing_profile_id,"
    " identity_info, phone_config, directory_user_id, hierarchy_group_id, created, modified"
)
_ROLE_COLS = (
    "account_id, role_name, role_id, path, arn, trust_policy, max_session_duration,"
    " description, created"
)


def _session(row: Row) -> Session:
    (key, secret, token_hash, account, role_arn, role_id, role_name, session_name, source,
     created, expiration, revoked) = row
    return Session(key, secret, token_hash, account, role_arn, role_id, role_name, session_name,
                   source, created, expiration, _bool(revoked))


def _instance(row: Row) -> Instance:
    values = list(row)
    values[7] = _bool(values[7])
    values[8] = _bool(values[8])
    return Instance(*values)


def _connect_user(row: Row) -> ConnectUser:
    values = list(row)
    values[4] = tuple(json.loads(values[4]))
    return ConnectUser(*values)


def _token(row: Row) -> Token:
    token_hash, kind, family, instance_id, user_id, session_key, created, expires, revoked = row
    return Token(token_hash, kind, family, instance_id, user_id, session_key, created, expires,
                 _bool(revoked))


class SqlStore:
    """Every store method, in SQL, over a backend's :class:`Database`."""

    inline = True

    def __init__(self, db: Database) -> None:
        self._db = db

    def close(self) -> None:
        self._db.close()

    def _one(self, sql: str, params: Sequence[Any]) -> Row | None:
        rows = self._db.query(sql, params)
        return rows[0] if rows else None

    def _write(self, sql: str, params: Sequence[Any]) -> int:
        return self._db.execute(sql, params)

    def _must_change(self, sql: str, params: Sequence[Any]) -> None:
        if self._write(sql, params) == 0:
            raise NotFound()

    # -- meta ------------------------------------------------------------------------------------
    def meta_get(self, key: str) -> str | None:
        row = self._one("SELECT value FROM meta WHERE key = ?", (key,))
        return None if row is None else str(row[0])

    def meta_setdefault(self, key: str, value: str) -> str:
        with self._db.transaction() as tx:
            tx.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                (key, value),
            )
            return str(tx.query("SELECT value FROM meta WHERE key = ?", (key,))[0][0])

    # -- access keys ---------------------------------------------------------------------------
    def create_access_key(self, key: AccessKey) -> None:
        self._write(
            "INSERT INTO access_keys (access_key_id, secret_access_key, account_id, user_name,"
            " status, created) VALUES (?, ?, ?, ?, ?, ?)",
            (
                key.access_key_id,
                key.secret_access_key,
                key.account_id,
                key.user_name,
                key.status,
                key.created,
            ),
        )

    def get_access_key(self, access_key_id: str) -> AccessKey | None:
        row = self._one(
            "SELECT access_key_id, secret_access_key, account_id, user_name, status, created"
            " FROM access_keys WHERE access_key_id = ?",
            (access_key_id,),
        )
        return None if row is None else AccessKey(*row)

    def list_access_keys(self, account_id: str, user_name: str | None) -> list[AccessKey]:
        if user_name is None:
            rows = self._db.query(
                "SELECT access_key_id, secret_access_key, account_id, user_name, status, created"
                " FROM access_keys WHERE account_id = ? AND user_name IS NULL ORDER BY created",
                (account_id,),
            )
        else:
            rows = self._db.query(
                "SELECT access_key_id, secret_access_key, account_id, user_name, status, created"
                " FROM access_keys WHERE account_id = ? AND user_name = ? ORDER BY created",
                (account_id, user_name),
            )
        return [AccessKey(*row) for row in rows]

    def delete_access_key(self, access_key_id: str) -> None:
        self._must_change("DELETE FROM access_keys WHERE access_key_id = ?", (access_key_id,))

    # -- IAM users -------------------------------------------------------------------------------
    def create_user(self, user: IamUser) -> None:
        self._write(
            "INSERT INTO iam_users (account_id, user_name_key, user_name, user_id, path, arn,"
            " created) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                user.account_id,
                user.user_name.lower(),
                user.user_name,
                user.user_id,
                user.path,
                user.arn,
                user.created,
            ),
        )

    def get_user(self, account_id: str, user_name: str) -> IamUser | None:
        row = self._one(
            "SELECT account_id, user_name, user_id, path, arn, created FROM iam_users"
            " WHERE account_id = ? AND user_name_key = ?",
            (account_id, user_name.lower()),
        )
        return None if row is None else IamUser(*row)

    def list_users(self, account_id: str) -> list[IamUser]:
        rows = self._db.query(
            "SELECT account_id, user_name, user_id, path, arn, created FROM iam_users"
            " WHERE account_id = ? ORDER BY user_name_key",
            (account_id,),
        )
        return [IamUser(*row) for row in rows]

    def delete_user(self, account_id: str, user_name: str) -> None:
        self._must_change(
            "DELETE FROM iam_users WHERE account_id = ? AND user_name_key = ?",
            (account_id, user_name.lower()),
        )

    # -- roles -----------------------------------------------------------------------------------
    def create_role(self, role: Role) -> None:
        self._write(
            "INSERT INTO roles (account_id, role_name_key, role_name, role_id, path, arn,"
            " trust_policy, max_session_duration, description, created)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                role.account_id,
                role.role_name.lower(),
                role.role_name,
                role.role_id,
                role.path,
                role.arn,
                role.trust_policy,
                role.max_session_duration,
                role.description,
                role.created,
            ),
        )

    def get_role(self, account_id: str, role_name: str) -> Role | None:
        row = self._one(
            f"SELECT {_ROLE_COLS} FROM roles WHERE account_id = ? AND role_name_key = ?",
            (account_id, role_name.lower()),
        )
        return None if row is None else Role(*row)

    def list_roles(self, account_id: str) -> list[Role]:
        rows = self._db.query(
            f"SELECT {_ROLE_COLS} FROM roles WHERE account_id = ? ORDER BY role_name_key",
            (account_id,),
        )
        return [Role(*row) for row in rows]

    def update_role_trust(self, account_id: str, role_name: str, document: str) -> None:
        self._must_change(
            "UPDATE roles SET trust_policy = ? WHERE account_id = ? AND role_name_key = ?",
            (document, account_id, role_name.lower()),
        )

    def delete_role(self, account_id: str, role_name: str) -> None:
        self._must_change(
            "DELETE FROM roles WHERE account_id = ? AND role_name_key = ?",
            (account_id, role_name.lower()),
        )

    # -- inline policies -----------------------------------------------------------------------
    def put_policy(self, policy: InlinePolicy) -> None:
        self._write(
            "INSERT INTO inline_policies (owner_kind, account_id, owner_key, owner_name,"
            " policy_name, document) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (owner_kind, account_id, owner_key, policy_name)"
            " DO UPDATE SET document = excluded.document",
            (
                policy.owner_kind,
                policy.account_id,
                policy.owner_name.lower(),
                policy.owner_name,
                policy.policy_name,
                policy.document,
            ),
        )

    def get_policy(
        self, owner_kind: str, account_id: str, owner_name: str, policy_name: str
    ) -> InlinePolicy | None:
        row = self._one(
            "SELECT owner_kind, account_id, owner_name, policy_name, document"
            " FROM inline_policies WHERE owner_kind = ? AND account_id = ? AND owner_key = ?"
            " AND policy_name = ?",
            (owner_kind, account_id, owner_name.lower(), policy_name),
        )
        return None if row is None else InlinePolicy(*row)

    def list_policies(
        self, owner_kind: str, account_id: str, owner_name: str
    ) -> list[InlinePolicy]:
        rows = self._db.query(
            "SELECT owner_kind, account_id, owner_name, policy_name, document"
            " FROM inline_policies WHERE owner_kind = ? AND account_id = ? AND owner_key = ?"
            " ORDER BY policy_name",
            (owner_kind, account_id, owner_name.lower()),
        )
        return [InlinePolicy(*row) for row in rows]

    def delete_policy(
        self, owner_kind: str, account_id: str, owner_name: str, policy_name: str
    ) -> None:
        self._must_change(
            "DELETE FROM inline_policies WHERE owner_kind = ? AND account_id = ?"
            " AND owner_key = ? AND policy_name = ?",
            (owner_kind, account_id, owner_name.lower(), policy_name),
        )

    # -- STS sessions --------------------------------------------------------------------------
    def create_session(self, session: Session) -> None:
        self._write(
            f"INSERT INTO sts_sessions ({_SESSION_COLS})"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                session.access_key_id,
                session.secret_access_key,
                session.token_hash,
                session.account_id,
                session.role_arn,
                session.role_id,
                session.role_name,
                session.session_name,
                session.source,
                session.created,
                session.expiration,
                int(session.revoked),
            ),
        )

    def get_session(self, access_key_id: str) -> Session | None:
        row = self._one(
            f"SELECT {_SESSION_COLS} FROM sts_sessions WHERE access_key_id = ?", (access_key_id,)
        )
        return None if row is None else _session(row)

    # -- SAML providers and used assertions --------------------------------------------------
    _PROVIDER_COLS = "account_id, name, arn, metadata_document, entity_id, created, valid_until"

    def create_saml_provider(self, provider: SamlProvider) -> None:
        self._write(
            f"INSERT INTO saml_providers ({self._PROVIDER_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (provider.account_id, provider.name, provider.arn, provider.metadata_document,
             provider.entity_id, provider.created, provider.valid_until),
        )

    def get_saml_provider(self, arn: str) -> SamlProvider | None:
        row = self._one(f"SELECT {self._PROVIDER_COLS} FROM saml_providers WHERE arn = ?",
                        (arn,))
        return None if row is None else SamlProvider(*row)

    def list_saml_providers(self, account_id: str) -> list[SamlProvider]:
        rows = self._db.query(
            f"SELECT {self._PROVIDER_COLS} FROM saml_providers WHERE account_id = ?"
            " ORDER BY name", (account_id,))
        return [SamlProvider(*row) for row in rows]

    def update_saml_provider(self, arn: str, document: str, entity_id: str) -> None:
        self._must_change(
            "UPDATE saml_providers SET metadata_document = ?, entity_id = ? WHERE arn = ?",
            (document, entity_id, arn))

    def delete_saml_provider(self, arn: str) -> None:
        self._must_change("DELETE FROM saml_providers WHERE arn = ?", (arn,))

    def remember_assertion(self, key: str, expires: float, now: float) -> bool:
        # One INSERT ... ON CONFLICT DO NOTHING: concurrent requests, in any number of
        # processes, cannot both see "first use".
        inserted = self._write(
            "INSERT INTO used_assertions (assertion_key, expires) VALUES (?, ?)"
            " ON CONFLICT (assertion_key) DO NOTHING", (key, expires))
        if inserted:
            self._write("DELETE FROM used_assertions WHERE expires < ?", (now,))
            return True
        # A remembered entry past its expiry may be reused only by an expired assertion,
        # which verification refuses anyway.
        return False

    # -- Connect instances -----------------------------------------------------------------------
    def create_instance(self, instance: Instance, profiles: Sequence[Profile]) -> None:
        with self._db.transaction() as tx:
            tx.execute(
                f"INSERT INTO instances ({_INSTANCE_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    instance.instance_id,
                    instance.account_id,
                    instance.region,
                    instance.arn,
                    instance.alias,
                    instance.identity_management_type,
                    instance.status,
                    int(instance.inbound_calls),
                    int(instance.outbound_calls),
                    instance.created,
                ),
            )
            for profile in profiles:
                tx.execute(
                    "INSERT INTO profiles (instance_id, kind, profile_id, name, arn)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (
                        profile.instance_id,
                        profile.kind,
                        profile.profile_id,
                        profile.name,
                        profile.arn,
                    ),
                )

    def get_instance(self, instance_id: str) -> Instance | None:
        row = self._one(
            f"SELECT {_INSTANCE_COLS} FROM instances WHERE instance_id = ?", (instance_id,)
        )
        return None if row is None else _instance(row)

    def list_instances(self, account_id: str) -> list[Instance]:
        rows = self._db.query(
            f"SELECT {_INSTANCE_COLS} FROM instances WHERE account_id = ?"
            " ORDER BY created, instance_id",
            (account_id,),
        )
        return [_instance(row) for row in rows]

    def delete_instance(self, instance_id: str) -> None:
        with self._db.transaction() as tx:
            if tx.execute("DELETE FROM instances WHERE instance_id = ?", (instance_id,)) == 0:
                raise NotFound()
            for table in ("profiles", "connect_users", "role_bindings", "tokens"):
                tx.execute(f"DELETE FROM {table} WHERE instance_id = ?", (instance_id,))

    def list_profiles(self, instance_id: str, kind: str) -> list[Profile]:
        rows = self._db.query(
            "SELECT instance_id, kind, profile_id, name, arn FROM profiles"
            " WHERE instance_id = ? AND kind = ? ORDER BY name",
            (instance_id, kind),
        )
        return [Profile(*row) for row in rows]

    # -- Connect users ---------------------------------------------------------------------------
    def create_connect_user(self, user: ConnectUser) -> None:
        self._write(
            f"INSERT INTO connect_users ({_USER_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                user.instance_id,
                user.user_id,
                user.username,
                user.arn,
                json.dumps(list(user.security_profile_ids)),
                user.routing_profile_id,
                user.identity_info,
                user.phone_config,
                user.directory_user_id,
                user.hierarchy_group_id,
                user.created,
                user.modified,
            ),
        )

    def get_connect_user(self, instance_id: str, user_id: str) -> ConnectUser | None:
        row = self._one(
            f"SELECT {_USER_COLS} FROM connect_users WHERE instance_id = ? AND user_id = ?",
            (instance_id, user_id),
        )
        return None if row is None else _connect_user(row)

    def find_connect_user(self, instance_id: str, username: str) -> ConnectUser | None:
        row = self._one(
            f"SELECT {_USER_COLS} FROM connect_users WHERE instance_id = ? AND username = ?",
            (instance_id, username),
        )
        return None if row is None else _connect_user(row)

    def list_connect_users(
        self, instance_id: str, after_username: str | None, limit: int
    ) -> list[ConnectUser]:
        rows = self._db.query(
            f"SELECT {_USER_COLS} FROM connect_users WHERE instance_id = ? AND username > ?"
            " ORDER BY username LIMIT ?",
            (instance_id, after_username or "", limit),
        )
        return [_connect_user(row) for row in rows]

    def update_connect_user_identity(
        self, instance_id: str, user_id: str, identity_info: str, modified: float
    ) -> None:
        self._must_change(
            "UPDATE connect_users SET identity_info = ?, modified = ?"
            " WHERE instance_id = ? AND user_id = ?",
            (identity_info, modified, instance_id, user_id),
        )

    def delete_connect_user(self, instance_id: str, user_id: str) -> None:
        with self._db.transaction() as tx:
            changed = tx.execute(
                "DELETE FROM connect_users WHERE instance_id = ? AND user_id = ?",
                (instance_id, user_id),
            )
            if changed == 0:
                raise NotFound()
            tx.execute(
                "DELETE FROM role_bindings WHERE instance_id = ? AND user_id = ?",
                (instance_id, user_id),
            )
            tx.execute(
                "UPDATE tokens SET revoked = 1 WHERE instance_id = ? AND user_id = ?",
                (instance_id, user_id),
            )

    # -- role bindings ---------------------------------------------------------------------------
    def bind_role(self, binding: RoleBinding, *, allow_many: bool) -> bool:
        with self._db.transaction() as tx:
            if allow_many:
                tx.execute(
                    "INSERT INTO role_bindings (instance_id, user_id, role_arn, created)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    (binding.instance_id, binding.user_id, binding.role_arn, binding.created),
                )
                return True
            # One role per user. Touching the user's row first takes its row lock (PostgreSQL;
            # SQLite's write transactions are serial anyway), so two concurrent first
            # federations through different roles cannot both find the user unbound.
            tx.execute(
                "UPDATE connect_users SET modified = modified"
                " WHERE instance_id = ? AND user_id = ?",
                (binding.instance_id, binding.user_id),
            )
            tx.execute(
                "INSERT INTO role_bindings (instance_id, user_id, role_arn, created)"
                " SELECT ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM role_bindings"
                " WHERE instance_id = ? AND user_id = ?) ON CONFLICT DO NOTHING",
                (
                    binding.instance_id,
                    binding.user_id,
                    binding.role_arn,
                    binding.created,
                    binding.instance_id,
                    binding.user_id,
                ),
            )
            rows = tx.query(
                "SELECT 1 FROM role_bindings WHERE instance_id = ? AND user_id = ?"
                " AND role_arn = ?",
                (binding.instance_id, binding.user_id, binding.role_arn),
            )
            return bool(rows)

    def list_role_bindings(self, instance_id: str, user_id: str) -> list[RoleBinding]:
        rows = self._db.query(
            "SELECT instance_id, user_id, role_arn, created FROM role_bindings"
            " WHERE instance_id = ? AND user_id = ? ORDER BY created, role_arn",
            (instance_id, user_id),
        )
        return [RoleBinding(*row) for row in rows]

    # -- tokens ----------------------------------------------------------------------------------
    def insert_tokens(self, tokens: Sequence[Token]) -> None:
        if not tokens:
            return
        rows = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?)"] * len(tokens))
        params: list[Any] = []
        for token in tokens:
            params += [token.token_hash, token.kind, token.family_id, token.instance_id,
                       token.user_id, token.session_key_id, token.created, token.expires,
                       int(token.revoked)]
        # One statement: its own implicit transaction, so the tokens land together or not at all.
        self._write(
            "INSERT INTO tokens (token_hash, kind, family_id, instance_id, user_id,"
            f" session_key_id, created, expires, revoked) VALUES {rows}",
            params,
        )

    def consume_token(self, token_hash: str, kind: str, now: float) -> Token | None:
        rows = self._db.query(
            "UPDATE tokens SET revoked = 1 WHERE token_hash = ? AND kind = ? AND revoked = 0"
            " AND expires > ? RETURNING token_hash, kind, family_id, instance_id, user_id,"
            " session_key_id, created, expires, revoked",
            (token_hash, kind, now),
        )
        return _token(rows[0]) if rows else None

    def put_signin_state(self, state_hash: str, payload: str, expires: float) -> None:
        self._write("INSERT INTO signin_states (state_hash, payload, expires) VALUES (?, ?, ?)",
                    (state_hash, payload, expires))

    def take_signin_state(self, state_hash: str, now: float) -> str | None:
        rows = self._db.query(
            "DELETE FROM signin_states WHERE state_hash = ? RETURNING payload, expires",
            (state_hash,))
        if not rows or float(rows[0][1]) <= now:
            return None
        return str(rows[0][0])

    def get_token(self, token_hash: str) -> Token | None:
        row = self._one(
            "SELECT token_hash, kind, family_id, instance_id, user_id, session_key_id, created,"
            " expires, revoked FROM tokens WHERE token_hash = ?",
            (token_hash,),
        )
        return None if row is None else _token(row)


def migrate(db: Database, migrations: Sequence[str]) -> None:
    """Apply the migrations not yet recorded, each in its own transaction."""
    with db.transaction() as tx:
        tx.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY)")
    applied = {int(row[0]) for row in db.query("SELECT version FROM schema_version")}
    for number, script in enumerate(migrations, start=1):
        if number in applied:
            continue
        try:
            with db.transaction() as tx:
                tx.execute("INSERT INTO schema_version (version) VALUES (?)", (number,))
                for statement in _statements(script):
                    tx.execute(statement)
        except Conflict:
            continue  # another process applied this migration first


def _statements(script: str) -> Iterator[str]:
    for statement in script.split(";"):
        if statement.strip():
            yield statement.strip()

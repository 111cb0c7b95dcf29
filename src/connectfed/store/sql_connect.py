"""Connect statements: instances, profiles, users and role bindings."""

from __future__ import annotations

import json
from collections.abc import Sequence

from connectfed.store.protocol import Conflict, NotFound
from connectfed.store.records import (
    ConnectUser,
    Instance,
    Profile,
    RoleBinding,
)
from connectfed.store.sql import (
    _INSTANCE_COLS,
    _USER_COLS,
    SqlBase,
    _connect_user,
    _instance,
    tags_text,
)


def _marks(count: int) -> str:
    return ", ".join("?" * count)


class ConnectStatements(SqlBase):
    # -- Connect instances -----------------------------------------------------------------------
    def create_instance(self, instance: Instance, profiles: Sequence[Profile]) -> None:
        alias_key = None if instance.alias is None else instance.alias.lower()
        with self._db.transaction() as tx:
            # The unique alias_key refuses a taken alias in any case, concurrent creates
            # included; this look covers the aliases an older database holds in several cases
            # (only the oldest of them has the key: migration 20).
            if alias_key is not None and tx.query(
                "SELECT 1 FROM instances WHERE lower(alias) = ?", (alias_key,)
            ):
                raise Conflict(f"the alias {instance.alias} is taken")
            tx.execute(
                f"INSERT INTO instances ({_INSTANCE_COLS}, alias_key) VALUES ({_marks(12)})",
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
                    tags_text(instance.tags),
                    alias_key,
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
            tx.execute(
                "DELETE FROM tokens WHERE family_id IN (SELECT family_id FROM"
                " token_families WHERE instance_id = ?)",
                (instance_id,),
            )
            for table in (
                "profiles",
                "connect_users",
                "role_bindings",
                "token_families",
                "connect_defaults",
                "agent_statuses",
                "queues",
                "routing_profile_settings",
                "routing_profile_queues",
                "agent_states",
            ):
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
            f"INSERT INTO connect_users ({_USER_COLS}) VALUES ({_marks(13)})",
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
                tags_text(user.tags),
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

    def update_connect_user_phone_config(
        self, instance_id: str, user_id: str, phone_config: str, modified: float
    ) -> None:
        self._must_change(
            "UPDATE connect_users SET phone_config = ?, modified = ?"
            " WHERE instance_id = ? AND user_id = ?",
            (phone_config, modified, instance_id, user_id),
        )

    def delete_connect_user(self, instance_id: str, user_id: str) -> None:
        with self._db.transaction() as tx:
            changed = tx.execute(
                "DELETE FROM connect_users WHERE instance_id = ? AND user_id = ?",
                (instance_id, user_id),
            )
            if changed == 0:
                raise NotFound()
            for table in ("role_bindings", "agent_states"):
                tx.execute(
                    f"DELETE FROM {table} WHERE instance_id = ? AND user_id = ?",
                    (instance_id, user_id),
                )
            tx.execute(
                "UPDATE token_families SET revoked = 'user-deleted' WHERE instance_id = ?"
                " AND user_id = ? AND revoked IS NULL",
                (instance_id, user_id),
            )

    # -- role bindings ---------------------------------------------------------------------------
    # Keyed by the principal's unique id: a role deleted and recreated under the same name (same
    # ARN) is a different principal and does not inherit the old binding.
    def bind_role(self, binding: RoleBinding, *, allow_many: bool) -> bool:
        values = (
            binding.instance_id,
            binding.user_id,
            binding.role_id,
            binding.role_arn,
            binding.created,
        )
        with self._db.transaction() as tx:
            if allow_many:
                tx.execute(
                    "INSERT INTO role_bindings (instance_id, user_id, role_id, role_arn, created)"
                    " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    values,
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
                "INSERT INTO role_bindings (instance_id, user_id, role_id, role_arn, created)"
                " SELECT ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM role_bindings"
                " WHERE instance_id = ? AND user_id = ?) ON CONFLICT DO NOTHING",
                (*values, binding.instance_id, binding.user_id),
            )
            rows = tx.query(
                "SELECT 1 FROM role_bindings WHERE instance_id = ? AND user_id = ? AND role_id = ?",
                (binding.instance_id, binding.user_id, binding.role_id),
            )
            return bool(rows)

    def list_role_bindings(self, instance_id: str, user_id: str) -> list[RoleBinding]:
        rows = self._db.query(
            "SELECT instance_id, user_id, role_arn, role_id, created FROM role_bindings"
            " WHERE instance_id = ? AND user_id = ? ORDER BY created, role_id",
            (instance_id, user_id),
        )
        return [RoleBinding(*row) for row in rows]

"""Connect agent-data statements: statuses, queues, routing profiles, and the agents' live state.

Read-modify-write changes run in one transaction that first touches the row it changes
(``UPDATE … SET x = x``): on PostgreSQL that takes the row lock at READ COMMITTED, on SQLite
write transactions are serial anyway. Creating an instance's defaults is guarded by the
``connect_defaults`` marker row, so concurrent servers create them exactly once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from connectfed.store.agent_records import (
    AgentStateRecord,
    AgentStatusRecord,
    ConnectDefaults,
    InstanceDefaultsInfo,
    QueueRecord,
    RoutingProfileRecord,
    RoutingQueueRecord,
)
from connectfed.store.protocol import Conflict, NotFound
from connectfed.store.sql import Row, SqlBase, Transaction, tags_of, tags_text

_STATUS_COLS = (
    "instance_id, status_id, arn, name, description, type, enabled, display_order, modified, tags"
)
_QUEUE_COLS = (
    "instance_id, queue_id, arn, name, description, queue_type, hours_of_operation_id,"
    " max_contacts, enabled, modified, tags"
)
_ROUTING_COLS = (
    "p.instance_id, p.profile_id, p.name, p.arn, s.description, s.default_outbound_queue_id,"
    " s.media_concurrencies, s.modified, p.tags"
)
_ROUTING_QUEUE_COLS = "instance_id, profile_id, queue_id, channel, priority, delay"
_STATE_COLS = "instance_id, user_id, status_id, started, version"


def _status(row: Row) -> AgentStatusRecord:
    values = list(row)
    values[6] = bool(values[6])
    values[9] = tags_of(values[9])
    return AgentStatusRecord(*values)


def _queue(row: Row) -> QueueRecord:
    values = list(row)
    values[8] = bool(values[8])
    values[10] = tags_of(values[10])
    return QueueRecord(*values)


def _routing(row: Row) -> RoutingProfileRecord:
    values = list(row)
    values[6] = tuple((str(c), int(n)) for c, n in json.loads(values[6]))
    values[8] = tags_of(values[8])
    return RoutingProfileRecord(*values)


def _status_params(status: AgentStatusRecord) -> tuple[Any, ...]:
    return (
        status.instance_id,
        status.status_id,
        status.arn,
        status.name,
        status.description,
        status.type,
        int(status.enabled),
        status.display_order,
        status.modified,
        tags_text(status.tags),
    )


def _insert_status(tx: Transaction, status: AgentStatusRecord) -> None:
    tx.execute(
        f"INSERT INTO agent_statuses ({_STATUS_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        _status_params(status),
    )


def _insert_queue(tx: Transaction, queue: QueueRecord) -> None:
    tx.execute(
        f"INSERT INTO queues ({_QUEUE_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            queue.instance_id,
            queue.queue_id,
            queue.arn,
            queue.name,
            queue.description,
            queue.queue_type,
            queue.hours_of_operation_id,
            queue.max_contacts,
            int(queue.enabled),
            queue.modified,
            tags_text(queue.tags),
        ),
    )


def _insert_routing_settings(tx: Transaction, profile: RoutingProfileRecord) -> None:
    tx.execute(
        "INSERT INTO routing_profile_settings (instance_id, profile_id, description,"
        " default_outbound_queue_id, media_concurrencies, modified) VALUES (?, ?, ?, ?, ?, ?)",
        (
            profile.instance_id,
            profile.profile_id,
            profile.description,
            profile.default_outbound_queue_id,
            json.dumps([list(pair) for pair in profile.media_concurrencies]),
            profile.modified,
        ),
    )


def _insert_routing_queues(tx: Transaction, queues: Sequence[RoutingQueueRecord]) -> None:
    for queue in queues:
        tx.execute(
            f"INSERT INTO routing_profile_queues ({_ROUTING_QUEUE_COLS}) VALUES (?, ?, ?, ?, ?, ?)",
            (
                queue.instance_id,
                queue.profile_id,
                queue.queue_id,
                queue.channel,
                queue.priority,
                queue.delay,
            ),
        )


class AgentStatements(SqlBase):
    # -- per-instance defaults -------------------------------------------------------------------
    def ensure_connect_defaults(self, defaults: ConnectDefaults) -> bool:
        with self._db.transaction() as tx:
            created = tx.execute(
                "INSERT INTO connect_defaults (instance_id, hours_of_operation_id,"
                " offline_status_id) VALUES (?, ?, ?) ON CONFLICT (instance_id) DO NOTHING",
                (defaults.instance_id, defaults.hours_of_operation_id, defaults.offline_status_id),
            )
            if created == 0:
                return False
            for status in defaults.statuses:
                _insert_status(tx, status)
            for queue in defaults.queues:
                _insert_queue(tx, queue)
            for profile in defaults.routing_profiles:
                _insert_routing_settings(tx, profile)
            _insert_routing_queues(tx, defaults.routing_queues)
            return True

    def get_connect_defaults(self, instance_id: str) -> InstanceDefaultsInfo | None:
        row = self._one(
            "SELECT hours_of_operation_id, offline_status_id FROM connect_defaults"
            " WHERE instance_id = ?",
            (instance_id,),
        )
        return None if row is None else InstanceDefaultsInfo(str(row[0]), str(row[1]))

    # -- agent statuses --------------------------------------------------------------------------
    def create_agent_status(self, status: AgentStatusRecord) -> None:
        with self._db.transaction() as tx:
            _insert_status(tx, status)

    def get_agent_status(self, instance_id: str, status_id: str) -> AgentStatusRecord | None:
        row = self._one(
            f"SELECT {_STATUS_COLS} FROM agent_statuses WHERE instance_id = ? AND status_id = ?",
            (instance_id, status_id),
        )
        return None if row is None else _status(row)

    def list_agent_statuses(self, instance_id: str) -> list[AgentStatusRecord]:
        rows = self._db.query(
            f"SELECT {_STATUS_COLS} FROM agent_statuses WHERE instance_id = ? ORDER BY name",
            (instance_id,),
        )
        return [_status(row) for row in rows]

    def update_agent_status(
        self,
        instance_id: str,
        status_id: str,
        change: Callable[[AgentStatusRecord], AgentStatusRecord],
    ) -> AgentStatusRecord:
        key = (instance_id, status_id)
        with self._db.transaction() as tx:
            if (
                tx.execute(
                    "UPDATE agent_statuses SET modified = modified"
                    " WHERE instance_id = ? AND status_id = ?",
                    key,
                )
                == 0
            ):
                raise NotFound()
            rows = tx.query(
                f"SELECT {_STATUS_COLS} FROM agent_statuses"
                " WHERE instance_id = ? AND status_id = ?",
                key,
            )
            new = change(_status(rows[0]))
            if (new.instance_id, new.status_id) != key:
                raise ValueError("an update must not change the status's identity")
            tx.execute(
                "UPDATE agent_statuses SET arn = ?, name = ?, description = ?, type = ?,"
                " enabled = ?, display_order = ?, modified = ?"
                " WHERE instance_id = ? AND status_id = ?",
                (*_status_params(new)[2:-1], *key),
            )
            return new

    # -- queues ----------------------------------------------------------------------------------
    def create_queue(self, queue: QueueRecord) -> None:
        with self._db.transaction() as tx:
            _insert_queue(tx, queue)

    def get_queue(self, instance_id: str, queue_id: str) -> QueueRecord | None:
        row = self._one(
            f"SELECT {_QUEUE_COLS} FROM queues WHERE instance_id = ? AND queue_id = ?",
            (instance_id, queue_id),
        )
        return None if row is None else _queue(row)

    def list_queues(self, instance_id: str) -> list[QueueRecord]:
        rows = self._db.query(
            f"SELECT {_QUEUE_COLS} FROM queues WHERE instance_id = ? ORDER BY name",
            (instance_id,),
        )
        return [_queue(row) for row in rows]

    # -- routing profiles ------------------------------------------------------------------------
    def create_routing_profile(
        self, profile: RoutingProfileRecord, queues: Sequence[RoutingQueueRecord]
    ) -> None:
        with self._db.transaction() as tx:
            # The instance's marker row serialises creations, so two servers cannot both find a
            # name free; the name check and the inserts then see every committed profile.
            tx.execute(
                "UPDATE connect_defaults SET offline_status_id = offline_status_id"
                " WHERE instance_id = ?",
                (profile.instance_id,),
            )
            if tx.query(
                "SELECT 1 FROM profiles WHERE instance_id = ? AND kind = 'routing' AND name = ?",
                (profile.instance_id, profile.name),
            ):
                raise Conflict(profile.name)
            tx.execute(
                "INSERT INTO profiles (instance_id, kind, profile_id, name, arn, tags)"
                " VALUES (?, 'routing', ?, ?, ?, ?)",
                (
                    profile.instance_id,
                    profile.profile_id,
                    profile.name,
                    profile.arn,
                    tags_text(profile.tags),
                ),
            )
            _insert_routing_settings(tx, profile)
            _insert_routing_queues(tx, queues)

    def get_routing_profile(self, instance_id: str, profile_id: str) -> RoutingProfileRecord | None:
        row = self._one(
            f"SELECT {_ROUTING_COLS} FROM profiles p JOIN routing_profile_settings s"
            " ON s.instance_id = p.instance_id AND s.profile_id = p.profile_id"
            " WHERE p.instance_id = ? AND p.kind = 'routing' AND p.profile_id = ?",
            (instance_id, profile_id),
        )
        return None if row is None else _routing(row)

    def list_routing_queues(
        self, instance_id: str, profile_id: str | None = None
    ) -> list[RoutingQueueRecord]:
        """The queues of one routing profile, or of every profile of the instance (None)."""
        sql = f"SELECT {_ROUTING_QUEUE_COLS} FROM routing_profile_queues WHERE instance_id = ?"
        params: tuple[str, ...] = (instance_id,)
        if profile_id is not None:
            sql += " AND profile_id = ?"
            params += (profile_id,)
        rows = self._db.query(sql + " ORDER BY profile_id, queue_id, channel", params)
        return [RoutingQueueRecord(*row) for row in rows]

    def update_user_routing_profile(
        self, instance_id: str, user_id: str, profile_id: str, modified: float
    ) -> None:
        self._must_change(
            "UPDATE connect_users SET routing_profile_id = ?, modified = ?"
            " WHERE instance_id = ? AND user_id = ?",
            (profile_id, modified, instance_id, user_id),
        )

    # -- the agents' live state ------------------------------------------------------------------
    def get_agent_state(self, instance_id: str, user_id: str) -> AgentStateRecord | None:
        row = self._one(
            f"SELECT {_STATE_COLS} FROM agent_states WHERE instance_id = ? AND user_id = ?",
            (instance_id, user_id),
        )
        return None if row is None else AgentStateRecord(*row)

    def list_agent_states(self, instance_id: str) -> list[AgentStateRecord]:
        rows = self._db.query(
            f"SELECT {_STATE_COLS} FROM agent_states WHERE instance_id = ? ORDER BY user_id",
            (instance_id,),
        )
        return [AgentStateRecord(*row) for row in rows]

    def set_agent_state(
        self, instance_id: str, user_id: str, status_id: str, started: float
    ) -> AgentStateRecord:
        key = (instance_id, user_id)
        with self._db.transaction() as tx:
            # Locking the user's row first: a concurrent DeleteUser either runs before (we find
            # no user) or waits and then deletes the state row we write (no orphans).
            if (
                tx.execute(
                    "UPDATE connect_users SET modified = modified"
                    " WHERE instance_id = ? AND user_id = ?",
                    key,
                )
                == 0
            ):
                raise NotFound()
            rows = tx.query(
                f"SELECT {_STATE_COLS} FROM agent_states WHERE instance_id = ? AND user_id = ?",
                key,
            )
            if rows and rows[0][2] == status_id:
                return AgentStateRecord(*rows[0])  # the same status again changes nothing
            version = int(rows[0][4]) + 1 if rows else 1
            tx.execute(
                f"INSERT INTO agent_states ({_STATE_COLS}) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (instance_id, user_id) DO UPDATE SET status_id = excluded.status_id,"
                " started = excluded.started, version = excluded.version",
                (*key, status_id, started, version),
            )
            return AgentStateRecord(instance_id, user_id, status_id, started, version)

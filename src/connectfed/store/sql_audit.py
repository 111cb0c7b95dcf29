"""Audit trail statements: one row per event, its resources beside it for lookups by resource,
newest first by (position, event_id), pruned by age and by count."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from connectfed.store.audit_records import (
    AuditAttribute,
    AuditQuery,
    AuditRecord,
    AuditResource,
)
from connectfed.store.sql import Row, SqlBase, Transaction

_COLUMNS = (
    "event_id, account_id, event_time, position, event_name, event_source, username,"
    " access_key_id, read_only, document"
)
_ATTRIBUTE_COLUMNS = {
    AuditAttribute.EVENT_ID: "e.event_id",
    AuditAttribute.EVENT_NAME: "e.event_name",
    AuditAttribute.USERNAME: "e.username",
    AuditAttribute.EVENT_SOURCE: "e.event_source",
    AuditAttribute.ACCESS_KEY_ID: "e.access_key_id",
}
# At most this many events naming a resource are read by the resource-name index; beyond, the
# walk finds a page's worth of them sooner.
_FEW = 500
_RESOURCE_COLUMNS = {
    AuditAttribute.RESOURCE_NAME: "resource_name",
    AuditAttribute.RESOURCE_TYPE: "resource_type",
}


class AuditStatements(SqlBase):
    def put_audit_events(self, records: Sequence[AuditRecord]) -> None:
        if not records:
            return
        events = [
            (
                record.event_id,
                record.account_id,
                record.event_time,
                record.position,
                record.event_name,
                record.event_source,
                record.username,
                record.access_key_id,
                1 if record.read_only else 0,
                record.document,
            )
            for record in records
        ]
        resources = [
            (record.event_id, resource.resource_type, resource.resource_name)
            for record in records
            for resource in record.resources
        ]
        # One execute_many per table: on PostgreSQL one round trip each, not one per row.
        with self._db.transaction() as tx:
            tx.execute_many(
                f"INSERT INTO audit_events ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                events,
            )
            if resources:
                tx.execute_many(
                    "INSERT INTO audit_resources (event_id, resource_type, resource_name)"
                    " VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                    resources,
                )

    def lookup_audit_events(self, query: AuditQuery) -> list[AuditRecord]:
        """The page in two steps: the ids of the matching events, newest first, found in the
        account's walk index alone (migration 16: it holds every attribute a lookup tests, so
        no event's row is read to test it), then those events' rows by key. A resource name
        seen on few events is looked up by its own index instead of walked to."""
        where = ["e.account_id = ?"]
        params: list[Any] = [query.account_id]
        if query.attribute is not None:
            key, value = query.attribute
            if key in _ATTRIBUTE_COLUMNS:
                where.append(f"{_ATTRIBUTE_COLUMNS[key]} = ?")
                params.append(value)
            elif key is AuditAttribute.READ_ONLY:
                where.append("e.read_only = ?")
                params.append(1 if value == "true" else 0)
            else:
                found = self._few_named(value) if key is AuditAttribute.RESOURCE_NAME else None
                if found is not None:
                    if not found:
                        return []
                    where.append(f"e.event_id IN ({', '.join('?' * len(found))})")
                    params += found
                else:
                    where.append(
                        "EXISTS (SELECT 1 FROM audit_resources r WHERE r.event_id ="
                        f" e.event_id AND r.{_RESOURCE_COLUMNS[key]} = ?)"
                    )
                    params.append(value)
        if query.start is not None:
            where.append("e.event_time >= ?")
            params.append(query.start)
        if query.end is not None:
            where.append("e.event_time <= ?")
            params.append(query.end)
        if query.cursor is not None:
            where.append("(e.position < ? OR (e.position = ? AND e.event_id < ?))")
            params += [query.cursor.position, query.cursor.position, query.cursor.event_id]
        ids = [
            str(row[0])
            for row in self._db.query(
                f"SELECT e.event_id FROM audit_events e WHERE {' AND '.join(where)}"
                " ORDER BY e.position DESC, e.event_id DESC LIMIT ?",
                (*params, query.limit),
            )
        ]
        if not ids:
            return []
        rows = self._db.query(
            f"SELECT {_COLUMNS} FROM audit_events WHERE event_id IN ({', '.join('?' * len(ids))})",
            ids,
        )
        order = {event_id: at for at, event_id in enumerate(ids)}
        return self._with_resources(sorted(rows, key=lambda row: order[str(row[0])]))

    def _few_named(self, resource_name: str) -> list[str] | None:
        """The ids of the events naming ``resource_name``, when there are few of them (found by
        the resource-name index); None when there are many (the walk then finds a page's worth
        sooner than reading them all would)."""
        rows = self._db.query(
            "SELECT event_id FROM audit_resources WHERE resource_name = ? LIMIT ?",
            (resource_name, _FEW + 1),
        )
        return None if len(rows) > _FEW else sorted({str(row[0]) for row in rows})

    def _with_resources(self, rows: list[Row]) -> list[AuditRecord]:
        if not rows:
            return []
        ids = [str(row[0]) for row in rows]
        found: dict[str, list[AuditResource]] = {event_id: [] for event_id in ids}
        marks = ", ".join("?" * len(ids))
        for event_id, resource_type, resource_name in self._db.query(
            "SELECT event_id, resource_type, resource_name FROM audit_resources"
            f" WHERE event_id IN ({marks}) ORDER BY event_id, resource_type, resource_name",
            ids,
        ):
            found[str(event_id)].append(AuditResource(str(resource_type), str(resource_name)))
        return [_record(row, tuple(found[str(row[0])])) for row in rows]

    def gc_audit_events(self, before: float, keep: int) -> int:
        """Delete the events older than ``before`` (epoch seconds), then, when ``keep`` is
        positive, all but the newest ``keep``; returns how many went."""
        with self._db.transaction() as tx:
            removed = self._delete_where(tx, "position < ?", before)
            if keep > 0:
                rows = tx.query(
                    "SELECT position FROM audit_events ORDER BY position DESC,"
                    " event_id DESC LIMIT 1 OFFSET ?",
                    (keep,),
                )
                if rows:  # the newest event beyond the bound: it and all older ones go
                    removed += self._delete_where(tx, "position <= ?", float(rows[0][0]))
            return removed

    @staticmethod
    def _delete_where(tx: Transaction, condition: str, value: float) -> int:
        tx.execute(
            "DELETE FROM audit_resources WHERE event_id IN"
            f" (SELECT event_id FROM audit_events WHERE {condition})",
            (value,),
        )
        return tx.execute(f"DELETE FROM audit_events WHERE {condition}", (value,))


def _record(row: Row, resources: tuple[AuditResource, ...]) -> AuditRecord:
    (
        event_id,
        account_id,
        event_time,
        position,
        event_name,
        event_source,
        username,
        access_key_id,
        read_only,
        document,
    ) = row
    return AuditRecord(
        str(event_id),
        str(account_id),
        float(event_time),
        float(position),
        str(event_name),
        str(event_source),
        username,
        access_key_id,
        bool(read_only),
        resources,
        str(document),
    )

"""Tags kept in the rows of the resources they belong to (migration 19): SAML providers, and
Connect instances, users, agent statuses, queues and routing and security profiles.

Each is JSON ``[[key, value], ...]`` in the row's ``tags`` column (NULL for none), so a resource
is read with its tags and deleted with them. A change locks the row first (``UPDATE … SET tags =
tags``: PostgreSQL's row lock at READ COMMITTED; SQLite's writers are serial anyway), then reads,
changes and writes the tags, so a limit counted here holds across processes. IAM's tag keys
(SAML providers) are unique regardless of case; Connect's are case-sensitive.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from connectfed.store.protocol import LimitReached, NotFound
from connectfed.store.records import Tag
from connectfed.store.sql import SqlBase, Transaction, tags_of, tags_text


@dataclass(frozen=True, slots=True)
class _Tagged:
    """Where one kind of resource keeps its tags: its rows, selected by ``where`` (with the
    resource's key, in order), and whether its tag keys are compared regardless of case."""

    table: str
    where: str
    folds_case: bool


_KINDS = {
    "saml-provider": _Tagged("saml_providers", "arn = ?", True),
    "instance": _Tagged("instances", "instance_id = ?", False),
    "agent": _Tagged("connect_users", "instance_id = ? AND user_id = ?", False),
    "agent-state": _Tagged("agent_statuses", "instance_id = ? AND status_id = ?", False),
    "queue": _Tagged("queues", "instance_id = ? AND queue_id = ?", False),
    "routing-profile": _Tagged(
        "profiles", "instance_id = ? AND kind = 'routing' AND profile_id = ?", False
    ),
    "security-profile": _Tagged(
        "profiles", "instance_id = ? AND kind = 'security' AND profile_id = ?", False
    ),
}
TAGGED_KINDS = tuple(_KINDS)


def _folded(key: str, folds_case: bool) -> str:
    return key.lower() if folds_case else key


def merged(held: Sequence[Tag], added: Sequence[Tag], folds_case: bool) -> tuple[Tag, ...]:
    """``held`` with ``added``: a tag whose key is held already replaces that one in its place
    (for IAM, regardless of case: the key in its new case); the others follow, in order."""
    replacing = {_folded(tag.key, folds_case): tag for tag in added}
    kept = tuple(replacing.pop(_folded(tag.key, folds_case), tag) for tag in held)
    return kept + tuple(replacing.values())


class TagStatements(SqlBase):
    def _retag_resource(
        self,
        kind: str,
        key: Sequence[str],
        change: Callable[[tuple[Tag, ...], bool], tuple[Tag, ...]],
        limit: int | None = None,
    ) -> tuple[Tag, ...]:
        tagged = _KINDS[kind]

        def work(tx: Transaction) -> tuple[Tag, ...]:
            lock = f"UPDATE {tagged.table} SET tags = tags WHERE {tagged.where}"
            if tx.execute(lock, tuple(key)) == 0:
                raise NotFound()
            rows = tx.query(f"SELECT tags FROM {tagged.table} WHERE {tagged.where}", tuple(key))
            held = tags_of(rows[0][0])
            tags = change(held, tagged.folds_case)
            if limit is not None and len(tags) > limit:
                raise LimitReached()
            if tags != held:
                tx.execute(
                    f"UPDATE {tagged.table} SET tags = ? WHERE {tagged.where}",
                    (tags_text(tags), *key),
                )
            return tags

        return self._atomic(work)

    def resource_tags(self, kind: str, key: Sequence[str]) -> tuple[Tag, ...] | None:
        tagged = _KINDS[kind]
        row = self._one(f"SELECT tags FROM {tagged.table} WHERE {tagged.where}", tuple(key))
        return None if row is None else tags_of(row[0])

    def tag_resource(
        self, kind: str, key: Sequence[str], tags: Sequence[Tag], limit: int | None = None
    ) -> tuple[Tag, ...]:
        return self._retag_resource(kind, key, lambda held, folds: merged(held, tags, folds), limit)

    def untag_resource(self, kind: str, key: Sequence[str], keys: Sequence[str]) -> tuple[Tag, ...]:
        def change(held: tuple[Tag, ...], folds: bool) -> tuple[Tag, ...]:
            gone = {_folded(k, folds) for k in keys}
            return tuple(tag for tag in held if _folded(tag.key, folds) not in gone)

        return self._retag_resource(kind, key, change)

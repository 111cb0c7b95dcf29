"""The SQL implementation of :class:`~connectfed.store.protocol.Store`, shared by all backends.

This module holds the driver-facing protocols, row helpers, the shared base and migrations;
``sql_identity``, ``sql_connect`` and ``sql_tokens`` hold the statements per concept, and
:class:`SqlStore` (in ``sql_store``) combines them.

Statements are written once with ``?`` placeholders; a backend supplies a :class:`Database`
that runs them (converting placeholders if its driver needs to) and says which driver errors
mean a uniqueness clash.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol, TypeVar

from connectfed.store import deferred
from connectfed.store.deferred import BatchWriter
from connectfed.store.protocol import Conflict, NotFound
from connectfed.store.records import (
    ConnectUser,
    Instance,
    Role,
    SamlSubject,
    Session,
    SessionTag,
    Tag,
)
from connectfed.store.sealing import KEY_CHECK, SEALED_LIKE, MasterKey, SecretBox, is_sealed

Row = Sequence[Any]
T = TypeVar("T")
RETRIES = 5


class Retry(Exception):
    """A transient failure the whole transaction may simply be run again for (PostgreSQL
    serialisation failure or deadlock, SQLSTATE 40001/40P01); raised by backends."""


class Transaction(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; return the number of rows it changed."""
        ...

    def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for each of ``rows`` (PostgreSQL: in one round trip, pipelined)."""
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
    " session_name, source, created, expiration, revoked, session_policy, session_tags,"
    " source_identity, saml_subject"
)
_INSTANCE_COLS = (
    "instance_id, account_id, region, arn, alias, identity_management_type, status,"
    " inbound_calls, outbound_calls, created, tags"
)
_USER_COLS = (
    "instance_id, user_id, username, arn, security_profile_ids, routing_profile_id,"
    " identity_info, phone_config, directory_user_id, hierarchy_group_id, created, modified,"
    " tags"
)
_ROLE_COLS = (
    "account_id, role_name, role_id, path, arn, trust_policy, max_session_duration,"
    " description, created, tags"
)


def _session(row: Row) -> Session:
    (
        key,
        secret,
        token_hash,
        account,
        role_arn,
        role_id,
        role_name,
        session_name,
        source,
        created,
        expiration,
        revoked,
        session_policy,
        tags,
        source_identity,
        saml_subject,
    ) = row
    return Session(
        key,
        secret,
        token_hash,
        account,
        role_arn,
        role_id,
        role_name,
        session_name,
        source,
        created,
        expiration,
        _bool(revoked),
        session_policy,
        session_tags_of(tags),
        source_identity,
        saml_subject_of(saml_subject),
    )


def saml_subject_text(subject: SamlSubject | None) -> str | None:
    """A SAML session's subject as stored: JSON ``[sub, sub_type, name_qualifier]``, NULL for
    a session not made from an assertion."""
    if subject is None:
        return None
    return json.dumps([subject.sub, subject.sub_type, subject.name_qualifier])


def saml_subject_of(text: str | None) -> SamlSubject | None:
    if not text:
        return None
    sub, sub_type, name_qualifier = json.loads(text)
    return SamlSubject(sub, sub_type, name_qualifier)


def session_tags_text(tags: tuple[SessionTag, ...]) -> str | None:
    """A session's tags as stored: JSON ``[[key, value, transitive], ...]``, NULL for none."""
    if not tags:
        return None
    return json.dumps([[tag.key, tag.value, tag.transitive] for tag in tags])


def session_tags_of(text: str | None) -> tuple[SessionTag, ...]:
    if not text:
        return ()
    return tuple(SessionTag(str(k), str(v), bool(t)) for k, v, t in json.loads(text))


def tags_text(tags: tuple[Tag, ...]) -> str | None:
    """A resource's tags as stored: JSON ``[[key, value], ...]``, NULL for none."""
    if not tags:
        return None
    return json.dumps([[tag.key, tag.value] for tag in tags])


def tags_of(text: str | None) -> tuple[Tag, ...]:
    if not text:
        return ()
    return tuple(Tag(str(k), str(v)) for k, v in json.loads(text))


def role_of(row: Row) -> Role:
    """A row of ``_ROLE_COLS``."""
    account, name, role_id, path, arn, trust, max_duration, description, created, tags = row
    return Role(
        account, name, role_id, path, arn, trust, max_duration, description, created, tags_of(tags)
    )


def _instance(row: Row) -> Instance:
    values = list(row)
    values[7] = _bool(values[7])
    values[8] = _bool(values[8])
    values[10] = tags_of(values[10])
    return Instance(*values)


def _connect_user(row: Row) -> ConnectUser:
    values = list(row)
    values[4] = tuple(json.loads(values[4]))
    values[12] = tags_of(values[12])
    return ConnectUser(*values)


class SqlBase:
    """The statement helpers every SQL mixin shares, and the sealing of secrets at rest."""

    def __init__(self, db: Database, master_key: MasterKey | None = None) -> None:
        self._db = db
        self._box = SecretBox(None)
        self._later = BatchWriter(self._write_batch, self._write_one)
        if master_key is not None:
            self._unlock(master_key)

    def _unlock(self, master_key: MasterKey) -> None:
        """Check the master key against the database's sealed check value (writing one on a
        new database), then seal any secret a pre-encryption version stored in the clear."""
        check = self.meta_get(KEY_CHECK)
        box = SecretBox(master_key.load(database_is_new=check is None))
        if check is None:
            check = self.meta_setdefault(KEY_CHECK, box.check_value())
        box.verify_check_value(check, master_key.origin)
        self._box = box
        for table in ("access_keys", "sts_sessions"):
            rows = self._db.query(
                f"SELECT access_key_id, secret_access_key FROM {table}"
                " WHERE secret_access_key NOT LIKE ?",
                (SEALED_LIKE,),
            )
            for key_id, secret in rows:
                self._db.execute(
                    f"UPDATE {table} SET secret_access_key = ? WHERE access_key_id = ?"
                    " AND secret_access_key = ?",
                    (box.seal(secret, f"{table}:{key_id}"), key_id, secret),
                )

    def close(self) -> None:
        self._later.close()
        self._db.close()

    def _one(self, sql: str, params: Sequence[Any]) -> Row | None:
        rows = self._db.query(sql, params)
        return rows[0] if rows else None

    def _write(self, sql: str, params: Sequence[Any]) -> int:
        return self._db.execute(sql, params)

    def _write_before_reply(self, sql: str, params: Sequence[Any]) -> None:
        """A write nothing in the same request reads back: when made while a request is
        answered, queued and committed before its reply (see :mod:`.deferred`); otherwise
        committed before this returns, like :meth:`_write`."""
        collected = deferred.collector()
        if collected is None:
            self._write(sql, params)
        else:
            collected.append(self._later.submit(sql, params))

    def _write_batch(self, writes: Sequence[deferred.PendingWrite]) -> None:
        # Writes of one statement (a batch of federations) go as one execute_many: on
        # PostgreSQL one round trip instead of one per write.
        runs = [
            (sql, [write.params for write in run])
            for sql, run in itertools.groupby(writes, key=lambda write: write.sql)
        ]

        def work(tx: Transaction) -> None:
            for sql, rows in runs:
                tx.execute_many(sql, rows)

        self._atomic(work)

    def _write_one(self, write: deferred.PendingWrite) -> None:
        self._atomic(lambda tx: tx.execute(write.sql, write.params))

    def _must_change(self, sql: str, params: Sequence[Any]) -> None:
        if self._write(sql, params) == 0:
            raise NotFound()

    def _atomic(self, work: Callable[[Transaction], T]) -> T:
        """Run ``work`` in one transaction, again from the start on a transient failure (dex's
        lesson: PostgreSQL may abort a transaction that collided with another; retry it)."""
        for attempt in range(RETRIES):
            try:
                with self._db.transaction() as tx:
                    return work(tx)
            except Retry:
                if attempt == RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

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

    def meta_secret_get(self, key: str) -> str | None:
        stored = self.meta_get(key)
        if stored is None or not is_sealed(stored):
            return stored  # absent, or in the clear from a version before sealing
        return self._box.open(stored, f"meta:{key}")

    def meta_secret_setdefault(self, key: str, value: str) -> str:
        context = f"meta:{key}"
        stored = self.meta_setdefault(key, self._box.seal(value, context))
        if not is_sealed(stored):  # stored in the clear by a version before sealing
            self._db.execute(
                "UPDATE meta SET value = ? WHERE key = ? AND value = ?",
                (self._box.seal(stored, context), key, stored),
            )
            return stored
        return self._box.open(stored, context)


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

"""Roles as the assume-role paths read them: by account and name, cached per process.

Every ``sts:AssumeRole`` and ``sts:AssumeRoleWithSAML`` (so every browser SAML sign-in) reads
its role, trust policy included, to evaluate that policy. The role is cached for
``cache_ttl_seconds`` like keys, sessions, policies and instances (:mod:`connectfed.cache`):
a change made through another server process sharing the database (a trust policy updated, a
role deleted or created) is seen within that bound (docs/compatibility.md, "IAM changes made
through another server process"); a change made through this process's
:class:`~connectfed.identity.iam.IamService` clears the cache at once, before the change is
answered. IAM's own API (GetRole, UpdateAssumeRolePolicy…) keeps reading the store.

Measured (issue 9), store-thread CPU in ``bench.saml_path``: the role's read cost ~116 µs per
sign-in there (a read connection of another store thread each time, behind the sign-ins' writes;
~11 µs alone in a quiet loop), and ``AssumeRoleWithSaml.prepare`` fell from a median ~218 to
~164 µs per sign-in (3 alternating pairs of 1,200 sign-ins). Whole sign-ins could not resolve it
on the shared machine (±15 % between runs).
Absent roles are cached too (a sign-in naming a role that does not exist does not read the
store each time); creating the role through this process clears them.
"""

from __future__ import annotations

from connectfed.cache import TtlCache
from connectfed.clock import Clock
from connectfed.store import Store
from connectfed.store.records import Role


class RoleDirectory:
    def __init__(self, store: Store, clock: Clock, ttl: float) -> None:
        self._store = store
        self._roles: TtlCache[Role | None] = TtlCache(ttl, clock.monotonic)

    def get(self, account_id: str, name: str) -> Role | None:
        """The role named ``name`` (IAM role names are case-insensitive) in ``account_id``."""
        return self._roles.get(
            (account_id, name.lower()), lambda: self._store.get_role(account_id, name)
        )

    def invalidate(self) -> None:
        """Forget every cached role: called by IAM on every role change (rare), so a change
        through this process holds for the very next assumption."""
        self._roles.invalidate()

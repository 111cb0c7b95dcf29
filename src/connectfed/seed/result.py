"""What applying a world did (each entry created, updated or unchanged) and what it holds now:
instance ids, access keys (with their secrets, for tests and the demo), role ARNs."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from connectfed.seed.source import Where
from connectfed.store.records import AccessKey, Instance
from connectfed.web.testidp_site import TestIdpSite


class Outcome(enum.StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class Change:
    kind: str  # "IAM user", "access key", "role", "instance", ...
    name: str
    outcome: Outcome
    where: Where

    def __str__(self) -> str:
        return f"{self.outcome.value:<9} {self.kind} {self.name} (line {self.where.line})"


@dataclass
class AppliedAccount:
    account_id: str
    root_keys: list[AccessKey] = field(default_factory=list)
    user_keys: dict[str, list[AccessKey]] = field(default_factory=dict)
    user_arns: dict[str, str] = field(default_factory=dict)
    role_arns: dict[str, str] = field(default_factory=dict)
    provider_arns: dict[str, str] = field(default_factory=dict)
    instances: dict[str, Instance] = field(default_factory=dict)  # by ref and by alias
    connect_users: dict[tuple[str, str], str] = field(default_factory=dict)  # (instance, name)


@dataclass
class Applied:
    bootstrap_account_id: str
    accounts: dict[str, AppliedAccount] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)
    test_idp: TestIdpSite | None = None

    def count(self, outcome: Outcome) -> int:
        return sum(1 for c in self.changes if c.outcome is outcome)

    @property
    def changed(self) -> bool:
        return any(c.outcome is not Outcome.UNCHANGED for c in self.changes)

    def summary(self) -> str:
        return ", ".join(f"{self.count(o)} {o.value}" for o in Outcome)

    def account(self, account_id: str | None = None) -> AppliedAccount:
        return self.accounts[account_id or self.bootstrap_account_id]

    def instance(self, name: str, account_id: str | None = None) -> Instance:
        """An instance by its ``ref`` or alias (KeyError when the world declares none)."""
        return self.account(account_id).instances[name]

    def access_keys(self, user: str, account_id: str | None = None) -> list[AccessKey]:
        """An IAM user's access keys (its declared ones first, in declaration order)."""
        return self.account(account_id).user_keys[user]

    def role_arn(self, name: str, account_id: str | None = None) -> str:
        return self.account(account_id).role_arns[name]

    def connect_user_id(self, instance: str, username: str, account_id: str | None = None) -> str:
        account = self.account(account_id)
        return account.connect_users[(account.instances[instance].instance_id, username)]

    def merge(self, other: Applied) -> None:
        """Fold a later application's results in (the plugin applies several worlds)."""
        self.changes += other.changes
        for account_id, applied in other.accounts.items():
            mine = self.accounts.setdefault(account_id, AppliedAccount(account_id))
            mine.root_keys = applied.root_keys or mine.root_keys
            mine.user_keys.update(applied.user_keys)
            mine.user_arns.update(applied.user_arns)
            mine.role_arns.update(applied.role_arns)
            mine.provider_arns.update(applied.provider_arns)
            mine.instances.update(applied.instances)
            mine.connect_users.update(applied.connect_users)
        self.test_idp = other.test_idp or self.test_idp

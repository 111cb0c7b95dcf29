"""The domain services on a fresh SQLite store with a fixed clock, for tests that call them
directly with typed values (no HTTP, no wire shapes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from connectfed.app import Services, build_services
from connectfed.clock import FixedClock
from connectfed.identity.principal import Principal
from connectfed.settings import Settings

START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@dataclass
class Domain:
    services: Services
    clock: FixedClock

    @property
    def root(self) -> Principal:
        boot = self.services.bootstrap
        return Principal.root(boot.account_id, boot.root_access_key_id)

    def user(self, name: str) -> Principal:
        """An IAM user (created now, without policies) as a caller, signing with a new key."""
        user = self.services.iam.create_user(self.root, name)
        key = self.services.iam.create_access_key(self.root, name)
        return Principal(
            "user", user.account_id, user.arn, user.user_id, user.user_name, key.access_key_id
        )


def domain(tmp_path: Path) -> Domain:
    clock = FixedClock(START)
    settings = Settings(
        database_url=f"sqlite://{tmp_path / 'db'}", throttle_rate=0, cache_ttl_seconds=0
    )
    return Domain(build_services(settings, clock), clock)

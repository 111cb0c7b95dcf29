"""The interface services record audit events through, and one that records nothing."""

from __future__ import annotations

from typing import Protocol

from connectfed.audit.events import AuditEvent


class AuditLog(Protocol):
    def record(self, event: AuditEvent) -> None:
        """Keep ``event`` in the audit trail. Never raises: auditing a call cannot fail it."""
        ...


class AuditObserver(Protocol):
    def observe(self, event: AuditEvent) -> None:
        """Called once for every event recorded (e.g. to count it)."""
        ...


class DiscardAuditLog:
    """An :class:`AuditLog` that keeps nothing (services built without a trail, unit tests)."""

    def record(self, event: AuditEvent) -> None:
        return None


DISCARD = DiscardAuditLog()

"""The audit trail: who federated, signed in, was refused or denied, called which IAM, STS or
Connect API (:mod:`connectfed.audit.calls`), and when.

Services record typed :class:`~connectfed.audit.events.AuditEvent` values through the small
:class:`~connectfed.audit.log.AuditLog` interface they are given; the
:class:`~connectfed.audit.trail.AuditTrail` stamps them (id, time, request id, source address),
keeps them in the store for a bounded time and count, and tells its observers (the metrics);
:class:`~connectfed.audit.history.AuditHistory` answers CloudTrail ``LookupEvents`` over them.

Knows nothing of HTTP or the wire (import-linter contract "domain knows nothing of HTTP").
"""

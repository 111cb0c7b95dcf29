"""The global condition keys of a request (``aws:CurrentTime``, ``aws:EpochTime``,
``aws:TokenIssueTime`` …) as policies see them: the request's own second, whatever was formatted
for an earlier request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from connectfed.clock import FixedClock
from connectfed.identity.authorize import principal_context
from connectfed.identity.principal import Origin, Principal

ISSUED = datetime(2026, 1, 1, 11, 30, 5, 400000, tzinfo=UTC)


def _session(issued: datetime = ISSUED) -> Principal:
    return Principal(
        "assumed-role",
        "123456789012",
        "arn:aws:sts::123456789012:assumed-role/Agent/agent1",
        "AROAEXAMPLE:agent1",
        "Agent",
        "ASIAEXAMPLE",
        role_arn="arn:aws:iam::123456789012:role/Agent",
        role_id="AROAEXAMPLE",
        session_name="agent1",
        session_issued=issued,
        origin=Origin("192.0.2.1", secure=True),
    )


def test_time_keys_are_those_of_the_request_second() -> None:
    clock = FixedClock(datetime(2026, 1, 1, 12, 0, 0, 750000, tzinfo=UTC))
    first = principal_context(_session(), clock, "us-east-1")
    assert (first["aws:currenttime"], first["aws:epochtime"]) == (
        "2026-01-01T12:00:00Z",
        "1767268800",
    )
    clock.advance(0.2)  # the same second
    assert principal_context(_session(), clock, "us-east-1")["aws:epochtime"] == "1767268800"
    clock.advance(0.1)
    later = principal_context(_session(), clock, "us-east-1")
    assert (later["aws:currenttime"], later["aws:epochtime"]) == (
        "2026-01-01T12:00:01Z",
        "1767268801",
    )
    clock.advance(86400)
    assert principal_context(_session(), clock, "us-east-1")["aws:currenttime"] == (
        "2026-01-02T12:00:01Z"
    )


def test_token_issue_time_is_the_sessions_in_utc() -> None:
    clock = FixedClock(datetime(2026, 1, 1, 12, tzinfo=UTC))
    context = principal_context(_session(), clock, "us-east-1")
    assert context["aws:tokenissuetime"] == "2026-01-01T11:30:05Z"
    assert (
        context["aws:principaltype"] == "AssumedRole" and context["aws:securetransport"] == "true"
    )
    elsewhere = ISSUED.astimezone(timezone(timedelta(hours=2)))  # the same instant
    assert principal_context(_session(elsewhere), clock, "us-east-1")["aws:tokenissuetime"] == (
        "2026-01-01T11:30:05Z"
    )
    other = principal_context(_session(ISSUED + timedelta(seconds=1)), clock, "us-east-1")
    assert other["aws:tokenissuetime"] == "2026-01-01T11:30:06Z"

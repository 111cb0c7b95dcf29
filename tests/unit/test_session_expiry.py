"""Temporary credentials die with their session: an expired STS session's key is refused with
ExpiredTokenException, and tokens never outlive it (driven in-process with a fixed clock)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from connectfed.app import build_services
from connectfed.auth import sigv4
from connectfed.auth.verify import ReceivedRequest
from connectfed.clock import FixedClock
from connectfed.demo import demo_caller, ensure_demo
from connectfed.server.application import ConnectfedApp
from connectfed.settings import Settings


def _signed(path: str, creds: sigv4.Credentials, clock: FixedClock) -> ReceivedRequest:
    headers = sigv4.sign_headers(
        method="GET",
        raw_path=path,
        raw_query="",
        headers={"Host": "127.0.0.1:8000"},
        body=b"",
        credentials=creds,
        region="us-east-1",
        service="connect",
        amz_date=clock.now().strftime("%Y%m%dT%H%M%SZ"),
    )
    return ReceivedRequest("GET", path, "", list(headers.items()), b"")


def test_expired_session_is_refused_and_tokens_stop_at_its_expiry(tmp_path: Path) -> None:
    clock = FixedClock(datetime(2026, 1, 1, 12, 0, tzinfo=UTC))
    services = build_services(
        Settings(database_url=f"sqlite://{tmp_path / 'db'}", throttle_rate=0, cache_ttl_seconds=0),
        clock,
    )
    app = ConnectfedApp(services)
    demo = ensure_demo(services)
    caller = demo_caller(services, demo)
    session = services.sts.assume_role(
        caller, demo.role_arn, "agent1", duration_seconds=900
    ).credentials
    creds = sigv4.Credentials(
        session.access_key_id, session.secret_access_key, session.session_token
    )
    path = f"/user/federate/{demo.instance_id}"

    ok = app.dispatcher.handle(_signed(path, creds, clock))
    assert ok.status == 200
    body = json.loads(ok.body)
    assert body["Credentials"]["RefreshTokenExpiration"] == session.expiration.timestamp()

    clock.advance(901)
    expired = app.dispatcher.handle(_signed(path, creds, clock))
    assert expired.status == 403
    assert expired.headers["x-amzn-ErrorType"] == "ExpiredTokenException"
    assert json.loads(expired.body) == {
        "message": "The security token included in the request is expired"
    }

"""CTI token expiry and a missing Streams package, in-process with a fixed clock: an expired
access token is refused on every operation with 401 UnauthorizedException (Streams then
re-authorises); without amazon-connect-streams the CTI API and the CCP say what is missing."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectfed.app import build_services
from connectfed.clock import FixedClock
from connectfed.demo import demo_caller, ensure_demo
from connectfed.server.application import ConnectfedApp
from connectfed.settings import Settings
from connectfed.wire.dispatch import Response
from tests.support import cti

OPERATIONS = cti.model_operations()


def _app(tmp_path: Path, clock: FixedClock, **settings: object) -> tuple[ConnectfedApp, str, str]:
    base = Settings(
        database_url=f"sqlite://{tmp_path / 'db'}",
        throttle_rate=0,
        cache_ttl_seconds=0,
        access_token_seconds=900,
        streams_dir=str(cti.STREAMS_DIR),
    )
    services = build_services(replace(base, **settings), clock)  # type: ignore[arg-type]
    app = ConnectfedApp(services)
    demo = ensure_demo(services)
    caller = demo_caller(services, demo)
    session = services.sts.assume_role(caller, demo.role_arn, "agent1").credentials
    agent = services.resolver.principal_of_session(session.access_key_id)
    token = services.federation.federate(agent, demo.instance_id)
    return app, demo.instance_id, token.access.token


def _call(app: ConnectfedApp, instance_id: str, operation: str, token: str) -> Response:
    headers = [("X-Amz-Target", cti.TARGET + operation), ("X-Amz-Bearer", token)]
    return asyncio.run(app.cti.handle(instance_id, headers, b"{}"))


@pytest.mark.parametrize("operation", OPERATIONS)
def test_an_expired_access_token_is_refused_on_every_operation(
    tmp_path: Path, operation: str
) -> None:
    clock = FixedClock(datetime(2026, 1, 1, 12, 0, tzinfo=UTC))
    app, instance_id, token = _app(tmp_path, clock)
    assert _call(app, instance_id, "GetAgentConfiguration", token).status == 200
    clock.advance(901)
    answer = _call(app, instance_id, operation, token)
    assert answer.status == 401
    assert json.loads(answer.body) == {
        "__type": "UnauthorizedException",
        "message": "The access token has expired.",
    }


def test_without_streams_the_api_and_the_ccp_say_what_is_missing(tmp_path: Path) -> None:
    clock = FixedClock(datetime(2026, 1, 1, 12, 0, tzinfo=UTC))
    app, instance_id, token = _app(tmp_path, clock, streams_dir=str(tmp_path / "nowhere"))
    answer = _call(app, instance_id, "GetAgentSnapshot", token)
    assert answer.status == 503
    assert json.loads(answer.body)["message"].startswith(
        "amazon-connect-streams not installed: run scripts/bootstrap"
    )
    page = app.ccp.handle(f"/connect/{instance_id}/ccp-v2/")
    assert b"amazon-connect-streams not installed: run scripts/bootstrap" in page.body
    bundle = app.ccp.handle("/_connectfed/static/connect-streams.js")
    assert bundle.status == 503
    assert bundle.body.startswith(b"amazon-connect-streams not installed: run scripts/bootstrap")
    # An installed package has no scripts/: every message names the option too.
    for said in (json.loads(answer.body)["message"], page.body.decode(), bundle.body.decode()):
        assert "--streams-dir" in said and "CONNECTFED_STREAMS_DIR" in said

"""The admin route for explanations, in-process: only GET on its own prefix, everything else
passes to the app untouched; and a store that cannot record never changes the caller's error."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connectfed.app import build_services, create_edge
from connectfed.clock import FixedClock
from connectfed.identity.explain import Explanation, Explanations
from connectfed.settings import Settings
from tests.support.asgi import asgi_run


def _edge(tmp_path: Path) -> Any:
    services = build_services(Settings(database_url=f"sqlite://{tmp_path / 'db'}", admin=True))
    services.explanations.record(
        Explanation(
            "r-1",
            services.explanations.now(),
            "iam:GetUser",
            "arn:aws:iam::1:user/u",
            "AccessDenied",
            "why",
        )
    )
    return create_edge(services)


def test_only_get_is_answered_and_with_the_request_id(tmp_path: Path) -> None:
    edge = _edge(tmp_path)
    start, body = asgi_run(edge, "POST", "/_connectfed/explain/r-1")
    headers = dict(start["headers"])
    assert start["status"] == 405 and headers[b"allow"] == b"GET"
    assert headers[b"x-amzn-RequestId"]
    start, body = asgi_run(edge, "GET", "/_connectfed/explain/r-1")
    assert start["status"] == 200 and b'"summary": "why"' in body["body"]


def test_other_paths_reach_the_app(tmp_path: Path) -> None:
    start, body = asgi_run(_edge(tmp_path), "GET", "/_connectfed/health")
    assert start["status"] == 200 and body["body"] == b'{"status":"ok"}'


class _BrokenStore:
    def put_decision(self, record: object) -> None:
        raise OSError("disk full")


def test_a_store_that_cannot_record_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    explanations = Explanations(_BrokenStore(), FixedClock(datetime(2026, 1, 1, tzinfo=UTC)))  # type: ignore[arg-type]
    explanations.record(Explanation("r-2", 0.0, "iam:GetUser", "", "AccessDenied", "why"))
    assert "could not record the explanation of request r-2" in caplog.text

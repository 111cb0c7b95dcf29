"""The ASGI edge never lets a header value that cannot be sent break the connection: such a
response becomes a well-formed 500 (inputs are checked earlier; this is the last guard)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connectfed.app import create_app
from connectfed.settings import Settings
from connectfed.web.routes import WebResponse
from tests.support.asgi import asgi_run


@pytest.mark.parametrize("location", ["/ccp-v2/\u20ac", "/ccp\r\nSet-Cookie: x=y", "/a\x00b"])
def test_unsendable_header_becomes_a_clean_500(
    tmp_path: Path, location: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(Settings(database_url=f"sqlite://{tmp_path / 'db.sqlite'}"))
    monkeypatch.setattr(
        app.web,
        "handle",
        lambda *args: WebResponse(303, {"Location": location, "Content-Type": "text/html"}, b""),
    )
    start, body = asgi_run(app, "GET", "/connect/federate/some-instance")
    assert start["status"] == 500
    headers = dict(start["headers"])
    assert headers[b"x-amzn-ErrorType"] == b"InternalFailure"
    assert b"Location" not in headers
    assert json.loads(body["body"])["message"]


def test_browser_route_that_raises_gets_a_500_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(Settings(database_url=f"sqlite://{tmp_path / 'db.sqlite'}"))

    def boom(*args: Any) -> WebResponse:
        raise RuntimeError("store is down")

    monkeypatch.setattr(app.web, "handle", boom)
    start, body = asgi_run(app, "GET", "/connect/federate/some-instance")
    assert start["status"] == 500
    assert b"store is down" not in body["body"] and b"<h1>" in body["body"]

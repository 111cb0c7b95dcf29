"""The ASGI edge (server/edge.py): one request id per request, chosen before the app runs, on
every kind of response exactly once, and the same id the response body names."""

from __future__ import annotations

import http.client
import re
import uuid
from urllib.parse import urlsplit

import pytest

from tests.support.server import Server

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def _request(
    server: Server, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> tuple[int, list[str], bytes]:
    parts = urlsplit(server.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    data = response.read()
    ids = [v for k, v in response.getheaders() if k.lower() == "x-amzn-requestid"]
    conn.close()
    return response.status, ids, data


@pytest.mark.parametrize(
    ("method", "path", "body", "headers"),
    [
        ("GET", "/_connectfed/health", b"", {}),
        ("GET", "/user/federate/some-instance", b"", {}),  # restJson: missing authentication
        (
            "POST",
            "/",
            b"Action=GetCallerIdentity&Version=2011-06-15",
            {"Content-Type": "application/x-www-form-urlencoded"},
        ),  # awsQuery: unsigned
        ("GET", "/connect/some-instance/ccp-v2/", b"", {}),  # a page
        (
            "POST",
            "/connect/some-instance/api",
            b"{}",
            {"X-Amz-Target": "AmazonConnectCTIService.GetAgentStates"},
        ),  # the CTI API
        ("GET", "/saml", b"", {}),
    ],
    ids=["health", "restjson-error", "awsquery-error", "page", "cti", "browser-route"],
)
def test_every_response_carries_one_request_id(
    server: Server, method: str, path: str, body: bytes, headers: dict[str, str]
) -> None:
    status, ids, data = _request(server, method, path, body, headers)
    assert len(ids) == 1, (status, ids)
    assert UUID.match(ids[0]), ids
    if b"<RequestId>" in data:  # awsQuery names the id in the body too: the same one
        assert f"<RequestId>{ids[0]}</RequestId>".encode() in data


def test_request_ids_are_unique(server: Server) -> None:
    seen = {_request(server, "GET", "/_connectfed/health")[1][0] for _ in range(20)}
    assert len(seen) == 20 and all(uuid.UUID(i).version == 4 for i in seen)

"""A plain HTTP caller for the CTI API (``AmazonConnectCTIService``, JSON 1.0), as Streams'
worker calls it: no SDK knows this service, so the tests speak the wire directly."""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

TARGET = "AmazonConnectCTIService."
STREAMS_DIR = (
    Path(__file__).resolve().parents[2] / "web-assets" / "node_modules" / "amazon-connect-streams"
)


@dataclass
class CtiAnswer:
    status: int
    headers: dict[str, str]
    body: Any

    @property
    def error(self) -> str | None:
        return self.body.get("__type") if isinstance(self.body, dict) else None


def call(
    url: str,
    path: str,
    operation: str | None,
    body: Any = None,
    token: str | None = None,
    headers: dict[str, str] | None = None,
    raw: bytes | None = None,
    timeout: float = 40,
) -> CtiAnswer:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    sent = {"Content-Type": "application/x-amz-json-1.0"}
    if operation is not None:
        sent["X-Amz-Target"] = TARGET + operation
    if token is not None:
        sent["X-Amz-Bearer"] = token
    sent.update(headers or {})
    payload = raw if raw is not None else json.dumps(body if body is not None else {}).encode()
    try:
        conn.request("POST", path, body=payload, headers=sent)
        response = conn.getresponse()
        data = response.read()
    finally:
        conn.close()
    try:
        parsed = json.loads(data) if data else None
    except ValueError:
        parsed = data
    return CtiAnswer(response.status, {k.lower(): v for k, v in response.getheaders()}, parsed)


def model_operations() -> list[str]:
    from connectfed.wire import cti_model

    return sorted(cti_model.read_js_model(STREAMS_DIR)["operations"])

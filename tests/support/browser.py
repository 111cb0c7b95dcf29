"""A small cookie-keeping HTTP client (http.client) that treats our redirects and cookies the
way a browser does, one step at a time so tests can look at every Location and Set-Cookie."""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode, urlsplit


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    set_cookies: list[str]
    body: bytes

    @property
    def location(self) -> str | None:
        return self.headers.get("location")

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Browser:
    base_url: str
    cookies: dict[str, str] = field(default_factory=dict)

    def request(
        self,
        method: str,
        target: str,
        *,
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        parts = urlsplit(target)
        if parts.netloc:
            assert f"{parts.scheme}://{parts.netloc}" == self.base_url, target
            target = parts.path + (f"?{parts.query}" if parts.query else "")
        server = urlsplit(self.base_url)
        sent = dict(headers or {})
        body = None
        if form is not None:
            body = urlencode(form)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn = http.client.HTTPConnection(server.hostname, server.port, timeout=30)
        try:
            conn.request(method, target, body=body, headers=sent)
            response = conn.getresponse()
            reply = Reply(
                response.status,
                {k.lower(): v for k, v in response.getheaders()},
                response.headers.get_all("Set-Cookie") or [],
                response.read(),
            )
        finally:
            conn.close()
        for line in reply.set_cookies:
            jar: SimpleCookie = SimpleCookie()
            jar.load(line)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return reply

    def get(self, target: str) -> Reply:
        return self.request("GET", target)

    def follow(self, reply: Reply, limit: int = 10) -> Reply:
        """Follow redirects (GET) from ``reply`` to the first page that is not one."""
        for _ in range(limit):
            if reply.status not in (301, 302, 303, 307, 308) or reply.location is None:
                return reply
            reply = self.get(reply.location)
        raise AssertionError("too many redirects")

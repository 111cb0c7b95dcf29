"""One HTTP request to an ASGI app in process, without a server: for tests (and benchmarks) of
the edge and the app that need no socket."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

Message = dict[str, Any]


async def asgi_call(
    app: Any,
    method: str,
    path: str,
    headers: Sequence[tuple[bytes, bytes]] = ((b"host", b"x"),),
    body: bytes = b"",
) -> list[Message]:
    """Every message the app sends for the request (``http.response.start``, then the body).
    A body gets its ``content-length`` header, as an HTTP/1.1 client sends it."""
    headers = list(headers)
    if body and not any(name.lower() == b"content-length" for name, _ in headers):
        headers.append((b"content-length", str(len(body)).encode()))
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "state": {},
    }
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


def asgi_run(app: Any, method: str, path: str, **kwargs: Any) -> list[Message]:
    """:func:`asgi_call` on a new event loop."""
    return asyncio.run(asgi_call(app, method, path, **kwargs))

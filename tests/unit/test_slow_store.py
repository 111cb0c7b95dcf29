"""The event loop never waits for the store: while a GetFederationToken is stuck inside a
store call (another process holding SQLite's write lock, a slow disk, a PostgreSQL lock), the
health endpoint and other requests are answered; the stuck request completes once the store
does. No timing: the store call blocks on an event the test releases."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from connectfed.app import ConnectfedApp, build_services
from connectfed.demo import demo_caller, ensure_demo
from connectfed.settings import Settings


async def _call(
    app: Any, method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes = b""
) -> dict[str, Any]:
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 1),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent[0]


def test_a_store_call_that_hangs_does_not_delay_health(tmp_path: Path) -> None:
    services = build_services(
        Settings(database_url=f"sqlite://{tmp_path / 'db.sqlite'}", throttle_rate=0)
    )
    demo = ensure_demo(services)
    caller = demo_caller(services, demo)
    creds = services.sts.assume_role(caller, demo.role_arn, "agent1").credentials
    path = f"/user/federate/{demo.instance_id}"
    request = AWSRequest(method="GET", url="http://127.0.0.1:8000" + path)
    SigV4Auth(
        Credentials(creds.access_key_id, creds.secret_access_key, creds.session_token),
        "connect",
        "us-east-1",
    ).add_auth(request)
    signed = [(b"host", b"127.0.0.1:8000")] + [
        (k.lower().encode(), v.encode()) for k, v in request.headers.items()
    ]

    entered, release = threading.Event(), threading.Event()
    find_user = services.store.find_connect_user

    def slow_find_user(*args: Any) -> Any:  # the injected delay: until the test says so
        entered.set()
        # Bounded, so that a loop that does wait for the store fails the test (the federation
        # is then done before health answers) instead of hanging it.
        release.wait(timeout=30)
        return find_user(*args)

    services.store.find_connect_user = slow_find_user  # type: ignore[method-assign]
    app = ConnectfedApp(services)

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        federation = asyncio.create_task(_call(app, "GET", path, signed))
        await loop.run_in_executor(None, entered.wait)
        health = await _call(app, "GET", "/_connectfed/health", [(b"host", b"x")])
        assert health["status"] == 200
        assert not federation.done()  # still inside the store, and the loop went on
        release.set()
        assert (await federation)["status"] == 200

    try:
        asyncio.run(scenario())
    finally:
        release.set()
        services.store.close()

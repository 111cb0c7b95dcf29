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

from connectfed.app import build_services
from connectfed.demo import demo_caller, ensure_demo
from connectfed.server.application import ConnectfedApp
from connectfed.settings import Settings
from tests.support.asgi import asgi_call


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
        federation = asyncio.create_task(asgi_call(app, "GET", path, signed))
        await loop.run_in_executor(None, entered.wait)
        health = await asgi_call(app, "GET", "/_connectfed/health")
        assert health[0]["status"] == 200
        assert not federation.done()  # still inside the store, and the loop went on
        release.set()
        assert (await federation)[0]["status"] == 200

    try:
        asyncio.run(scenario())
    finally:
        release.set()
        services.close()

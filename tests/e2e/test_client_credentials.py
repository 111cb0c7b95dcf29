"""connectfed.client with credentials that expire while the client lives: an assume-role profile
(botocore's refreshable credentials), against the real server whose clock is moved."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connectfed.client import AdminClient, AsyncConnectClient, ConnectClient, botocore_clock
from tests.support.admin import start_admin_server
from tests.support.server import Server
from tests.support.world import World, build_world


@pytest.fixture(scope="module")
def admin_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_admin_server(tmp_path_factory.mktemp("refresh"))
    srv.follow_output()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def world(admin_server: Server) -> World:
    return build_world(admin_server, "refresh")


@pytest.fixture
def assume_role_profile(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[AdminClient]:
    """Profile ``agent1``: 15-minute sessions of the world's role, assumed by botocore with the
    caller's keys from this server's STS; the server's clock back where it was afterwards."""
    config = tmp_path / "config"
    config.write_text(
        "[profile caller]\n"
        f"aws_access_key_id = {world.caller_key}\n"
        f"aws_secret_access_key = {world.caller_secret}\n"
        "[profile agent1]\n"
        f"role_arn = {world.role_arn}\n"
        "role_session_name = agent1\n"
        "source_profile = caller\n"
        "duration_seconds = 900\n"
        "region = us-east-1\n"
    )
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_ENDPOINT_URL", world.server.url)
    admin = AdminClient(world.server.url)
    yield admin
    admin.set_offset(0)


def test_an_assume_role_profile_is_refreshed_when_its_session_expires(
    world: World, assume_role_profile: AdminClient
) -> None:
    sync = ConnectClient(profile="agent1")
    aio = AsyncConnectClient(profile="agent1")
    assert sync.get_federation_token(world.instance_id).user_id
    assert asyncio.run(aio.get_federation_token(world.instance_id, timeout=30)).user_id
    # 20 minutes later the first session has expired; botocore would assume the role again
    # (it signs with the moved time here, as an SDK whose clock had moved along).
    state = assume_role_profile.advance(1200)
    with botocore_clock(state.offset_seconds):
        assert sync.get_federation_token(world.instance_id).user_id
        assert asyncio.run(aio.get_federation_token(world.instance_id, timeout=30)).user_id


SLOW_PROCESS = """import json, sys, time
from datetime import datetime, timedelta, timezone
time.sleep({seconds})
expiration = datetime.now(timezone.utc) + timedelta(seconds=120)
print(json.dumps({{"Version": 1, "AccessKeyId": {key!r}, "SecretAccessKey": {secret!r},
    "SessionToken": {token!r}, "Expiration": expiration.strftime("%Y-%m-%dT%H:%M:%SZ")}}))
"""


@pytest.fixture
def slow_process_profile(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[float]:
    """Profile ``slow``: a credential_process that takes ``seconds`` and gives credentials
    expiring in 2 minutes, so botocore runs it again before every request (within 10 minutes of
    expiry a refresh is mandatory)."""
    import sys

    seconds = 1.0
    c = world.assume("agent1")
    script = tmp_path / "slow_credentials.py"
    script.write_text(
        SLOW_PROCESS.format(
            seconds=seconds,
            key=c["AccessKeyId"],
            secret=c["SecretAccessKey"],
            token=c["SessionToken"],
        )
    )
    config = tmp_path / "config"
    config.write_text(f"[profile slow]\ncredential_process = {sys.executable} {script}\n")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    yield seconds


def test_the_async_client_renews_credentials_off_its_event_loop_and_can_be_cancelled_meanwhile(
    world: World, slow_process_profile: float
) -> None:
    import time

    seconds = slow_process_profile
    client = AsyncConnectClient(
        profile="slow", region="us-east-1", endpoint_url=world.server.url, env=None
    )

    async def longest_stall(call: asyncio.Task[Any]) -> float:
        """The longest the loop went without running this coroutine while ``call`` ran."""
        longest, last = 0.0, time.monotonic()
        while not call.done():
            await asyncio.sleep(0.02)
            now = time.monotonic()
            longest, last = max(longest, now - last), now
        return longest

    async def scenario() -> None:
        call = asyncio.create_task(client.get_federation_token(world.instance_id, timeout=30))
        stall = await longest_stall(call)
        assert (await call).user_id  # signed with the credentials the process gave
        assert stall < seconds / 2, f"the event loop was blocked {stall:.2f} s"
        # The per-call timeout ends the call while the process is still running.
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            await client.get_federation_token(world.instance_id, timeout=0.2)
        assert time.monotonic() - started < seconds / 2
        # And so does cancelling its task.
        call = asyncio.create_task(client.get_federation_token(world.instance_id))
        await asyncio.sleep(0.2)
        started = time.monotonic()
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        assert time.monotonic() - started < seconds / 2

    asyncio.run(scenario())

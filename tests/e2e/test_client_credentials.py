"""connectfed.client with credentials that expire while the client lives: an assume-role profile
(botocore's refreshable credentials), against the real server whose clock is moved."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

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

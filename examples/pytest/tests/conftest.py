"""The world is built once per server; each test gets the `connectfed` fixture of the plugin."""

from __future__ import annotations

from pathlib import Path

import pytest
from backend import SignInBackend

from connectfed.testing.plugin import server_scope

WORLD = Path(__file__).parent.parent / "world.yaml"
INSTANCE_ID = "11111111-2222-4333-8444-555555555555"  # fixed in world.yaml
BACKEND_KEY = ("AKIABACKEND000000001", "backendSecretKey000000000000000000000001")


@pytest.fixture(scope=server_scope, autouse=True)  # once per server, whatever its scope
def world(connectfed_session):
    return connectfed_session.seed(WORLD)


@pytest.fixture
def instance_id() -> str:
    return INSTANCE_ID


@pytest.fixture
def backend(connectfed):
    """Our backend, configured as in production but pointed at connectfed."""
    import boto3

    session = boto3.Session(
        aws_access_key_id=BACKEND_KEY[0],
        aws_secret_access_key=BACKEND_KEY[1],
        region_name="us-east-1",
    )
    return SignInBackend(
        session,
        instance_id=INSTANCE_ID,
        role_arn=connectfed.role_arn("AgentFederation"),
        endpoint_url=connectfed.url,
    )

"""Fixtures shared by end-to-end test modules."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectfed.auth.sigv4 import Credentials
from tests.support.server import start_server
from tests.support.world import World, build_world


@pytest.fixture(scope="module")
def tls_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A world on a server of the module's own, over HTTPS with a self-signed certificate
    (``world.server.ca_bundle`` verifies it)."""
    srv = start_server(
        tmp_path_factory.mktemp("tls"), "--tls-self-signed", "--throttle-rate", "0", scheme="https"
    )
    srv.follow_output()
    yield build_world(srv, "tls")
    srv.stop()


@pytest.fixture
def tls_agent(tls_world: World) -> Credentials:
    """Role-session credentials of the TLS world's agent1."""
    c = tls_world.assume("agent1")
    return Credentials(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])

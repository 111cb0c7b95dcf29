"""connectfed.client (sync and asyncio) against the real server and a stalling endpoint."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connectfed.auth.sigv4 import Credentials
from connectfed.client import (
    AccessDeniedException,
    AsyncConnectClient,
    ConnectClient,
    DuplicateResourceException,
    InvalidParameterException,
    InvalidRequestException,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
    ReadTimeout,
    ResourceNotFoundException,
    ThrottlingException,
    TransportError,
    UnrecognizedClientException,
    UserNotFoundException,
)
from tests.support.server import ROOT_KEY, ROOT_SECRET, Server, start_server
from tests.support.world import World, build_world, make_role


@pytest.fixture(scope="module")
def world(server: Server) -> World:
    return build_world(server, "client")


def creds_for(world: World, session: str, role: str | None = None) -> Credentials:
    c = world.assume(session, role)
    return Credentials(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])


def sync_client(server: Server, credentials: Credentials | None, **kw: object) -> ConnectClient:
    return ConnectClient(
        endpoint_url=server.url,
        region="us-east-1",
        credentials=credentials,
        sign=credentials is not None,
        env={},
        **kw,
    )


def async_client(
    server: Server, credentials: Credentials | None, **kw: object
) -> AsyncConnectClient:
    return AsyncConnectClient(
        endpoint_url=server.url,
        region="us-east-1",
        credentials=credentials,
        sign=credentials is not None,
        env={},
        **kw,
    )


def test_sync_and_async_results_are_typed(world: World) -> None:
    creds = creds_for(world, "agent1")
    for token in (
        sync_client(world.server, creds).get_federation_token(world.instance_id),
        asyncio.run(
            async_client(world.server, creds).get_federation_token(world.instance_id, timeout=10)
        ),
    ):
        assert token.access_token.startswith("cfa_") and token.refresh_token.startswith("cfr_")
        assert token.access_token_expiration.tzinfo is not None
        assert token.access_token_expiration > datetime.now(UTC)
        assert token.user_arn and token.user_arn.endswith(str(token.user_id))
        assert token.request_id
        assert token.sign_in_url and "code=cfs_" in token.sign_in_url
        # The sign-in code is a credential too (one use makes a browser session).
        assert not [p for p in ("cfa_", "cfr_", "cfs_") if p in repr(token)], repr(token)


def _error_cases(world: World) -> list[tuple[str, Credentials | None, str, type[Exception]]]:
    from tests.support.world import federate_policy

    denied = make_role(world.server, f"ClientNoPerm{time.time_ns()}", None)
    other = make_role(world.server, f"ClientOther{time.time_ns()}", federate_policy("*"))
    sync_client(world.server, creds_for(world, "agent2")).get_federation_token(world.instance_id)
    root = Credentials(ROOT_KEY, ROOT_SECRET)
    good = creds_for(world, "agent1")
    return [
        ("user not found", creds_for(world, "nobody"), world.instance_id, UserNotFoundException),
        (
            "access denied",
            creds_for(world, "agent1", denied),
            world.instance_id,
            AccessDeniedException,
        ),
        ("root", root, world.instance_id, InvalidRequestException),
        ("too long", good, "x" * 101, InvalidParameterException),
        ("unsigned", None, world.instance_id, MissingAuthenticationTokenException),
        (
            "unknown key",
            Credentials("AKIANOPE000000000000", "x" * 40),
            world.instance_id,
            UnrecognizedClientException,
        ),
        (
            "bad secret",
            Credentials(good.access_key_id, "bad", good.session_token),
            world.instance_id,
            InvalidSignatureException,
        ),
        (
            "second role",
            creds_for(world, "agent2", other),
            world.instance_id,
            DuplicateResourceException,
        ),
    ]


def test_every_error_is_typed_in_both_clients(world: World) -> None:
    for label, creds, instance, expected in _error_cases(world):
        with pytest.raises(expected) as caught:
            sync_client(world.server, creds).get_federation_token(instance)
        assert caught.value.request_id, label  # type: ignore[attr-defined]
        with pytest.raises(expected):
            asyncio.run(async_client(world.server, creds).get_federation_token(instance))


def test_unknown_instance_is_resource_not_found(world: World) -> None:
    from tests.support.world import federate_policy

    wide = make_role(world.server, f"ClientWide{time.time_ns()}", federate_policy("*"))
    with pytest.raises(ResourceNotFoundException):
        sync_client(world.server, creds_for(world, "agent1", wide)).get_federation_token("nope")


def test_throttling_is_retried_with_backoff(tmp_path: Path) -> None:
    srv = start_server(tmp_path, "--throttle-rate", "5", "--throttle-burst", "1")
    try:
        w = build_world(srv, "retry")
        creds = creds_for(w, "agent1")
        once = sync_client(srv, creds, max_attempts=1)
        once.get_federation_token(w.instance_id)
        with pytest.raises(ThrottlingException):
            once.get_federation_token(w.instance_id)
        patient = sync_client(srv, creds, max_attempts=6)
        patient.config = dataclasses.replace(patient.config, retry_base_seconds=0.2)
        assert patient.get_federation_token_raw(w.instance_id).attempts >= 1
        results = [patient.get_federation_token_raw(w.instance_id) for _ in range(3)]
        assert any(r.attempts > 1 for r in results)
    finally:
        srv.stop()


class Staller:
    """A TCP endpoint that accepts and never answers; records when clients hang up."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.closed = threading.Event()
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        conn.settimeout(30)
        try:
            while conn.recv(4096):
                pass
        except OSError:
            pass
        self.closed.set()
        conn.close()


def test_async_call_is_cancellable_and_closes_its_connection() -> None:
    staller = Staller()
    client = AsyncConnectClient(endpoint_url=staller.url, region="us-east-1", sign=False, env={})

    async def scenario() -> None:
        task = asyncio.create_task(client.get_federation_token("i-1"))
        await asyncio.sleep(0.3)
        assert not task.done()  # the endpoint never answers: the call is still waiting
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    assert staller.closed.wait(10), "the server never saw the connection close"


def test_async_per_call_timeout() -> None:
    staller = Staller()
    client = AsyncConnectClient(endpoint_url=staller.url, region="us-east-1", sign=False, env={})
    with pytest.raises(TimeoutError):
        asyncio.run(client.get_federation_token("i-1", timeout=0.3))


def test_sync_read_timeout_and_refused_connection() -> None:
    staller = Staller()
    client = ConnectClient(
        endpoint_url=staller.url,
        region="us-east-1",
        sign=False,
        env={},
        read_timeout=0.3,
        max_attempts=1,
    )
    with pytest.raises(ReadTimeout):
        client.get_federation_token("i-1")
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    refused = ConnectClient(
        endpoint_url=f"http://127.0.0.1:{port}",
        region="us-east-1",
        sign=False,
        env={},
        max_attempts=1,
    )
    with pytest.raises(TransportError):
        refused.get_federation_token("i-1")


@pytest.mark.parametrize(
    ("settings", "status", "code", "attempts", "retryable"),
    [
        ({}, 500, "InternalServiceException", 3, True),  # boto3's default: standard, 3 attempts
        ({"retry_mode": "legacy"}, 500, "InternalServiceException", 5, True),
        ({"env": {"AWS_RETRY_MODE": "legacy"}}, 509, "BandwidthLimit", 5, True),
        ({"env": {"AWS_RETRY_MODE": "standard", "AWS_MAX_ATTEMPTS": "4"}}, 500, "X", 4, True),
        ({}, 400, "TooManyRequestsException", 3, True),
        ({"retry_mode": "legacy"}, 400, "TooManyRequestsException", 1, False),
        ({}, 509, "BandwidthLimit", 1, False),
        # Retried by the mode's codes whatever the status; the error must say so.
        ({}, 400, "LimitExceededException", 3, True),
        ({}, 400, "RequestTimeoutException", 3, True),
        ({"retry_mode": "legacy"}, 400, "LimitExceededException", 1, False),
        ({}, 501, "NotImplemented", 1, False),  # a 5xx that neither mode retries
        ({"retry_mode": "legacy"}, 501, "NotImplemented", 1, False),
        # The mode would retry it; no attempt was left.
        ({"max_attempts": 1}, 500, "InternalServiceException", 1, True),
    ],
)
def test_retries_follow_botocores_modes(
    settings: dict[str, Any], status: int, code: str, attempts: int, retryable: bool
) -> None:
    from connectfed.client import ServiceError
    from tests.support.canned import canned_server

    headers = {"Content-Type": "application/json", "x-amzn-ErrorType": code}
    for make in (ConnectClient, AsyncConnectClient):
        with canned_server(status, b'{"message":"m"}', headers) as (url, seen):
            options: dict[str, Any] = {"env": {}} | settings
            client = make(endpoint_url=url, region="us-east-1", sign=False, **options)
            client.config = dataclasses.replace(client.config, retry_base_seconds=0.001)
            with pytest.raises(ServiceError) as caught:
                call = client.get_federation_token("i-1")
                if asyncio.iscoroutine(call):
                    asyncio.run(call)
        assert len(seen) == attempts, make
        error = caught.value
        assert (error.code, error.status, error.attempts) == (code, status, attempts)
        assert error.request_id == "11111111-2222-3333-4444-555555555555"
        assert error.max_attempts_reached == retryable
        # What the client did, in the error's own words.
        assert error.retryable == retryable, make


def test_an_error_without_a_code_is_botocores_status_and_reason() -> None:
    from connectfed.client import UnknownServiceError
    from tests.support.canned import canned_server

    with canned_server(503, b"<html><body>down</body></html>", {"Content-Type": "text/html"}) as (
        url,
        _,
    ):
        client = ConnectClient(
            endpoint_url=url, region="us-east-1", sign=False, env={}, max_attempts=1
        )
        with pytest.raises(UnknownServiceError) as caught:
            client.get_federation_token("i-1")
    assert (caught.value.code, caught.value.message) == ("503", "Service Unavailable")
    with canned_server(429, b"", {}) as (url, _):
        client = ConnectClient(
            endpoint_url=url, region="us-east-1", sign=False, env={}, max_attempts=1
        )
        with pytest.raises(ThrottlingException) as throttled:
            client.get_federation_token("i-1")
    assert throttled.value.code == "429"


def test_clients_close_as_boto3s_and_aiobotocores_and_refuse_calls_once_closed(
    world: World,
) -> None:
    from connectfed.client import ClientClosedError

    creds = creds_for(world, "agent1")
    with sync_client(world.server, creds) as client:
        assert client.get_federation_token(world.instance_id).user_id
    with pytest.raises(ClientClosedError, match="closed"):
        client.get_federation_token(world.instance_id)
    client.close()  # again: nothing happens
    with pytest.raises(ClientClosedError), client:
        pass
    plain = sync_client(world.server, creds)
    plain.close()
    with pytest.raises(ClientClosedError):
        plain.get_federation_token_raw(world.instance_id)

    async def scenario() -> None:
        async with async_client(world.server, creds) as aclient:
            token = await aclient.get_federation_token(world.instance_id, timeout=10)
            assert token.user_id
        with pytest.raises(ClientClosedError, match="closed"):
            await aclient.get_federation_token(world.instance_id)
        await aclient.close()
        await aclient.close()
        with pytest.raises(ClientClosedError):
            async with aclient:
                pass

    asyncio.run(scenario())


def test_a_call_under_way_makes_no_other_attempt_once_its_client_is_closed() -> None:
    from connectfed.client import ClientClosedError, ServiceError
    from tests.support.canned import canned_server

    headers = {"Content-Type": "application/json", "x-amzn-ErrorType": "InternalServiceException"}
    with canned_server(500, b'{"message":"m"}', headers) as (url, seen):
        client = AsyncConnectClient(endpoint_url=url, region="us-east-1", sign=False, env={})
        client.config = dataclasses.replace(client.config, retry_base_seconds=0.5, max_attempts=5)

        async def scenario() -> None:
            task = asyncio.create_task(client.get_federation_token("i-1", timeout=10))
            while not seen:
                await asyncio.sleep(0.01)
            await client.close()
            with pytest.raises(ClientClosedError) as caught:
                await task
            assert isinstance(caught.value.__cause__, ServiceError)

        # The backoff before a second attempt is up to 0.5 s: closing during it ends the call.
        asyncio.run(scenario())
        assert len(seen) < 5


@pytest.mark.parametrize("query", ["tenant=7&a=1", "flag", "a=b+c&x=/y", "x=caf\u00e9 1"])
def test_an_endpoints_query_goes_with_every_request_and_the_server_accepts_its_signature(
    world: World, query: str
) -> None:
    """Sent on the wire and signed (tests/e2e/test_client_endpoints.py holds the signature
    against botocore's); where botocore signs the query as typed (a ``+``, a ``/``, a space, a
    non-ASCII letter) rather than as it goes on the wire, its signature is refused and ours
    is not."""
    from tests.support.canned import canned_server

    creds = creds_for(world, "agent1")
    endpoint = f"{world.server.url}/?{query}"
    for make in (sync_client, async_client):
        client = make(world.server, creds, max_attempts=1)
        client.config = dataclasses.replace(client.config, endpoint_url=endpoint)
        result = client.get_federation_token(world.instance_id)
        token = asyncio.run(result) if asyncio.iscoroutine(result) else result
        assert token.user_id, make
    with canned_server(200, b'{"UserId":"u"}') as (url, seen):
        for make in (ConnectClient, AsyncConnectClient):
            unsigned = make(endpoint_url=f"{url}?{query}", region="us-east-1", sign=False, env={})
            result = unsigned.get_federation_token("i-1")
            if asyncio.iscoroutine(result):
                asyncio.run(result)
    wire = query.replace(" ", "%20").replace("\u00e9", "%C3%A9")
    assert [s[":path"] for s in seen] == [f"/user/federate/i-1?{wire}"] * 2

"""Fault injection seen by real clients: each kind (throttling, internal error, latency, dropped
connection) through boto3 in standard retry mode and through our client's retries, shaped as
each protocol shapes it (restJson1, awsQuery, the CTI API's JSON 1.0); faults and the clock
offset shared by two servers on one PostgreSQL database, counted faults exact across them."""

from __future__ import annotations

import asyncio
import dataclasses
import http.client
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, ReadTimeoutError

from connectfed.auth.sigv4 import Credentials
from connectfed.client import (
    AdminClient,
    AsyncConnectClient,
    ConnectClient,
    FaultSpec,
    ReadTimeout,
    ThrottlingException,
    TransportError,
    botocore_clock,
)
from tests.conftest import postgres_or_skip
from tests.support import cti
from tests.support.admin import retrying, start_admin_server
from tests.support.server import Server
from tests.support.world import World, build_world

GFT = "GetFederationToken"


@pytest.fixture(scope="module")
def admin_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_admin_server(tmp_path_factory.mktemp("faults"))
    srv.follow_output()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def world(admin_server: Server) -> World:
    return build_world(admin_server, "faults")


@pytest.fixture
def faults(admin_server: Server) -> Iterator[AdminClient]:
    client = AdminClient(admin_server.url)
    client.clear_faults()
    yield client
    client.clear_faults()


def _agent(world: World, attempts: int, **config: Any) -> Any:
    c = world.assume("agent1", DurationSeconds=3600)
    return retrying(
        world.server,
        "connect",
        attempts,
        c["AccessKeyId"],
        c["SecretAccessKey"],
        c["SessionToken"],
        **config,
    )


def _ours(world: World, **overrides: Any) -> ConnectClient:
    c = world.assume("agent1", DurationSeconds=3600)
    client = ConnectClient(
        endpoint_url=world.server.url,
        region="us-east-1",
        env={},
        credentials=Credentials(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"]),
    )
    client.config = dataclasses.replace(client.config, retry_base_seconds=0.01, **overrides)
    return client


def _raw_get(world: World, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(world.server.url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return (response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        conn.close()


# -- boto3
def test_boto3_retries_two_throttles_and_succeeds_on_the_third_attempt(
    world: World, faults: AdminClient
) -> None:
    faults.add_fault(FaultSpec("connect", GFT, error="ThrottlingException", count=2))
    result = _agent(world, 3).get_federation_token(InstanceId=world.instance_id)
    assert result["Credentials"]["AccessToken"]
    assert result["ResponseMetadata"]["RetryAttempts"] == 2
    assert faults.faults() == []


def test_boto3_sees_a_connect_throttle_as_aws_answers_it(world: World, faults: AdminClient) -> None:
    faults.add_fault(FaultSpec("connect", GFT, error="ThrottlingException", count=1))
    with pytest.raises(ClientError) as caught:
        _agent(world, 1).get_federation_token(InstanceId=world.instance_id)
    error = caught.value.response
    assert error["Error"]["Code"] == "ThrottlingException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert error["Error"]["Message"].startswith("Rate exceeded")
    # Only the named operation: the next call and other operations pass.
    assert _agent(world, 1).get_federation_token(InstanceId=world.instance_id)


def test_boto3_retries_an_internal_error(world: World, faults: AdminClient) -> None:
    faults.add_fault(FaultSpec("connect", GFT, error="InternalServiceException", count=1))
    with pytest.raises(ClientError) as caught:
        _agent(world, 1).get_federation_token(InstanceId=world.instance_id)
    assert caught.value.response["Error"]["Code"] == "InternalServiceException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    faults.add_fault(FaultSpec("connect", GFT, error="InternalServiceException", count=1))
    result = _agent(world, 3).get_federation_token(InstanceId=world.instance_id)
    assert result["ResponseMetadata"]["RetryAttempts"] == 1


def test_boto3_sees_sts_and_iam_faults_in_the_awsquery_spelling(
    world: World, faults: AdminClient
) -> None:
    faults.add_fault(FaultSpec("sts", "AssumeRole", error="ThrottlingException", count=1))
    sts = retrying(world.server, "sts", 1, world.caller_key, world.caller_secret)
    with pytest.raises(ClientError) as caught:
        sts.assume_role(RoleArn=world.role_arn, RoleSessionName="agent1")
    assert caught.value.response["Error"]["Code"] == "Throttling"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    faults.add_fault(FaultSpec("iam", error="InternalFailure", count=2))
    iam = retrying(world.server, "iam", 1)
    with pytest.raises(ClientError) as caught:
        iam.list_users()
    assert caught.value.response["Error"]["Code"] == "InternalFailure"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert retrying(world.server, "iam", 3).list_roles()["ResponseMetadata"]["RetryAttempts"] == 1
    faults.add_fault(FaultSpec("sts", "AssumeRole", error="Throttling", count=1))
    sts = retrying(world.server, "sts", 3, world.caller_key, world.caller_secret)
    answer = sts.assume_role(RoleArn=world.role_arn, RoleSessionName="agent1")
    assert answer["ResponseMetadata"]["RetryAttempts"] == 1


def test_boto3_retries_a_dropped_connection(world: World, faults: AdminClient) -> None:
    faults.add_fault(FaultSpec("connect", GFT, drop=True, count=1))
    with pytest.raises(ConnectionClosedError):
        _agent(world, 1).get_federation_token(InstanceId=world.instance_id)
    faults.add_fault(FaultSpec("connect", GFT, drop=True, count=1))
    result = _agent(world, 3).get_federation_token(InstanceId=world.instance_id)
    assert result["ResponseMetadata"]["RetryAttempts"] == 1


def test_boto3_times_out_on_added_latency(world: World, faults: AdminClient) -> None:
    agent = _agent(world, 1, read_timeout=0.5)
    faults.add_fault(FaultSpec("connect", GFT, latency_ms=5000, count=1))
    with pytest.raises(ReadTimeoutError):
        agent.get_federation_token(InstanceId=world.instance_id)
    assert faults.faults() == []
    assert agent.get_federation_token(InstanceId=world.instance_id)


# -- the wire shapes
def test_a_drop_closes_the_connection_without_an_answer(world: World, faults: AdminClient) -> None:
    faults.add_fault(FaultSpec("connect", "ListInstances", drop=True, count=1))
    client = world.server.client("connect")
    signed: dict[str, Any] = {}
    client.meta.events.register(
        "before-send",
        lambda request, **_: signed.update(
            headers={
                k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()
            },
            path=request.url,
        ),
    )
    with pytest.raises(ConnectionClosedError):
        client.list_instances()
    faults.add_fault(FaultSpec("connect", "ListInstances", drop=True, count=1))
    with pytest.raises(http.client.RemoteDisconnected):  # not one byte came back
        _raw_get(
            world,
            urlsplit(signed["path"]).path + "?" + urlsplit(signed["path"]).query,
            signed["headers"],
        )
    # The server dropped it on purpose: nothing in its log says the app failed to answer.
    assert not [line for line in world.server.output if "ASGI" in line or "Traceback" in line]


def test_the_cti_api_answers_injected_errors_in_json_1_0(world: World, faults: AdminClient) -> None:
    token = _agent(world, 1).get_federation_token(InstanceId=world.instance_id)["Credentials"][
        "AccessToken"
    ]
    faults.add_fault(
        FaultSpec("cti", "GetAgentConfiguration", error="ThrottlingException", count=1)
    )
    faults.add_fault(
        FaultSpec("cti", "GetAgentSnapshot", error="InternalServiceException", count=1)
    )
    path = f"/connect/{world.instance_id}/api"
    throttled = cti.call(world.server.url, path, "GetAgentConfiguration", {}, token=token)
    assert (throttled.status, throttled.error) == (429, "ThrottlingException")
    assert throttled.headers["x-amzn-errortype"] == "ThrottlingException"
    assert throttled.headers["content-type"] == "application/x-amz-json-1.0"
    failed = cti.call(world.server.url, path, "GetAgentSnapshot", {"nextToken": None}, token=token)
    assert (failed.status, failed.error) == (500, "InternalServiceException")
    assert cti.call(world.server.url, path, "GetAgentConfiguration", {}, token=token).status == 200


def test_faults_wait_for_authentication(world: World, faults: AdminClient) -> None:
    faults.add_fault(FaultSpec("connect", GFT, error="ThrottlingException", count=1))
    stranger = retrying(world.server, "connect", 1, "AKIAUNKNOWNKEY000000", "x" * 40)
    with pytest.raises(ClientError) as caught:
        stranger.get_federation_token(InstanceId=world.instance_id)
    assert caught.value.response["Error"]["Code"] == "UnrecognizedClientException"
    assert [f.count for f in faults.faults()] == [1]  # not spent by the refused call


# -- our client
def test_our_client_retries_throttles_internal_errors_and_drops(
    world: World, faults: AdminClient
) -> None:
    client = _ours(world)
    faults.add_fault(FaultSpec("connect", GFT, error="ThrottlingException", count=2))
    assert client.get_federation_token_raw(world.instance_id).attempts == 3
    faults.add_fault(FaultSpec("connect", GFT, error="InternalServiceException", count=1))
    faults.add_fault(FaultSpec("connect", GFT, drop=True, count=1))
    assert client.get_federation_token_raw(world.instance_id).attempts == 3
    faults.add_fault(FaultSpec("connect", GFT, error="ThrottlingException", count=3))
    with pytest.raises(ThrottlingException) as caught:
        client.get_federation_token(world.instance_id)
    assert caught.value.attempts == 3  # type: ignore[attr-defined]
    assert caught.value.status == 429


def test_our_client_gives_up_on_a_drop_after_its_attempts(
    world: World, faults: AdminClient
) -> None:
    faults.add_fault(FaultSpec("connect", GFT, drop=True))
    with pytest.raises(TransportError, match="Connection was closed"):
        _ours(world, max_attempts=2).get_federation_token(world.instance_id)


def test_our_client_times_out_on_added_latency(world: World, faults: AdminClient) -> None:
    faults.add_fault(FaultSpec("connect", GFT, latency_ms=5000, count=1))
    with pytest.raises(ReadTimeout):
        _ours(world, read_timeout=0.5, max_attempts=1).get_federation_token(world.instance_id)


def test_our_asyncio_client_retries_injected_throttles(world: World, faults: AdminClient) -> None:
    sync = _ours(world)
    client = AsyncConnectClient(sync.config)
    faults.add_fault(FaultSpec("connect", GFT, error="ThrottlingException", count=2))
    token = asyncio.run(client.get_federation_token(world.instance_id, timeout=30))
    assert token.access_token.startswith("cfa_")
    assert faults.faults() == []


# -- two servers, one database
def test_the_clock_and_faults_hold_across_servers_on_one_database(tmp_path: Path) -> None:
    url = postgres_or_skip()
    first = start_admin_server(tmp_path / "a", database_url=url)
    second = start_admin_server(tmp_path / "b", database_url=url)
    try:
        world = build_world(first, "shared")
        admin_a, admin_b = AdminClient(first.url), AdminClient(second.url)
        admin_a.advance(600)
        assert admin_b.clock().offset_seconds == 600
        root_b = second.client("connect")
        with pytest.raises(ClientError) as caught:
            root_b.list_instances()
        assert caught.value.response["Error"]["Message"].startswith("Signature expired")
        with botocore_clock(600):
            assert root_b.list_instances()["InstanceSummaryList"]
            creds = world.assume("agent1", DurationSeconds=3600)
            fault = admin_a.add_fault(
                FaultSpec("connect", GFT, error="ThrottlingException", count=3)
            )
            assert admin_b.faults() == [fault]
            outcomes = []
            for server in (first, second) * 3:
                agent = server.client(
                    "connect", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
                )
                try:
                    agent.get_federation_token(InstanceId=world.instance_id)
                    outcomes.append("ok")
                except ClientError as error:
                    outcomes.append(error.response["Error"]["Code"])
        assert outcomes == ["ThrottlingException"] * 3 + ["ok"] * 3
        assert admin_a.faults() == [] and admin_b.faults() == []
        admin_b.set_offset(0)
        assert admin_a.clock().offset_seconds == 0
    finally:
        first.stop()
        second.stop()

"""connectfed.client's transports against endpoints that misbehave on the wire: answers cut short,
connections that must be closed when a call fails."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from connectfed.auth.sigv4 import Credentials
from connectfed.client import AsyncConnectClient, ConnectClient, ReadTimeout, TransportError
from tests.e2e.test_client import Staller

TOKEN = (
    b'{"Credentials":{"AccessToken":"a","AccessTokenExpiration":1,'
    b'"RefreshToken":"r","RefreshTokenExpiration":2}}'
)


@contextmanager
def raw_endpoint(reply: bytes) -> Iterator[tuple[str, list[int]]]:
    """Answers every connection with ``reply`` (bytes as they go on the wire), then closes it."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    connections: list[int] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            connections.append(1)
            with conn:
                conn.recv(65536)
                conn.sendall(reply)

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", connections
    finally:
        listener.close()


def _call(make: Any, url: str, **options: Any) -> Any:
    client = make(endpoint_url=url, region="us-east-1", sign=False, env={}, **options)
    client.config = dataclasses.replace(client.config, retry_base_seconds=0.001)
    result = client.get_federation_token("i-1")
    return asyncio.run(result) if asyncio.iscoroutine(result) else result


@pytest.mark.parametrize("make", [ConnectClient, AsyncConnectClient])
def test_a_body_shorter_than_its_content_length_is_a_transport_error_and_retried(
    make: Any,
) -> None:
    # The connection closes after a complete JSON document, 10 bytes short of the length the
    # head announced: the answer was cut, whatever the bytes that did arrive look like.
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
    with (
        raw_endpoint(head % (len(TOKEN) + 10) + TOKEN) as (url, connections),
        pytest.raises(TransportError) as caught,
    ):
        _call(make, url)
    assert caught.value.attempts == 3 and len(connections) == 3


def test_a_failed_sync_call_closes_its_connection_while_its_error_is_kept() -> None:
    staller = Staller()
    with pytest.raises(ReadTimeout) as caught:
        _call(ConnectClient, staller.url, read_timeout=0.2, max_attempts=1)
    # The application still holds the error (as pytest does here): the socket must be closed
    # all the same, not when the error is garbage-collected.
    assert caught.value is not None
    assert staller.closed.wait(5), "the connection stayed open as long as the error lived"


def test_the_host_header_is_botocores_without_user_information_or_capitals() -> None:
    import boto3

    from tests.support.canned import canned_server

    with canned_server(200, TOKEN) as (url, seen):
        endpoint = url.replace("http://127.0.0.1", "http://us:pw@LocalHost")
        boto3.client(
            "connect",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="AKIDEXAMPLE",
            aws_secret_access_key="secret",
        ).get_federation_token(InstanceId="i-1")
        ConnectClient(
            endpoint_url=endpoint,
            region="us-east-1",
            credentials=Credentials("AKIDEXAMPLE", "secret"),
            env={},
        ).get_federation_token("i-1")
    reference, ours = seen
    # Signed as sent: the user and password never reach the server in the Host header.
    assert ours["Host"] == reference["Host"] == f"localhost:{url.rsplit(':', 1)[1]}"


@pytest.mark.parametrize("make", [ConnectClient, AsyncConnectClient])
def test_timestamps_are_read_as_botocore_reads_them_and_bad_ones_are_typed_errors(
    make: Any,
) -> None:
    import botocore.session

    from connectfed.client import ServiceError

    model = botocore.session.get_session().get_service_model("connect")
    shape = model.operation_model("GetFederationToken").output_shape
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
    for value in (b"1700000000", b'"1700000000"', b"1700000000.25", b'"2026-01-01T10:00:00Z"'):
        body = TOKEN.replace(b":1,", b":" + value + b",")
        reference = botocore.parsers.RestJSONParser().parse(
            {"status_code": 200, "headers": {}, "body": body}, shape
        )["Credentials"]["AccessTokenExpiration"]
        with raw_endpoint(head % len(body) + body) as (url, _):
            assert _call(make, url).access_token_expiration == reference, value
    for value in (b"1e12", b'"soon"', b"[]"):
        body = TOKEN.replace(b":1,", b":" + value + b",")
        with raw_endpoint(head % len(body) + body) as (url, _), pytest.raises(ServiceError) as e:
            _call(make, url)
        assert (e.value.code, e.value.status) == ("InvalidResponse", 200), value


FULL = {
    "Credentials": {
        "AccessToken": "a",
        "AccessTokenExpiration": 1700000000,
        "RefreshToken": "r",
        "RefreshTokenExpiration": 1700003600,
    },
    "SignInUrl": "https://example.com/sign-in",
    "UserArn": "arn:aws:connect:us-east-1:111122223333:instance/i/agent/u",
    "UserId": "u",
}
FIELDS = {
    "AccessToken": "access_token",
    "AccessTokenExpiration": "access_token_expiration",
    "RefreshToken": "refresh_token",
    "RefreshTokenExpiration": "refresh_token_expiration",
    "SignInUrl": "sign_in_url",
    "UserArn": "user_arn",
    "UserId": "user_id",
}


def _without(name: str, null: bool) -> dict[str, Any]:
    document = json.loads(json.dumps(FULL))
    where = document["Credentials"] if name in document["Credentials"] else document
    if null:
        where[name] = None
    else:
        del where[name]
    return document


@pytest.mark.parametrize("make", [ConnectClient, AsyncConnectClient])
@pytest.mark.parametrize("null", [False, True])
@pytest.mark.parametrize("name", [*FIELDS, "Credentials"])
def test_a_member_left_out_is_none_as_botocore_leaves_it_out(
    make: Any, null: bool, name: str
) -> None:
    """Every member of GetFederationToken's output is optional in the model: one left out (or
    null) is missing from botocore's dict, and None in the typed result, never 1970 or ""."""
    import botocore.parsers
    import botocore.session

    shape = (
        botocore.session.get_session()
        .get_service_model("connect")
        .operation_model("GetFederationToken")
        .output_shape
    )
    body = json.dumps(_without(name, null)).encode()
    reference = botocore.parsers.RestJSONParser().parse(
        {"status_code": 200, "headers": {}, "body": body}, shape
    )
    present = reference | reference.get("Credentials", {})
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
    with raw_endpoint(head % len(body) + body) as (url, _):
        token = _call(make, url)
    for member, attribute in FIELDS.items():
        value = getattr(token, attribute)
        assert (value is None) == (member not in present), (member, value)
        if member in present:
            assert value == present[member]


@pytest.mark.parametrize("make", [ConnectClient, AsyncConnectClient])
@pytest.mark.parametrize(
    "change",
    [
        {"Credentials": "tokens"},
        {"Credentials": []},
        {"AccessToken": 5},
        {"RefreshToken": ["r"]},
        {"UserId": {"id": "u"}},
        {"SignInUrl": 1},
        {"AccessTokenExpiration": True},
        {"RefreshTokenExpiration": {}},
    ],
)
def test_a_member_of_the_wrong_type_makes_the_answer_an_invalid_response(
    make: Any, change: dict[str, Any]
) -> None:
    from connectfed.client import ServiceError

    document = json.loads(json.dumps(FULL))
    for name, value in change.items():
        where = document["Credentials"] if name in document["Credentials"] else document
        where[name] = value
    body = json.dumps(document).encode()
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
    with raw_endpoint(head % len(body) + body) as (url, _), pytest.raises(ServiceError) as caught:
        _call(make, url)
    assert (caught.value.code, caught.value.status) == ("InvalidResponse", 200)
    assert not caught.value.retryable

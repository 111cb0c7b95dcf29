"""Request heads are bounded in size (431), field count (431) and time (408, then the connection
closes), over plain HTTP and TLS; idle connections are closed; legal requests, big ones
included, still work. Small limits (--head-timeout 1) keep the tests short; the assertions are
on what the server does, not on how long it takes."""

from __future__ import annotations

import json
import select
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.raw_http import Answer, connect, exchange, read_until_closed
from tests.support.server import Server, start_server
from tests.support.world import make_role

LIMIT = 32 * 1024


@pytest.fixture(scope="module", params=["http", "https"])
def limited(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    tls = ("--tls-self-signed",) if request.param == "https" else ()
    srv = start_server(
        tmp_path_factory.mktemp("limits"),
        "--throttle-rate",
        "0",
        "--head-timeout",
        "1",
        "--keep-alive-timeout",
        "3",
        *tls,
        scheme=request.param,
    )
    yield srv
    srv.stop()


def _get(path: str = "/_connectfed/health", headers: bytes = b"") -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: localhost\r\n".encode()
        + headers
        + b"Connection: close\r\n\r\n"
    )


def _assert_refused(answer: Answer, status: int, code: str) -> None:
    assert answer.status == status, answer.data[:200]
    assert answer.header("x-amzn-errortype") == code
    assert answer.header("x-amzn-requestid")
    assert answer.header("connection") == "close"
    assert json.loads(answer.body)["message"]
    assert answer.closed


def test_huge_header_gets_431_and_the_connection_closes(limited: Server) -> None:
    answer = exchange(limited, [_get(headers=b"X-Big: " + b"a" * (8 << 20) + b"\r\n")])
    _assert_refused(answer, 431, "RequestHeaderFieldsTooLargeException")


def test_header_just_over_the_limit_gets_431_and_just_under_passes(limited: Server) -> None:
    over = exchange(limited, [_get(headers=b"X-Pad: " + b"a" * LIMIT + b"\r\n")])
    _assert_refused(over, 431, "RequestHeaderFieldsTooLargeException")
    under = exchange(limited, [_get(headers=b"X-Pad: " + b"a" * (LIMIT - 200) + b"\r\n")])
    assert under.status == 200 and json.loads(under.body) == {"status": "ok"}


def test_too_many_header_fields_get_431(limited: Server) -> None:
    many = b"".join(b"X-H%d: v\r\n" % i for i in range(200))
    _assert_refused(
        exchange(limited, [_get(headers=many)]), 431, "RequestHeaderFieldsTooLargeException"
    )
    some = b"".join(b"X-H%d: v\r\n" % i for i in range(90))
    assert exchange(limited, [_get(headers=some)]).status == 200


def test_trickled_head_gets_408_and_the_connection_closes(limited: Server) -> None:
    lines = [b"GET /_connectfed/health HTTP/1.1\r\n"] + [b"X-Slow%d: v\r\n" % i for i in range(40)]
    answer = exchange(limited, lines, pause=0.25)
    _assert_refused(answer, 408, "RequestTimeoutException")
    # Cut off long before the client would have finished trickling (40 x 0.25 s).
    assert not answer.sent_all


def test_endless_request_line_gets_431(limited: Server) -> None:
    answer = exchange(limited, [b"GET /" + b"a" * (4 << 20)])
    _assert_refused(answer, 431, "RequestHeaderFieldsTooLargeException")


def test_connection_that_never_sends_a_request_is_closed(limited: Server) -> None:
    with connect(limited) as sock:
        data, closed = read_until_closed(sock)
    assert closed and data == b""


def test_kept_alive_connection_serves_later_requests_then_is_closed_when_idle(
    limited: Server,
) -> None:
    import time

    keep = b"GET /_connectfed/health HTTP/1.1\r\nHost: localhost\r\n\r\n"
    with connect(limited) as sock:
        sock.sendall(keep + keep)  # pipelined
        time.sleep(1.5)  # idle longer than the head timeout, shorter than keep-alive
        sock.sendall(keep)
        data, closed = read_until_closed(sock)
    assert data.count(b"HTTP/1.1 200 OK") == 3
    assert closed  # by the keep-alive timeout, with no answer to a request never made


def test_a_later_head_is_timed_from_its_own_first_byte(limited: Server) -> None:
    """On a kept-alive connection each head has the whole head timeout (1 s here) from its own
    first byte: one begun late but complete in time is answered, even though the connection's
    first head was due long before; one trickled on past its time gets 408."""
    import time

    head = b"GET /_connectfed/health HTTP/1.1\r\nHost: localhost\r\n"
    with connect(limited) as sock:
        sock.sendall(head + b"\r\n")
        time.sleep(0.7)  # the first head was due 1 s after the connection opened
        for piece in (head, b"X-Slow1: v\r\n", b"X-Slow2: v\r\n", b"\r\n"):
            sock.sendall(piece)  # done ~0.6 s after its first byte: in time
            time.sleep(0.2)
        answered = b""
        while answered.count(b"HTTP/1.1 200 OK") < 2 and (chunk := sock.recv(65536)):
            answered += chunk
        sock.sendall(head)  # a third head, never finished
        pieces = (b"X-Slow%d: v\r\n" % i for i in range(40))
        for piece in pieces:
            sock.sendall(piece)
            if select.select([sock], [], [], 0.25)[0]:  # answered (or closed)
                break
        data, closed = read_until_closed(sock)
    assert answered.count(b"HTTP/1.1 200 OK") == 2, answered
    assert data.startswith(b"HTTP/1.1 408 ") and closed, data
    assert next(pieces, None) is not None  # cut off long before it would have been finished


def _signed_client(server: Server, padding: int) -> Any:
    """A Connect client on assumed-role credentials (with a session token) whose every request
    carries ``padding`` bytes of an extra, signed header."""
    role = make_role(
        server,
        f"Pad{padding}",
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "connect:*", "Resource": "*"}],
        },
    )
    iam = server.client("iam")
    name = f"padder{padding}"
    iam.create_user(UserName=name)
    iam.put_user_policy(
        UserName=name,
        PolicyName="p",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}],
            }
        ),
    )
    key = iam.create_access_key(UserName=name)["AccessKey"]
    creds = server.client("sts", key["AccessKeyId"], key["SecretAccessKey"]).assume_role(
        RoleArn=role, RoleSessionName="padded"
    )["Credentials"]
    client = server.client(
        "connect", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
    )

    def pad(request: Any, **_: Any) -> None:
        request.headers["X-Padding"] = "p" * padding

    client.meta.events.register_first("before-sign.connect.*", pad)
    return client


def test_big_but_legal_signed_request_still_works(limited: Server) -> None:
    client = _signed_client(limited, 24 * 1024)
    assert "InstanceSummaryList" in client.list_instances()


def test_body_limit_still_applies_after_the_head(limited: Server) -> None:
    big = exchange(
        limited,
        [
            b"PUT /instance HTTP/1.1\r\nHost: x\r\nContent-Type: "
            b"application/json\r\nContent-Length: 2000000\r\n\r\n" + b"x" * 2_000_000
        ],
    )
    assert big.status == 413
    assert big.header("x-amzn-errortype") == "RequestEntityTooLargeException"
    assert big.closed  # the unread rest of the body does not keep the connection open


def test_body_trickled_after_the_answer_does_not_keep_the_connection(limited: Server) -> None:
    head = (
        b"PUT /instance HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 2000000\r\n\r\n"
    )
    answer = exchange(
        limited, [head + b"x" * 1_100_000] + [b"x" * 100] * 60, pause=0.2, keep_sending=True
    )
    assert answer.status == 413
    assert answer.closed and not answer.sent_all  # closed while the client was still sending


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"FOO /instance HTTP/1.1\r\nHost: x\r\n\r\n",  # no such method
        b"GET /\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n",  # raw non-ASCII in the target
        b"GET /instance HTTP/1.1\r\nHost: x\r\nX-Bad: a\x7fb\r\n\r\n",  # DEL in a value
        b"GET /instance HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n",  # space in a name
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nabc\r\n0\r\n\r\n",
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",  # HTTP/2 without negotiation
    ],
    ids=[
        "method",
        "raw-non-ascii",
        "control-in-value",
        "space-in-name",
        "content-length-not-a-number",
        "two-content-lengths",
        "bad-chunk-size",
        "http2-preface",
    ],
)
def test_malformed_http_gets_an_aws_shaped_400_and_the_connection_closes(
    limited: Server, request_bytes: bytes
) -> None:
    """What the HTTP parser refuses is answered like every other refusal (JSON body,
    ``x-amzn-ErrorType``, a request id), not with uvicorn's plain-text 400."""
    _assert_refused(exchange(limited, [request_bytes]), 400, "BadRequestException")

"""A request answered over a real connection leaves no reference cycle behind: what it allocated
(the scope, its state, the principal, the headers) is freed once the response is sent, not
left for the garbage collector, whose collections would then rescan every request in flight.

The server here is the real one in this process (uvicorn with the bounded protocol of
server/protocol.py, the edge and the application on a temporary SQLite database), so the
garbage collector's view of it can be checked; the client is a plain socket."""

from __future__ import annotations

import gc
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from connectfed.app import build_services, create_edge
from connectfed.server.protocol import HeadLimits, bounded_protocol
from connectfed.settings import Settings
from tests.support.server import free_port

BODY = b"Action=GetCallerIdentity&Version=2011-06-15"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Credentials]]:
    database = tmp_path_factory.mktemp("garbage") / "db.sqlite"
    services = build_services(Settings(database_url=f"sqlite://{database}", throttle_rate=0))
    port = free_port()
    config = uvicorn.Config(
        create_edge(services),
        host="127.0.0.1",
        port=port,
        http=bounded_protocol(HeadLimits(32768, 100, 10)),
        ws="none",
        lifespan="off",
        log_level="warning",
    )
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not running.started and time.monotonic() < deadline:
        time.sleep(0.01)
    assert running.started
    boot = services.bootstrap
    yield port, Credentials(boot.root_access_key_id, boot.root_secret_access_key)
    running.should_exit = True
    thread.join(10)
    services.close()


def _signed(port: int, credentials: Credentials) -> bytes:
    request = AWSRequest(
        method="POST",
        url=f"http://127.0.0.1:{port}/",
        data=BODY,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    SigV4Auth(credentials, "sts", "us-east-1").add_auth(request)
    lines = ["POST / HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{k}: {v}" for k, v in request.headers.items()]
    lines.append(f"Content-Length: {len(BODY)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + BODY


def _answer(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head


def test_answered_requests_leave_no_reference_cycles(server: tuple[int, Credentials]) -> None:
    port, credentials = server
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(_signed(port, credentials))  # warm: first-use caches and imports
        assert _answer(sock).startswith(b"HTTP/1.1 200 ")
        gc.collect()
        gc.set_debug(gc.DEBUG_SAVEALL)  # what a collection finds is kept in gc.garbage
        try:
            for _ in range(20):  # on one kept-alive connection, as clients send them
                sock.sendall(_signed(port, credentials))
                assert _answer(sock).startswith(b"HTTP/1.1 200 ")
            gc.collect()
            garbage = sorted({type(o).__qualname__ for o in gc.garbage})
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
    assert garbage == []

"""connectfed.client through an HTTP proxy, found in the environment as botocore finds it
(HTTPS_PROXY, HTTP_PROXY, NO_PROXY), against the real server over TLS and in clear text; boto3
through the same proxy is the reference."""

from __future__ import annotations

import asyncio
import socket
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest

from connectfed.auth.sigv4 import Credentials
from connectfed.client import AsyncConnectClient, ConnectClient, TransportError
from tests.support.server import Server
from tests.support.world import World, build_world


class Proxy:
    """A forward proxy: CONNECT tunnels, and absolute-URL requests forwarded in origin form.
    ``seen`` holds each request's method and target, and its Proxy-Authorization header."""

    def __init__(self) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(32)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.seen: list[tuple[str, str | None]] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                head += chunk
            head, rest = head.split(b"\r\n\r\n", 1)
            first, *lines = head.decode("latin-1").split("\r\n")
            fields = dict(line.split(": ", 1) for line in lines)
            method, target, version = first.split(" ")
            self.seen.append((f"{method} {target}", fields.get("Proxy-Authorization")))
            if method == "CONNECT":
                host, port = target.rsplit(":", 1)
                upstream = socket.create_connection((host, int(port)))
                conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            else:
                parts = urlsplit(target)
                upstream = socket.create_connection((parts.hostname, parts.port or 80))
                kept = [line for line in lines if not line.startswith("Proxy-Authorization")]
                origin = parts.path + (f"?{parts.query}" if parts.query else "")
                request = "\r\n".join([f"{method} {origin} {version}", *kept]) + "\r\n\r\n"
                upstream.sendall(request.encode("latin-1") + rest)
            with upstream:
                self._pipe(conn, upstream)

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        def copy(source: socket.socket, target: socket.socket) -> None:
            try:
                while data := source.recv(65536):
                    target.sendall(data)
                target.shutdown(socket.SHUT_WR)
            except OSError:
                pass

        other = threading.Thread(target=copy, args=(b, a), daemon=True)
        other.start()
        copy(a, b)
        other.join(10)


def _both(url: str, instance_id: str, creds: Credentials, env: dict[str, str]) -> list[Any]:
    options: dict[str, Any] = {
        "endpoint_url": url,
        "region": "us-east-1",
        "credentials": creds,
        "env": env,
        "max_attempts": 1,
    }
    sync = ConnectClient(**options).get_federation_token(instance_id)
    aio = asyncio.run(AsyncConnectClient(**options).get_federation_token(instance_id, timeout=30))
    return [sync, aio]


def _boto3(url: str, instance_id: str, creds: Credentials) -> Any:
    return boto3.client(
        "connect",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=creds.access_key_id,
        aws_secret_access_key=creds.secret_access_key,
        aws_session_token=creds.session_token,
    ).get_federation_token(InstanceId=instance_id)


def test_https_proxy_tunnels_to_the_endpoint_as_for_boto3(
    tls_world: World, tls_agent: Credentials, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy = Proxy()
    assert tls_world.server.ca_bundle
    env = {"HTTPS_PROXY": proxy.url, "AWS_CA_BUNDLE": tls_world.server.ca_bundle}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    _boto3(tls_world.server.url, tls_world.instance_id, tls_agent)
    tunnel = f"CONNECT {urlsplit(tls_world.server.url).netloc}"
    assert proxy.seen == [(tunnel, None)]
    assert all(
        token.user_id
        for token in _both(tls_world.server.url, tls_world.instance_id, tls_agent, env)
    )
    assert proxy.seen == [(tunnel, None)] * 3


def test_no_proxy_bypasses_the_proxy(tls_world: World, tls_agent: Credentials) -> None:
    proxy = Proxy()
    assert tls_world.server.ca_bundle
    env = {
        "https_proxy": proxy.url,
        "no_proxy": "localhost,.example.com,127.0.0.1",
        "AWS_CA_BUNDLE": tls_world.server.ca_bundle,
    }
    assert all(
        token.user_id
        for token in _both(tls_world.server.url, tls_world.instance_id, tls_agent, env)
    )
    assert proxy.seen == []


def test_http_proxy_gets_the_absolute_url_and_its_credentials(
    server: Server, tmp_path: Path
) -> None:
    world = build_world(server, "proxied-http")
    c = world.assume("agent1")
    creds = Credentials(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
    proxy = Proxy()
    user_url = proxy.url.replace("http://", "http://us%40er:p%3Ass@")
    env = {"HTTP_PROXY": user_url}
    assert all(token.user_id for token in _both(server.url, world.instance_id, creds, env))
    target = f"GET {server.url}/user/federate/{world.instance_id}"
    assert proxy.seen == [(target, "Basic dXNAZXI6cDpzcw==")] * 2  # base64 of us@er:p:ss


# The second: a password that is also part of the URL before it ("tt" of "http") must not be
# masked there and left in place.
@pytest.mark.parametrize("userinfo", ["user:secret", "proxy:tt"])
def test_a_proxy_that_cannot_be_reached_is_botocores_error_without_its_password(
    tls_world: World, tls_agent: Credentials, userinfo: str
) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    env = {"HTTPS_PROXY": f"http://{userinfo}@127.0.0.1:{port}"}
    for make in (ConnectClient, AsyncConnectClient):
        with pytest.raises(TransportError) as caught:
            result = make(
                endpoint_url=tls_world.server.url,
                region="us-east-1",
                credentials=tls_agent,
                env=env,
                max_attempts=1,
            ).get_federation_token(tls_world.instance_id)
            if asyncio.iscoroutine(result):
                asyncio.run(result)
        assert (
            str(caught.value)
            == f'Failed to connect to proxy URL: "http://***:***@127.0.0.1:{port}"'
        )

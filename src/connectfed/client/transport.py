"""Minimal blocking HTTP/1.1 transport on sockets (asyncio: ``transport_async``).

Hand-written to keep the CLI's start-up within its budget: httpx or aiohttp cost 80-120 ms to
import, and even http.client brings the email package; a GetFederationToken exchange is one
small GET with ``Connection: close``.
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import urlsplit

from connectfed.client import proxies
from connectfed.client.errors import ConnectTimeout, ReadTimeout, TransportError

MAX_RESPONSE_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes


def ssl_context(verify: bool | str) -> ssl.SSLContext:
    if verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    return ssl.create_default_context(cafile=verify if isinstance(verify, str) else None)


def connect_error(url: str, exc: OSError) -> TransportError:
    """The AWS CLI's wording for a failure to connect (timeouts and TLS included)."""
    if isinstance(exc, TimeoutError):
        return ConnectTimeout(f'Connect timeout on endpoint URL: "{url}"')
    if isinstance(exc, ssl.SSLError | FileNotFoundError):  # a CA bundle that is not there
        return TransportError(f"SSL validation failed for {url} {exc}")
    return TransportError(f'Could not connect to the endpoint URL: "{url}"')


def request_bytes(method: str, target: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [
        f"{method} {target} HTTP/1.1",
        *(f"{k}: {v}" for k, v in headers.items()),
        "Connection: close",
    ]
    if body or method in ("POST", "PUT"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    status = int(status_line.split(" ", 2)[1])
    headers: dict[str, str] = {}
    for line in header_lines:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    return status, headers


def _read_exactly(stream: BinaryIO, size: int) -> bytes:
    """``size`` bytes, or ValueError when the connection closes first (as asyncio's
    readexactly): an answer cut short is a failed exchange, never a shorter answer."""
    data = stream.read(size)
    if len(data) != size:
        raise ValueError("connection closed before the end of the response")
    return data


def _read_body(stream: BinaryIO, headers: dict[str, str]) -> bytes:
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = bytearray()
        while True:
            size = int(stream.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                stream.readline()
                return bytes(body)
            body += _read_exactly(stream, size)
            _read_exactly(stream, 2)
            if len(body) > MAX_RESPONSE_BYTES:
                raise TransportError("response too large")
    if "content-length" not in headers:
        return stream.read(MAX_RESPONSE_BYTES)
    length = int(headers["content-length"])
    if length > MAX_RESPONSE_BYTES:
        raise TransportError("response too large")
    return _read_exactly(stream, length)


def masked(proxy: str) -> str:
    """A proxy URL as errors show it: user and password masked where they stand, in its
    netloc (botocore's mask_proxy_url replaces their first occurrence anywhere, so a password
    such as ``tt`` masked the ``tt`` of ``http`` and was shown)."""
    parts = urlsplit(proxy)
    if parts.username is None and parts.password is None:
        return proxy
    userinfo, _, host = parts.netloc.rpartition("@")
    user, colon, password = userinfo.partition(":")
    hidden = ("***" if user else "") + colon + ("***" if password else "")
    return parts._replace(netloc=f"{hidden}@{host}").geturl()


def proxy_error(proxy: str) -> TransportError:
    return TransportError(f'Failed to connect to proxy URL: "{masked(proxy)}"')


def _tunnel(proxy: str, host: str, port: int, timeout: float | None) -> socket.socket:
    """A connection to the proxy; for ``host`` given, a ``CONNECT`` tunnel to ``host:port``
    through it."""
    try:
        sock = socket.create_connection(proxies.proxy_address(proxy), timeout=timeout)
    except (OSError, ValueError) as exc:
        raise proxy_error(proxy) from exc
    if not host:
        return sock
    try:
        sock.sendall(proxies.tunnel_request(host, port, proxy))
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(4096)
            if not chunk or len(head) > 65536:
                raise ValueError("no answer to CONNECT")
            head += chunk
        if proxies.tunnel_status(head) != 200:
            raise ValueError("CONNECT refused")
    except (OSError, ValueError) as exc:
        sock.close()
        raise proxy_error(proxy) from exc
    return sock


def send(
    method: str,
    url: str,
    headers: dict[str, str],
    *,
    verify: bool | str,
    connect_timeout: float | None,
    read_timeout: float | None,
    body: bytes = b"",
    proxy: str | None = None,
) -> HttpResponse:
    parts = urlsplit(url)
    secure = parts.scheme == "https"
    host = parts.hostname or ""
    port = parts.port or (443 if secure else 80)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    if proxy is not None and not secure:  # the proxy forwards it: the absolute URL as target
        target = url
        headers = headers | proxies.proxy_headers(proxy)
    sock: socket.socket | None = None
    try:
        if proxy is None:
            sock = socket.create_connection((host, port), timeout=connect_timeout)
        else:
            sock = _tunnel(proxy, host if secure else "", port, connect_timeout)
        if secure:
            sock = ssl_context(verify).wrap_socket(sock, server_hostname=host)
    except OSError as exc:
        if sock is not None:  # connected, then no TLS (a bad CA bundle, a failed handshake)
            sock.close()
        raise connect_error(url, exc) from exc
    stream: BinaryIO | None = None
    try:
        sock.settimeout(read_timeout)
        sock.sendall(request_bytes(method, target, headers, body))
        stream = sock.makefile("rb")
        head = bytearray()
        while not head.endswith(b"\r\n\r\n"):
            line = stream.readline(65537)
            if not line:
                raise TransportError(
                    "Connection was closed before we received a valid "
                    f'response from endpoint URL: "{url}".'
                )
            head += line
            if len(head) > 65536:
                raise TransportError("response headers too large")
        status, response_headers = parse_head(bytes(head))
        return HttpResponse(status, response_headers, _read_body(stream, response_headers))
    except TimeoutError as exc:
        raise ReadTimeout(f'Read timeout on endpoint URL: "{url}"') from exc
    except (OSError, ValueError, IndexError) as exc:
        raise TransportError(
            f'Connection was closed before we received a valid response from endpoint URL: "{url}".'
        ) from exc
    finally:
        # The file keeps the socket open until it is closed too: left to the garbage collector,
        # a raised error (whose traceback holds this frame) kept the connection open.
        if stream is not None:
            stream.close()
        sock.close()

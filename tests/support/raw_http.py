"""Raw HTTP/1.1 over a socket (plain or TLS), for what no HTTP client will send: oversized or
trickled request heads, idle connections."""

from __future__ import annotations

import select
import socket
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from tests.support.server import Server


def connect(server: Server, timeout: float = 15) -> socket.socket:
    parts = urlsplit(server.url)
    assert parts.hostname is not None and parts.port is not None
    sock = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
    if parts.scheme == "https":
        context = ssl.create_default_context(cafile=server.ca_bundle)
        sock = context.wrap_socket(sock, server_hostname=parts.hostname)
    return sock


@dataclass
class Answer:
    data: bytes  # everything the server sent until it closed the connection
    closed: bool  # the server closed it (rather than our read timing out)
    sent_all: bool  # every piece went out before the server answered or stopped reading

    @property
    def status(self) -> int:
        return int(self.data.split(b" ", 2)[1]) if self.data else 0

    def header(self, name: str) -> str | None:
        head = self.data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
        for line in head.split("\r\n")[1:]:
            key, _, value = line.partition(":")
            if key.strip().lower() == name.lower():
                return value.strip()
        return None

    @property
    def body(self) -> bytes:
        return self.data.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in self.data else b""


def read_until_closed(sock: socket.socket) -> tuple[bytes, bool]:
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except TimeoutError:
        return data, False
    except (ConnectionResetError, ssl.SSLError):
        pass
    return data, True


def _early_answer(sock: socket.socket) -> bytes | None:
    """What the server has sent so far (b"" when it closed), or None when nothing yet. (TLS
    sockets become readable for session tickets too, hence a real read.)"""
    if not select.select([sock], [], [], 0)[0]:
        return None
    timeout = sock.gettimeout()
    sock.setblocking(False)
    try:
        return sock.recv(65536)
    except (ssl.SSLWantReadError, BlockingIOError):
        return None
    except OSError:
        return b""
    finally:
        sock.settimeout(timeout)


def exchange(
    server: Server,
    pieces: Iterable[bytes],
    pause: float = 0.0,
    timeout: float = 15,
    keep_sending: bool = False,
) -> Answer:
    """Send ``pieces`` (``pause`` seconds apart) until the server answers (or, with
    ``keep_sending``, until it closes) or stops taking them, then read until it closes."""
    with connect(server, timeout) as sock:
        received, sent_all = b"", True
        try:
            for piece in pieces:
                answer = _early_answer(sock)
                if answer == b"":
                    return Answer(received, True, False)
                if answer is not None:
                    received += answer
                    if not keep_sending:
                        sent_all = False
                        break
                sock.sendall(piece)
                time.sleep(pause)
        except OSError:
            sent_all = False
        data, closed = read_until_closed(sock)
        return Answer(received + data, closed, sent_all)

"""Minimal HTTP/1.1 transports on the standard library: blocking and asyncio.

Hand-written rather than httpx/aiohttp to keep the CLI's start-up within its budget (each of
those costs 80–120 ms to import); a GetFederationToken exchange is one small GET. The asyncio
transport is cancellable: cancelling the awaiting task closes the connection at once.
"""

from __future__ import annotations

import asyncio
import http.client
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

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


def send(method: str, url: str, headers: dict[str, str], *, verify: bool | str,
         connect_timeout: float | None, read_timeout: float | None) -> HttpResponse:
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(parts.hostname or "", parts.port,
                                                 timeout=connect_timeout,
                                                 context=ssl_context(verify))
    else:
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port,
                                                timeout=connect_timeout)
    try:
        try:
            connection.connect()
        except (TimeoutError, socket.timeout) as exc:
            raise ConnectTimeout(f"Connect timeout on endpoint URL: \"{url}\"") from exc
        except ssl.SSLError as exc:
            raise TransportError(f"SSL validation failed for {url} {exc}") from exc
        except OSError as exc:
            raise TransportError(f"Could not connect to the endpoint URL: \"{url}\"") from exc
        assert connection.sock is not None
        connection.sock.settimeout(read_timeout)
        try:
            connection.request(method, target, headers=headers)
            response = connection.getresponse()
            body = response.read(MAX_RESPONSE_BYTES)
        except (TimeoutError, socket.timeout) as exc:
            raise ReadTimeout(f"Read timeout on endpoint URL: \"{url}\"") from exc
        except (OSError, http.client.HTTPException) as exc:
            raise TransportError(f"Connection was closed before we received a valid response "
                                 f"from endpoint URL: \"{url}\".") from exc
        return HttpResponse(response.status,
                            {k.lower(): v for k, v in response.getheaders()}, body)
    finally:
        connection.close()


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = bytearray()
        while True:
            size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                await reader.readline()
                return bytes(body)
            body += await reader.readexactly(size)
            await reader.readexactly(2)
            if len(body) > MAX_RESPONSE_BYTES:
                raise TransportError("response too large")
    length = int(headers.get("content-length", "0"))
    if length > MAX_RESPONSE_BYTES:
        raise TransportError("response too large")
    return await reader.readexactly(length)


async def send_async(method: str, url: str, headers: dict[str, str], *, verify: bool | str,
                     connect_timeout: float | None,
                     read_timeout: float | None) -> HttpResponse:
    parts = urlsplit(url)
    secure = parts.scheme == "https"
    port = parts.port or (443 if secure else 80)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(parts.hostname, port,
                                    ssl=ssl_context(verify) if secure else None),
            connect_timeout)
    except TimeoutError as exc:
        raise ConnectTimeout(f"Connect timeout on endpoint URL: \"{url}\"") from exc
    except ssl.SSLError as exc:
        raise TransportError(f"SSL validation failed for {url} {exc}") from exc
    except OSError as exc:
        raise TransportError(f"Could not connect to the endpoint URL: \"{url}\"") from exc
    try:
        lines = [f"{method} {target} HTTP/1.1", *(f"{k}: {v}" for k, v in headers.items()),
                 "Connection: close"]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

        async def exchange() -> HttpResponse:
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            status_line, *header_lines = head.decode("latin-1").split("\r\n")
            status = int(status_line.split(" ", 2)[1])
            response_headers: dict[str, str] = {}
            for line in header_lines:
                if ":" in line:
                    name, value = line.split(":", 1)
                    response_headers[name.strip().lower()] = value.strip()
            return HttpResponse(status, response_headers,
                                await _read_body(reader, response_headers))

        try:
            return await asyncio.wait_for(exchange(), read_timeout)
        except TimeoutError as exc:
            raise ReadTimeout(f"Read timeout on endpoint URL: \"{url}\"") from exc
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError,
                OSError) as exc:
            raise TransportError(f"Connection was closed before we received a valid response "
                                 f"from endpoint URL: \"{url}\".") from exc
    finally:
        writer.close()

"""Minimal asyncio HTTP/1.1 transport on the standard library; cancelling the awaiting task
closes the connection at once. Kept apart from the blocking transport so the CLI never imports
asyncio."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from connectfed.client import proxies
from connectfed.client.errors import ReadTimeout, TransportError
from connectfed.client.transport import (
    MAX_RESPONSE_BYTES,
    HttpResponse,
    connect_error,
    parse_head,
    proxy_error,
    request_bytes,
    ssl_context,
)


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
    if "content-length" not in headers:
        return await reader.read(MAX_RESPONSE_BYTES)
    length = int(headers["content-length"])
    if length > MAX_RESPONSE_BYTES:
        raise TransportError("response too large")
    return await reader.readexactly(length)


async def _through_proxy(
    proxy: str, host: str, port: int, secure: bool, verify: bool | str
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A connection to the proxy; to an https endpoint, a ``CONNECT`` tunnel through it with
    TLS to the endpoint inside."""
    try:
        reader, writer = await asyncio.open_connection(*proxies.proxy_address(proxy))
    except (OSError, ValueError) as exc:
        raise proxy_error(proxy) from exc
    if not secure:
        return reader, writer
    try:
        writer.write(proxies.tunnel_request(host, port, proxy))
        await writer.drain()
        if proxies.tunnel_status(await reader.readuntil(b"\r\n\r\n")) != 200:
            raise ValueError("CONNECT refused")
    except (OSError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
        writer.close()
        raise proxy_error(proxy) from exc
    except BaseException:  # cancelled, timed out
        writer.close()
        raise
    try:
        await writer.start_tls(ssl_context(verify), server_hostname=host)
    except BaseException:
        writer.close()
        raise
    return reader, writer


async def send_async(
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
    port = parts.port or (443 if secure else 80)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    if proxy is not None and not secure:  # the proxy forwards it: the absolute URL as target
        target = url
        headers = headers | proxies.proxy_headers(proxy)
    try:
        if proxy is None:
            connecting = asyncio.open_connection(
                parts.hostname, port, ssl=ssl_context(verify) if secure else None
            )
        else:
            connecting = _through_proxy(proxy, parts.hostname or "", port, secure, verify)
        reader, writer = await asyncio.wait_for(connecting, connect_timeout)
    except OSError as exc:  # TimeoutError and ssl.SSLError are OSErrors too
        raise connect_error(url, exc) from exc
    try:
        writer.write(request_bytes(method, target, headers, body))

        async def exchange() -> HttpResponse:
            await writer.drain()
            status, response_headers = parse_head(await reader.readuntil(b"\r\n\r\n"))
            return HttpResponse(
                status, response_headers, await _read_body(reader, response_headers)
            )

        try:
            return await asyncio.wait_for(exchange(), read_timeout)
        except TimeoutError as exc:
            raise ReadTimeout(f'Read timeout on endpoint URL: "{url}"') from exc
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, OSError) as exc:
            raise TransportError(
                f"Connection was closed before we received a valid response "
                f'from endpoint URL: "{url}".'
            ) from exc
    finally:
        writer.close()

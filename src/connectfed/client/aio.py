"""The asyncio client for GetFederationToken."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from connectfed.client.config import ClientConfig, resolve_config
from connectfed.client.connect import _result, clock_skew, prepare, token
from connectfed.client.errors import ClientClosedError, ServiceError, TransportError
from connectfed.client.models import FederationToken
from connectfed.client.retries import backoff, retryable
from connectfed.client.transport import HttpResponse
from connectfed.client.transport_async import send_async

T = TypeVar("T")


async def _in_thread(function: Callable[[], T]) -> T:
    """``function()`` run in a thread of its own, awaited without blocking the loop. Cancelling
    the awaiting task (or its timeout) returns at once; the thread, a daemon, is left to finish
    on its own (asyncio's default executor would hold ``asyncio.run`` at exit until it did)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(outcome: Callable[[], None]) -> None:
        if not future.done():  # cancelled meanwhile
            outcome()

    def run() -> None:
        try:
            value = function()
        except BaseException as exc:  # handed to the awaiting task, whatever it is
            outcome = functools.partial(future.set_exception, exc)
        else:
            outcome = functools.partial(future.set_result, value)
        with contextlib.suppress(RuntimeError):  # the loop was closed meanwhile
            loop.call_soon_threadsafe(settle, outcome)

    threading.Thread(target=run, name="connectfed-credentials", daemon=True).start()
    return await future


class AsyncConnectClient:
    """asyncio client; cancelling the calling task aborts the request and closes its socket.

    ``async with AsyncConnectClient() as client:`` closes it at the end of the block, as
    ``await client.close()`` does (as aiobotocore's clients): a closed client refuses every
    call with :class:`ClientClosedError`, and a call under way makes no other attempt."""

    def __init__(self, config: ClientConfig | None = None, **options: Any) -> None:
        self.config = config or resolve_config(**options)
        self.clock_skew = timedelta(0)  # the server's clock minus ours, once corrected
        self.closed = False

    async def close(self) -> None:
        """Close the client; closing it again does nothing."""
        self.closed = True

    async def __aenter__(self) -> AsyncConnectClient:
        if self.closed:
            raise ClientClosedError
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def get_federation_token(
        self, instance_id: str, *, timeout: float | None = None
    ) -> FederationToken:
        """``timeout`` bounds the whole call, retries included (per-call timeout)."""
        async with asyncio.timeout(timeout):
            attempt = 0
            corrected = False
            while True:
                if self.closed:
                    raise ClientClosedError
                attempt += 1
                sent_at = datetime.now(UTC)
                credentials = None
                if self.config.credential_source is not None:
                    # botocore renews them with a blocking call (STS, a process): off the loop
                    credentials = await _in_thread(self.config.credential_source)
                request = prepare(
                    self.config, instance_id, sent_at + self.clock_skew, credentials=credentials
                )
                response: HttpResponse | None = None
                try:
                    response = await send_async(
                        request.method,
                        request.url,
                        request.headers,
                        verify=self.config.verify,
                        connect_timeout=self.config.connect_timeout,
                        read_timeout=self.config.read_timeout,
                        proxy=self.config.proxy_url,
                    )
                    body = _result(response)
                    return token(body, response.headers.get("x-amzn-requestid"), response.status)
                except (ServiceError, TransportError) as error:
                    skew = None if corrected else clock_skew(error, response, sent_at)
                    if skew is not None and attempt < self.config.max_attempts:
                        self.clock_skew, corrected = skew, True
                        continue
                    again = retryable(error, self.config.retry_mode)
                    if attempt >= self.config.max_attempts or not again:
                        error.attempts = attempt
                        error.max_attempts_reached = again
                        error.retryable = again
                        raise
                    await asyncio.sleep(backoff(self.config, attempt))
                    if self.closed:  # while it waited
                        raise ClientClosedError from error

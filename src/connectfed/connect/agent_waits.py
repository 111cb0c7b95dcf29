"""Waiting for an agent's state to change: in-process wake-ups plus polling of the store.

A waiter registers an :class:`asyncio.Event` under (instance, user) before it reads the state, so
a change landing between the read and the wait is never missed. A change made in this process
wakes waiters at once through ``loop.call_soon_threadsafe`` (``set_state`` may run in a worker
thread when the store is PostgreSQL, while waiters live on the event loop).

Changes made by *other* server processes sharing the database are noticed by re-reading the
state every ``poll_interval`` seconds (250 ms by default). Polling was chosen over PostgreSQL's
LISTEN/NOTIFY because it works the same on SQLite (several processes on one file) and needs no
dedicated connection per server; its cost is one primary-key read per waiting agent per
interval, and its latency at most one interval.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Hashable
from typing import TypeVar

T = TypeVar("T")


class StateWaiters:
    def __init__(self, poll_interval: float = 0.25) -> None:
        self.poll_interval = poll_interval
        self._lock = threading.Lock()
        self._waiters: dict[Hashable, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}

    def notify(self, key: Hashable) -> None:
        """Wake every waiter of ``key``; safe from any thread."""
        with self._lock:
            waiters = list(self._waiters.get(key, ()))
        for loop, event in waiters:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:
                continue  # that waiter's loop is closed

    async def wait(
        self,
        key: Hashable,
        read: Callable[[], Awaitable[T]],
        changed: Callable[[T], bool],
        timeout: float,
    ) -> T:
        """``read()`` until ``changed`` says so, or until ``timeout`` seconds have passed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(timeout, 0.0)
        while True:
            event = asyncio.Event()
            entry = (loop, event)
            with self._lock:
                self._waiters.setdefault(key, set()).add(entry)
            try:
                value = await read()
                remaining = deadline - loop.time()
                if changed(value) or remaining <= 0:
                    return value
                try:
                    async with asyncio.timeout(min(self.poll_interval, remaining)):
                        await event.wait()
                except TimeoutError:
                    pass  # poll: another process may have changed it
            finally:
                with self._lock:
                    entries = self._waiters.get(key)
                    if entries is not None:
                        entries.discard(entry)
                        if not entries:
                            del self._waiters[key]

"""Blocking work (every store call) run off the event loop, on a bounded pool of threads.

A store call may wait: for SQLite's single writer lock held by another process (up to the busy
timeout), for a PostgreSQL row lock, for the disk. On the event loop that wait would stall every
connection of the process, the health endpoint included; on one of these threads it stalls only
the request that made it. The pool is bounded (``Settings.store_threads``) so a burst queues here
instead of opening a connection per request, and it is what lets SQLite's group commit
(``store/sqlite.py``) batch concurrent writers.

Each call runs in a copy of the caller's :mod:`contextvars` context, so the request's scope
(:mod:`connectfed.request_scope`), which the audit trail and the dispatcher read, follows it to
the thread (``loop.run_in_executor`` alone would not carry it).

Hand-written rather than ``run_in_executor`` on a ``ThreadPoolExecutor`` because of what a hop
costs under load: the executor makes a ``concurrent.futures.Future`` per call, chains it to an
asyncio future and wakes the event loop once per finished call (a write to its self-pipe, a
read, a callback). Here a call is one queue entry and one asyncio future, and the threads hand
finished calls back in batches: the loop is woken once for every call finished since it last
looked (under load, many), not once per call.
"""

from __future__ import annotations

import asyncio
import contextvars
import queue
import threading
from collections import deque
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

# A call: (the asyncio future awaiting it, its loop, the context to run in, the function, args).
_Call = tuple[
    asyncio.Future[Any],
    asyncio.AbstractEventLoop,
    contextvars.Context,
    Callable[..., Any],
    tuple[Any, ...],
]
_STOP = None


class _Returns:
    """The calls finished for one event loop, waiting to be handed back to it."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.done: deque[tuple[asyncio.Future[Any], bool, Any]] = deque()
        self.woken = False  # a drain is scheduled on the loop and has not started yet

    def put(self, future: asyncio.Future[Any], ok: bool, value: Any) -> None:
        # Append first, then look at ``woken`` (the loop clears it before draining): a result
        # is either drained by a pending drain or schedules one, never left behind.
        self.done.append((future, ok, value))
        if not self.woken:
            self.woken = True
            try:
                self.loop.call_soon_threadsafe(self.drain)
            except RuntimeError:  # the loop closed: nobody waits for these any more
                self.done.clear()

    def drain(self) -> None:
        self.woken = False
        done = self.done
        while done:
            future, ok, value = done.popleft()
            if future.cancelled():
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)


class Offload:
    def __init__(self, threads: int) -> None:
        if threads < 1:
            raise ValueError("store threads must be at least 1")
        self._size = threads
        self._calls: queue.SimpleQueue[_Call | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._returns: dict[asyncio.AbstractEventLoop, _Returns] = {}
        self._lock = threading.Lock()
        self._closed = False

    async def run(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``function(*args, **kwargs)`` on a pool thread, in the caller's context."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        context = contextvars.copy_context()
        call = function if not kwargs else (lambda *a: function(*a, **kwargs))
        if len(self._threads) < self._size or self._closed:
            self._start_thread()  # (which refuses once closed)
        self._calls.put((future, loop, context, call, args))
        return await future

    def _start_thread(self) -> None:
        # Threads start on demand, not in __init__: a process may still fork after building its
        # services (``serve --workers``) as long as nothing ran yet.
        with self._lock:
            if self._closed:
                raise RuntimeError("the store's threads are shut down")
            if len(self._threads) < self._size:
                thread = threading.Thread(
                    target=self._work,
                    name=f"connectfed-store_{len(self._threads)}",
                    daemon=True,
                )
                thread.start()
                self._threads.append(thread)

    def _returns_for(self, loop: asyncio.AbstractEventLoop) -> _Returns:
        returns = self._returns.get(loop)
        if returns is None:
            with self._lock:
                for closed in [known for known in self._returns if known.is_closed()]:
                    del self._returns[closed]  # (tests run many loops, one after another)
                returns = self._returns.setdefault(loop, _Returns(loop))
        return returns

    def _work(self) -> None:
        while True:
            item = self._calls.get()
            if item is _STOP:
                return
            future, loop, context, function, args = item
            if (
                future.cancelled()
            ):  # a read of a flag set on the loop: at worst, work done for nothing
                continue
            try:
                value, ok = context.run(function, *args), True
            except (
                BaseException
            ) as error:  # handed to the awaiting request, as run_in_executor does
                value, ok = error, False
            self._returns_for(loop).put(future, ok, value)
            del item, future, value

    def close(self) -> None:
        """Wait for the calls under way, then stop the threads (the server is shutting down)."""
        with self._lock:
            self._closed = True
            threads = list(self._threads)
        for _ in threads:
            self._calls.put(_STOP)
        for thread in threads:
            thread.join()

"""Blocking work (every store call) run off the event loop, on a bounded pool of threads.

A store call may wait: for SQLite's single writer lock held by another process (up to the busy
timeout), for a PostgreSQL row lock, for the disk. On the event loop that wait would stall every
connection of the process, the health endpoint included; on one of these threads it stalls only
the request that made it. The pool is bounded (``Settings.store_threads``) so a burst queues here
instead of opening a connection per request, and it is what lets SQLite's group commit
(``store/sqlite.py``) batch concurrent writers. One hop costs some tens of microseconds.

Each call runs in a copy of the caller's :mod:`contextvars` context, so the request's scope
(:mod:`connectfed.request_scope`), which the audit trail and the dispatcher read, follows it to
the thread (``loop.run_in_executor`` alone would not carry it).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class Offload:
    def __init__(self, threads: int) -> None:
        if threads < 1:
            raise ValueError("store threads must be at least 1")
        # Threads start on the first call, not here: a process may still fork after building
        # its services (``serve --workers``) as long as nothing ran yet.
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="connectfed-store")

    async def run(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``function(*args, **kwargs)`` on a pool thread, in the caller's context."""
        context = contextvars.copy_context()
        call = functools.partial(context.run, function, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._pool, call)

    def close(self) -> None:
        """Wait for the calls under way, then stop the threads (the server is shutting down)."""
        self._pool.shutdown(wait=True)

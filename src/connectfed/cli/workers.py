"""``connectfed serve --workers N``: N server processes on one listening socket.

The parent binds the socket, then forks N workers; each builds its own services (store
connections, caches, throttle) from the same settings and runs uvicorn on the inherited socket,
the kernel spreading connections between them. Workers share nothing but the database: every
cross-request guarantee (single-use tokens and assertions, refresh rotation, the shared quota
with ``--throttle-shared``) is enforced there, exactly as between servers on one PostgreSQL
database. Caches see another worker's change within ``Settings.cache_ttl_seconds``.

The parent forks before any thread exists (the store it used for bootstrapping is closed
first), forwards SIGTERM/SIGINT to the workers and waits for them; if a worker dies on its own,
the others are stopped and the command exits non-zero (a supervisor restarts the whole server).
POSIX only (``fork``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
from collections.abc import Callable
from types import FrameType
from typing import Any

import uvicorn

_log = logging.getLogger("connectfed.serve")


def _worker(make_app: Callable[[], Any], config: uvicorn.Config, sock: socket.socket) -> int:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    try:
        config.app = make_app()
        uvicorn.Server(config).run(sockets=[sock])
    except BaseException:
        _log.exception("worker %d failed", os.getpid())
        return 1
    return 0


def run_workers(count: int, make_app: Callable[[], Any], config: uvicorn.Config,
                sock: socket.socket) -> int:
    """Fork ``count`` workers serving ``sock``; returns the exit status once all are gone."""
    children: set[int] = set()
    stopping = False

    def stop(signum: int = signal.SIGTERM, frame: FrameType | None = None) -> None:
        nonlocal stopping
        stopping = True
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    for _ in range(count):
        pid = os.fork()
        if pid == 0:  # the worker
            code = 1
            try:
                code = _worker(make_app, config, sock)
            finally:
                os._exit(code)
        children.add(pid)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    status = 0
    while children:
        try:
            pid, code = os.wait()
        except ChildProcessError:
            break
        children.discard(pid)
        if not stopping:
            _log.error("worker %d exited (status %d): stopping the others", pid, code)
            status = 1
            stop()
    sock.close()
    return status

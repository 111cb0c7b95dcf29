"""``connectfed serve --workers N``: N server processes on one listening socket.

The parent binds the socket (``server/listener.py``), prepares the database (migrations, the
demo, declared worlds), closes everything it opened, then forks N workers. Each builds its own
services (store connections, caches, throttle) from the same settings and runs uvicorn on the
inherited socket, the kernel spreading connections between them. Workers share nothing but the
database: every cross-request guarantee (single-use tokens and assertions, refresh rotation, the
admin clock and faults, the shared quota with ``--throttle-shared``) is enforced there, exactly
as between servers on one PostgreSQL database. Caches see another worker's change within
``Settings.cache_ttl_seconds``.

Readiness is told, not guessed: each worker writes one byte to a pipe once its uvicorn accepts
connections, and only when all N have is ``on_ready`` called (the banner and ``READY``). The
parent keeps no copy of the socket once they run (a stopping server refuses new connections
at once instead of leaving them in a backlog), forwards SIGTERM/SIGINT to the workers and
waits for them; if a worker dies on its own,
the others are stopped and the command exits non-zero (a supervisor restarts the whole server).
POSIX only (``fork``). Hand-written because uvicorn's own ``--workers`` spawns fresh
interpreters that import an app by name, which would redo the start-up this command has done.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
import socket
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

import uvicorn

from connectfed.server.listener import ReadyServer

_log = logging.getLogger("connectfed.serve")


def _worker(
    make_app: Callable[[], Any],
    make_config: Callable[[Any], uvicorn.Config],
    sock: socket.socket,
    ready_fd: int,
) -> int:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)

    def ready() -> None:
        os.write(ready_fd, b".")
        os.close(ready_fd)

    try:
        server = ReadyServer(make_config(make_app()), ready)
        server.run(sockets=[sock])
    except BaseException:
        _log.exception("worker %d failed", os.getpid())
        return 1
    return 0 if server.started else 1


def run_workers(
    count: int,
    make_app: Callable[[], Any],
    make_config: Callable[[Any], uvicorn.Config],
    sock: socket.socket,
    on_ready: Callable[[], None],
) -> int:
    """Fork ``count`` workers serving ``sock``; ``on_ready`` once every one of them accepts
    connections. Returns the exit status once all are gone."""
    if threading.active_count() > 1:
        # fork() copies only the calling thread: a lock held by another would stay held. Not
        # reachable while services close all they start (Services.close); said, not forked.
        names = ", ".join(
            t.name for t in threading.enumerate() if t is not threading.current_thread()
        )
        _log.error("cannot fork workers while other threads run (%s)", names)
        return 1
    children: set[int] = set()
    stopping = False

    def stop(signum: int = signal.SIGTERM, frame: FrameType | None = None) -> None:
        nonlocal stopping
        stopping = True
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    read_fd, write_fd = os.pipe()
    for _ in range(count):
        pid = os.fork()
        if pid == 0:  # the worker
            code = 1
            try:
                os.close(read_fd)
                code = _worker(make_app, make_config, sock, write_fd)
            finally:
                os._exit(code)
        children.add(pid)
    os.close(write_fd)  # the pipe ends (EOF) once no worker holds it: all ready or gone
    # The workers accept; the parent's copy of the socket would only keep it open once they
    # stop: new connections would wait in its backlog until the last worker exits, instead of
    # being refused at once.
    sock.close()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    status = 0
    ready = 0
    with os.fdopen(read_fd, "rb", buffering=0) as pipe:
        while ready < count and not stopping:
            with contextlib.suppress(InterruptedError):
                readable, _, _ = select.select([pipe], [], [], 0.2)
                if not readable:
                    continue
                got = pipe.read(count - ready)
                if not got:
                    break  # every worker closed its end: some never became ready
                ready += len(got)
    if ready == count and not stopping:
        on_ready()
    else:
        status = 1
        stop()
    while children:
        try:
            pid, code = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        children.discard(pid)
        if not stopping:
            _log.error("worker %d exited (status %d): stopping the others", pid, code)
            status = 1
            stop()
    return status

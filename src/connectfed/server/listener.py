"""The listening socket, bound before anything else happens, and a uvicorn server that says when
it is really serving.

``connectfed serve`` binds its port first: a port already taken (or not ours to take) is one
line on the terminal before any database is opened or credential printed. The bound socket is
handed to uvicorn (``Server.run(sockets=[...])``, the way gunicorn workers hand theirs), so there
is no window between a check and the real bind. :class:`ReadyServer` calls back once uvicorn
accepts connections on it: whatever is printed then (credentials, ``READY``) is true.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Callable

import uvicorn

# What a newcomer should read for the usual reasons a bind fails (errno names, Linux and BSD).
_REASONS = {
    errno.EADDRINUSE: "the port is already in use (another connectfed? stop it, or choose "
    "another --port)",
    errno.EACCES: "permission denied (ports below 1024 need privileges: choose another --port)",
    errno.EADDRNOTAVAIL: "this machine has no such address (check --host)",
}


def open_listener(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` and listening, as uvicorn would bind it
    (``SO_REUSEADDR``, IPv6 when the host is an IPv6 literal). OSError when it cannot be."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)  # uvicorn's default backlog
    except BaseException:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def bind_error(host: str, port: int, exc: OSError) -> str:
    """The one line ``serve`` prints when :func:`open_listener` fails."""
    shown = f"[{host}]" if ":" in host else host
    if isinstance(exc, socket.gaierror):
        reason = f"cannot resolve host {host!r} (check --host)"
    else:
        reason = _REASONS.get(exc.errno or 0, exc.strerror or str(exc))
    return f"error: cannot listen on {shown}:{port}: {reason}"


class ReadyServer(uvicorn.Server):
    """uvicorn's server calling ``on_ready`` once it accepts connections (after the lifespan
    started and the listeners were created), never before."""

    def __init__(self, config: uvicorn.Config, on_ready: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_ready = on_ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and not self.should_exit:
            self._on_ready()

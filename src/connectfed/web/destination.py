"""Where the browser goes after sign-in: the ``destination`` of ``/connect/<id>/auth/sign-in``
and ``/connect/federate/<id>``, and the one inside a RelayState, checked before anything
single-use is spent.

A destination ends up in a ``Location`` header. Header values cannot carry CR, LF or NUL at all
and only ASCII in practice (RFC 9110 §5.5), and a URI path has no spaces (RFC 3986 §2), so a
destination is either absent or at most :data:`MAX_LENGTH` printable ASCII characters; anything
else is refused with a 400 page, never half-encoded, and never found out only while the response
is being written, after the sign-in code or the assertion was already used. Which paths a
destination may name (a same-origin path under the instance) is decided where it is used.
"""

from __future__ import annotations

import re

MAX_LENGTH = 2048  # what browsers and proxies reliably carry in one URL
_PRINTABLE_ASCII = re.compile(r"[!-~]*")


def acceptable(destination: str | None) -> bool:
    """Whether ``destination`` (absent counts as the default) can go into a Location header."""
    return destination is None or (len(destination) <= MAX_LENGTH
                                   and _PRINTABLE_ASCII.fullmatch(destination) is not None)


MESSAGE = (f"The destination must be a path of at most {MAX_LENGTH} printable ASCII characters "
           "(percent-encode anything else).")

"""Where a signed-in browser may be sent: a path of this server inside the instance, never
anywhere else (an open redirect would hand the agent's fresh session to a phishing page).

``destination`` is read the way AWS's sign-in reads it: a path relative to the instance's base
``/connect/<instance-id>`` (``/ccp-v2/``, ``/agent-app-v2``). Also accepted: a path already
inside the base, or an absolute URL on this server's public URL inside the base. Refused (the
browser goes to the default, ``<base>/ccp-v2/``): other hosts and schemes, scheme-relative
``//host``, backslashes (browsers read ``/\\host`` as ``//host``), dot segments (plain or
percent-encoded), control characters, whitespace and non-ASCII (header injection), and anything
over 2,000 characters. The result is always a path starting with ``/connect/<instance-id>/``,
sent as a relative ``Location`` so the browser stays on the host its cookie was set for.

Two checks, in this order: :func:`acceptable` says whether a destination can go into a
``Location`` header at all (header values cannot carry CR, LF or NUL and only ASCII in practice,
RFC 9110 §5.5; a URI path has no spaces, RFC 3986 §2) and is called before anything single-use
is spent, so a bad one gets a 400 page and leaves the sign-in code, the assertion or the console
session usable; :func:`instance_destination` then decides which path of the instance it names.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote, urlsplit

log = logging.getLogger("connectfed.web")

DEFAULT = "/ccp-v2/"
MAX_LENGTH = 2048  # what browsers and proxies reliably carry in one URL


def base_path(instance_id: str) -> str:
    return f"/connect/{instance_id}"


def instance_destination(instance_id: str, destination: str | None, public_url: str) -> str:
    base = base_path(instance_id)
    if not destination:
        return base + DEFAULT
    target = _safe(base, destination, public_url)
    if target is None:
        log.warning("refused a sign-in destination outside the instance; using the default")
        return base + DEFAULT
    return target


def _safe(base: str, destination: str, public_url: str) -> str | None:
    if len(destination) > MAX_LENGTH or any(not 0x21 <= ord(c) <= 0x7E for c in destination):
        return None
    if "\\" in destination or "%5c" in destination.lower():
        return None
    try:
        parts = urlsplit(destination)
        public = urlsplit(public_url)
    except ValueError:
        return None
    if parts.scheme or parts.netloc:
        if (parts.scheme.lower(), parts.netloc.lower()) != (
            public.scheme.lower(),
            public.netloc.lower(),
        ):
            return None
        if parts.path != base and not parts.path.startswith(base + "/"):
            return None
    path = parts.path
    if not path.startswith("/") or path.startswith("//"):
        return None
    if any(unquote(segment) in (".", "..") for segment in path.split("/")):
        return None
    if path != base and not path.startswith(base + "/"):
        path = base + path
    return path + (f"?{parts.query}" if parts.query else "")


_PRINTABLE_ASCII = re.compile(r"[!-~]*")
MESSAGE = (
    f"The destination must be a path of at most {MAX_LENGTH} printable ASCII characters "
    "(percent-encode anything else)."
)


def acceptable(destination: str | None) -> bool:
    """Whether ``destination`` (absent counts as the default) can go into a Location header."""
    return destination is None or (
        len(destination) <= MAX_LENGTH and _PRINTABLE_ASCII.fullmatch(destination) is not None
    )

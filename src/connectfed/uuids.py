"""Random (version 4) UUID strings, as AWS writes request ids and CloudTrail event ids.

``str(uuid.uuid4())`` builds a :class:`uuid.UUID` object and formats it through its integer
value: about 5 µs, paid several times per request (the request id, each audit event's id).
Formatting the 16 random bytes directly gives the same string, with the same randomness, in
half that. These ids are identifiers, never secrets.
"""

from __future__ import annotations

import os

_VARIANT = "89ab"  # RFC 9562 §4.1: the variant bits 10xx give the first hex digit of group 4


def uuid4() -> str:
    """A random UUID in its canonical form, e.g. ``9f0c2b1e-5d3a-4c7e-8a41-0e6f2d9b7c35``."""
    h = os.urandom(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"

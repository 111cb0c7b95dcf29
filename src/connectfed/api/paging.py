"""NextToken/MaxResults over an ordered list, as the existing Connect List* operations page.

The token is opaque to clients (base64 of the last key returned); items must be sorted by key.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from connectfed.connect.instances import decode_page_token, encode_page_token

T = TypeVar("T")


def page(
    items: Sequence[T], key: Callable[[T], str], params: dict[str, Any], default_max: int
) -> tuple[list[T], str | None]:
    """One page of ``items`` after the request's NextToken, and the next token if more remain."""
    after = decode_page_token(params.get("NextToken"))
    limit = int(params.get("MaxResults", default_max))
    rest = [item for item in items if after is None or key(item) > after]
    chosen = list(rest[:limit])
    token = encode_page_token(key(chosen[-1])) if len(rest) > limit else None
    return chosen, token

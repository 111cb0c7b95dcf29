"""NextToken/MaxResults, as the Connect List* operations page, and Marker/MaxItems/IsTruncated,
as IAM's List* operations do.

The token is opaque to clients (base64 of ``{"after": <key>}``, the key of the last item
returned); the domain sees only :class:`~connectfed.connect.pages.PageRequest` and
:class:`~connectfed.connect.pages.Page`.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from connectfed import jsonsafe
from connectfed.connect.pages import Page, PageRequest, take
from connectfed.errors import ServiceError, client_error

T = TypeVar("T")


def encode_page_token(value: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": value}).encode()).decode()


def decode_page_token(token: str | None) -> str | None:
    if token is None:
        return None
    try:
        after = jsonsafe.loads(base64.urlsafe_b64decode(token.encode()))["after"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise client_error("InvalidParameterException", "The NextToken is not valid.") from None
    if not isinstance(after, str):
        raise client_error("InvalidParameterException", "The NextToken is not valid.")
    return after


def page_request(params: dict[str, Any], default_max: int) -> PageRequest:
    """The page a request's NextToken and MaxResults ask for (the token is decoded when the
    domain asks for it: an invalid one is ``InvalidParameterException`` then)."""
    token = params.get("NextToken")
    return PageRequest(
        int(params.get("MaxResults", default_max)), functools.partial(decode_page_token, token)
    )


def next_token(found: Page[Any]) -> str | None:
    return encode_page_token(found.resume_after) if found.resume_after is not None else None


def page(
    items: Sequence[T], key: Callable[[T], str], params: dict[str, Any], default_max: int
) -> tuple[list[T], str | None]:
    """One page of ``items`` after the request's NextToken, and the next token if more remain."""
    found = take(items, key, page_request(params, default_max))
    return list(found.items), next_token(found)


def marked_page(
    items: Sequence[T], key: Callable[[T], str], params: dict[str, Any]
) -> tuple[list[T], dict[str, Any]]:
    """One page of an IAM listing: at most ``MaxItems`` (default 100, as IAM's) after the
    request's ``Marker``; and the members saying whether more remain (``IsTruncated``, and the
    ``Marker`` to resume from). A Marker that was not issued is IAM's ``ValidationError``."""

    def after() -> str | None:
        try:
            return decode_page_token(params.get("Marker"))
        except ServiceError:
            raise client_error("ValidationError", "Invalid Marker.") from None

    found = take(items, key, PageRequest(int(params.get("MaxItems", 100)), after))
    token = next_token(found)
    more: dict[str, Any] = {"IsTruncated": token is not None}
    if token is not None:
        more["Marker"] = token
    return list(found.items), more

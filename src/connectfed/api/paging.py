"""NextToken/MaxResults, as the Connect List* operations page, and Marker/MaxItems/IsTruncated,
as IAM's List* operations do.

The token is opaque to clients: base64 of ``{"after": <key>, "for": <listing>}``, the key of the
last item returned and a digest of the listing it continues (the operation and its parameters
other than the paging ones). A token is taken only by the listing that issued it: one from
another operation, another instance or other filters is refused, as AWS's opaque tokens are,
instead of starting some other listing after a key it never had. The domain sees only
:class:`~connectfed.connect.pages.PageRequest` and :class:`~connectfed.connect.pages.Page`.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from connectfed import jsonsafe
from connectfed.connect.pages import Page, PageRequest, take
from connectfed.errors import ServiceError, client_error
from connectfed.wire.model import operation_model
from connectfed.wire.registry import RequestContext

T = TypeVar("T")

_PAGING = frozenset({"NextToken", "MaxResults", "Marker", "MaxItems"})


def _listing(ctx: RequestContext, params: dict[str, Any]) -> str:
    """Which listing a request asks for: its operation and every parameter but the paging ones."""
    asked = {k: v for k, v in params.items() if k not in _PAGING}
    text = json.dumps([ctx.service, ctx.operation, asked], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _encode(after: str, listing: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": after, "for": listing}).encode()).decode()


def _invalid_token(ctx: RequestContext) -> ServiceError:
    """Connect's parameter error where the operation models it, else its request error
    (``ListInstances`` models no InvalidParameterException)."""
    names = {shape.name for shape in operation_model(ctx.service, ctx.operation).error_shapes}
    code = (
        "InvalidParameterException"
        if "InvalidParameterException" in names
        else "InvalidRequestException"
    )
    return client_error(code, "The NextToken is not valid.")


def _decode(ctx: RequestContext, params: dict[str, Any], token: str | None) -> str | None:
    if token is None:
        return None
    try:
        document = jsonsafe.loads(base64.urlsafe_b64decode(token.encode()))
        after, listing = document["after"], document["for"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise _invalid_token(ctx) from None
    if not isinstance(after, str) or listing != _listing(ctx, params) or not _a_key(after):
        raise _invalid_token(ctx)
    return after


def _a_key(text: str) -> bool:
    """Whether ``text`` could be a key a token was issued with: keys are ids and names the
    validator let in, so never a NUL (which PostgreSQL's text cannot hold) nor a lone
    surrogate (not text: no database driver encodes it). The token's format is no secret, so
    the key it resumes after is input like any other before it reaches the store."""
    return "\x00" not in text and not any("\ud800" <= char <= "\udfff" for char in text)


def page_request(ctx: RequestContext, params: dict[str, Any], default_max: int) -> PageRequest:
    """The page a request's NextToken and MaxResults ask for (the token is decoded when the
    domain asks for it: an invalid one is ``InvalidParameterException`` then)."""
    return PageRequest(
        int(params.get("MaxResults", default_max)),
        functools.partial(_decode, ctx, params, params.get("NextToken")),
    )


def next_token(ctx: RequestContext, params: dict[str, Any], found: Page[Any]) -> str | None:
    """The token that continues ``found`` (None at the end), for this listing only."""
    if found.resume_after is None:
        return None
    return _encode(found.resume_after, _listing(ctx, params))


def page(
    ctx: RequestContext,
    items: Sequence[T],
    key: Callable[[T], str],
    params: dict[str, Any],
    default_max: int,
) -> tuple[list[T], str | None]:
    """One page of ``items`` after the request's NextToken, and the next token if more remain."""
    found = take(items, key, page_request(ctx, params, default_max))
    return list(found.items), next_token(ctx, params, found)


def marked_page(
    ctx: RequestContext, items: Sequence[T], key: Callable[[T], str], params: dict[str, Any]
) -> tuple[list[T], dict[str, Any]]:
    """One page of an IAM listing: at most ``MaxItems`` (default 100, as IAM's) after the
    request's ``Marker``; and the members saying whether more remain (``IsTruncated``, and the
    ``Marker`` to resume from). A Marker that was not issued (for this listing) is IAM's
    ``ValidationError``."""

    def after() -> str | None:
        try:
            return _decode(ctx, params, params.get("Marker"))
        except ServiceError:
            raise client_error("ValidationError", "Invalid Marker.") from None

    found = take(items, key, PageRequest(int(params.get("MaxItems", 100)), after))
    token = next_token(ctx, params, found)
    more: dict[str, Any] = {"IsTruncated": token is not None}
    if token is not None:
        more["Marker"] = token
    return list(found.items), more

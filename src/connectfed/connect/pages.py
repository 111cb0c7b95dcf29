"""One page of a listing, and which page a caller asks for: the typed side of Connect's
``NextToken``/``MaxResults`` (the tokens themselves are the wire's, :mod:`connectfed.api.paging`).

Listings are ordered by a string key (an id or a name), compared as Python compares strings;
a page resumes after the key of the last item of the page before it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


def _from_the_start() -> str | None:
    return None


@dataclass(frozen=True, slots=True)
class PageRequest:
    """At most ``limit`` items, after the key ``after()`` answers (None: from the start).

    ``after`` is called only once the caller is authorised and the instance found, so a bad
    NextToken (which the wire's ``after`` refuses when asked) is reported after those, as it
    always was: an unauthorised call with a bad token is refused as unauthorised.
    """

    limit: int
    after: Callable[[], str | None] = _from_the_start


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: tuple[T, ...]
    resume_after: str | None = None  # the last item's key when more remain; None at the end


def take(items: Iterable[T], key: Callable[[T], str], request: PageRequest) -> Page[T]:
    """The requested page of ``items``, in the order of ``key`` whatever order they come in: a
    page resumes after a key, so the pages must follow the keys' order (a store's ORDER BY may
    not: PostgreSQL sorts text by the database's collation, and some listings come in creation
    order)."""
    after = request.after()
    rest = sorted((item for item in items if after is None or key(item) > after), key=key)
    chosen = tuple(rest[: request.limit])
    more = len(rest) > request.limit
    return Page(chosen, key(chosen[-1]) if more else None)

"""connect.pages: a page of an ordered listing, and where the next one resumes."""

from __future__ import annotations

import pytest

from connectfed.connect.pages import Page, PageRequest, take

ITEMS = ["a", "b", "c", "d"]


@pytest.mark.parametrize(
    ("limit", "after", "expected"),
    [
        (10, None, Page(("a", "b", "c", "d"))),
        (2, None, Page(("a", "b"), "b")),
        (2, "b", Page(("c", "d"))),
        (1, "c", Page(("d",))),
        (3, "d", Page(())),
        (4, None, Page(("a", "b", "c", "d"))),
    ],
)
def test_take(limit: int, after: str | None, expected: Page[str]) -> None:
    assert take(ITEMS, lambda s: s, PageRequest(limit, lambda: after)) == expected


def test_a_request_starts_at_the_beginning_by_default() -> None:
    assert PageRequest(5).after() is None


@pytest.mark.parametrize(
    "listed",
    [
        # The store's order need not be the key's: PostgreSQL sorts by the database's collation
        # (en_US puts "busy" between "Available" and "Offline"; Python and C put it last), and
        # some listings come in creation order while they page by id.
        ["Available", "busy", "Offline"],
        ["AKIAZZZZ", "AKIAAAAA", "AKIAMMMM"],
    ],
)
def test_pages_of_any_listing_order_hold_every_item_once(listed: list[str]) -> None:
    seen: list[str] = []
    after: str | None = None
    while True:
        found = take(listed, lambda s: s, PageRequest(1, lambda after=after: after))
        seen += found.items
        if found.resume_after is None:
            break
        after = found.resume_after
    assert sorted(seen) == sorted(listed) and len(seen) == len(listed)

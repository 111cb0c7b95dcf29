"""What a browser endpoint answers, free of HTTP framing: a status, a page or JSON, a redirect
target and cookies. :mod:`connectfed.web.routes` turns it into a response."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from connectfed.web import pages


@dataclass(frozen=True, slots=True)
class Outcome:
    status: int
    html: str | None = None
    location: str | None = None
    cookie: str | None = None  # a full Set-Cookie value
    json: str | None = None  # a JSON body instead of a page


def error(
    status: int,
    title: str,
    message: str,
    explain_url: str | None = None,
    *,
    hints: Sequence[str] = (),
) -> Outcome:
    return Outcome(status, pages.error_page(title, message, explain_url, hints=hints))

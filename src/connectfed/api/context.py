"""The typed view of a request's service container, for handlers."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from connectfed.wire.registry import RequestContext

if TYPE_CHECKING:
    from connectfed.app import Services


def services(ctx: RequestContext) -> Services:
    return cast("Services", ctx.services)

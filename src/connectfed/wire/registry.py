"""The operation registry: ``@operation("connect", "GetFederationToken")`` marks a handler.

A handler takes the :class:`RequestContext` and the parsed, validated input (member names as in
the botocore model) and returns data shaped like the output shape, or None.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Params = dict[str, Any]


@dataclass(frozen=True, slots=True)
class RequestContext:
    request_id: str
    service: str
    operation: str
    principal: Any  # the authenticated principal; None for unsigned operations
    services: Any  # the composition root's service container
    source_ip: str | None = None  # the connection's peer address (aws:SourceIp)
    secure: bool = False  # the request came over TLS (aws:SecureTransport)


Handler = Callable[[RequestContext, Params], dict[str, Any] | None]


class Registry:
    def __init__(self) -> None:
        self._handlers: dict[tuple[str, str], Handler] = {}
        self.unsigned: set[tuple[str, str]] = set()
        # Operations answered from the caller's principal and their input alone, never reading
        # or writing the store: the server may answer them on its event loop.
        self.storeless: set[tuple[str, str]] = set()

    def add(
        self,
        service: str,
        name: str,
        handler: Handler,
        *,
        unsigned: bool = False,
        storeless: bool = False,
    ) -> None:
        self._handlers[(service, name)] = handler
        if unsigned:
            self.unsigned.add((service, name))
        if storeless:
            self.storeless.add((service, name))

    def get(self, service: str, name: str) -> Handler | None:
        return self._handlers.get((service, name))

    def all(self) -> list[tuple[str, str]]:
        """Every registered (service, operation)."""
        return list(self._handlers)

    def operations(self, service: str) -> list[str]:
        return [name for (svc, name) in self._handlers if svc == service]


REGISTRY = Registry()


def operation(
    service: str, name: str, *, unsigned: bool = False, storeless: bool = False
) -> Callable[[Handler], Handler]:
    """Register ``handler`` for ``service``'s operation ``name``: ``unsigned`` when it takes
    requests without a signature; ``storeless`` when it never touches the store (answered from
    the principal and the input alone), so a request signed with cached credentials is answered
    on the event loop, with no hop to the store's threads."""

    def register(handler: Handler) -> Handler:
        REGISTRY.add(service, name, handler, unsigned=unsigned, storeless=storeless)
        return handler

    return register

"""What Amazon Connect refuses, in the domain's terms: instances, users, profiles and agent data.

Each exception carries the data of the refusal (which kind of resource, which id) and says it
in Connect's words (its ``str()``, the message the caller gets); :mod:`connectfed.api.errors`
gives each its AWS error code and HTTP status. GetFederationToken's own refusals are beside it
(:mod:`connectfed.connect.federation`), the rate limit's in :mod:`connectfed.connect.throttle`.
"""

from __future__ import annotations

import enum


class ConnectError(Exception):
    """The root of Connect's refusals."""


class ResourceKind(enum.StrEnum):
    INSTANCE = "Instance"
    USER = "User"
    SECURITY_PROFILE = "Security profile"
    AGENT_STATUS = "Agent status"
    QUEUE = "Queue"
    ROUTING_PROFILE = "Routing profile"
    HOURS_OF_OPERATION = "Hours of operation"
    QUICK_CONNECT = "Quick connect"
    RESOURCE = "Resource"  # one named by its ARN (TagResource…)


class ResourceNotFound(ConnectError):
    """The resource a request addresses (its path) does not exist."""

    def __init__(self, kind: ResourceKind, resource_id: str) -> None:
        super().__init__(
            f"User not found for UserId: {resource_id}"
            if kind is ResourceKind.USER
            else f"{kind} not found: {resource_id}"
        )
        self.kind = kind
        self.resource_id = resource_id


class InvalidReference(ConnectError):
    """A request's content names a resource that does not exist in the instance."""

    def __init__(self, kind: ResourceKind, resource_id: str) -> None:
        super().__init__(f"{kind} {resource_id} does not exist in this instance.")
        self.kind = kind
        self.resource_id = resource_id


class AlreadyExists(ConnectError):
    """A resource of ``kind`` whose ``key`` (name, username, id) is ``value`` exists already."""

    def __init__(self, kind: ResourceKind, key: str, value: str) -> None:
        super().__init__(f"{kind} with {key} {value} already exists.")
        self.kind = kind
        self.key = key
        self.value = value


class NameTaken(AlreadyExists):
    def __init__(self, kind: ResourceKind, name: str) -> None:
        super().__init__(kind, "name", name)
        self.name = name


class InvalidParameter(ConnectError):
    """A value that is well-formed but not acceptable (a rule of Connect's, not of the model);
    ``reason`` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidRequest(ConnectError):
    """A request Connect cannot serve as made (an unsupported setting, a name in use, a caller
    that cannot federate); ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

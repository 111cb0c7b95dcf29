"""Audit events as the domain states them: who did what to which resources, and how it ended.

The fields follow a CloudTrail record ("CloudTrail record contents", AWS CloudTrail User Guide):
``eventName``, ``eventSource``, ``userIdentity``, ``resources``, ``errorCode``/``errorMessage``,
``requestParameters``, ``responseElements``, ``additionalEventData``, ``readOnly``, ``eventType``.
What the domain cannot know — the event's id and time, the request's id, source address and
User-Agent, the Region — the :class:`~connectfed.audit.trail.AuditTrail` adds when it records.

Values only (no secret ever): request parameters and response elements name resources and ids,
never tokens, secret keys, passwords or SAML messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

JsonValue = Any  # a JSON-ready value: str, int, float, bool, None, lists and str-keyed dicts


class EventSource(StrEnum):
    """The service an event belongs to, as CloudTrail names it."""

    CONNECT = "connect.amazonaws.com"
    STS = "sts.amazonaws.com"
    SIGNIN = "signin.amazonaws.com"
    IAM = "iam.amazonaws.com"
    CLOUDTRAIL = "cloudtrail.amazonaws.com"

    @classmethod
    def of_service(cls, service: str) -> EventSource | None:
        """The source of a signing name (``connect``, ``sts``, ``iam``, ``cloudtrail``)."""
        try:
            return cls(f"{service}.amazonaws.com")
        except ValueError:
            return None


class EventType(StrEnum):
    API_CALL = "AwsApiCall"
    CONSOLE_SIGN_IN = "AwsConsoleSignIn"


class IdentityType(StrEnum):
    """``userIdentity.type`` values CloudTrail uses for the callers connectfed knows."""

    ROOT = "Root"
    IAM_USER = "IAMUser"
    ASSUMED_ROLE = "AssumedRole"
    SAML_USER = "SAMLUser"
    UNKNOWN = "Unknown"


class EventName(StrEnum):
    """The events the domain records by name (denials of other operations use the operation's
    own name, as CloudTrail does)."""

    GET_FEDERATION_TOKEN = "GetFederationToken"  # noqa: S105  (an operation's name)
    ASSUME_ROLE_WITH_SAML = "AssumeRoleWithSAML"
    CONSOLE_LOGIN = "ConsoleLogin"  # the browser's SAML sign-in (POST /saml)
    SIGN_IN = "SignIn"  # a browser signed in to an instance (SignInUrl code or credentials)


@dataclass(frozen=True, slots=True)
class Actor:
    """CloudTrail's ``userIdentity``: the caller as far as it is known."""

    type: IdentityType
    account_id: str | None = None
    arn: str | None = None
    principal_id: str | None = None
    access_key_id: str | None = None
    user_name: str | None = None  # IAM user name, or the SAML subject of a SAMLUser
    session_issuer_arn: str | None = None  # an assumed role's role ARN
    session_issuer_id: str | None = None  # its role id (AROA…)
    session_created: str | None = None  # when the session was issued, ISO 8601 UTC (…Z)
    identity_provider: str | None = None  # a SAMLUser's provider ARN

    @property
    def lookup_name(self) -> str | None:
        """The ``Username`` LookupEvents shows for this caller: an IAM user's name, a role
        session's name (the last part of its ARN), ``root``."""
        if self.type is IdentityType.ROOT:
            return "root"
        if self.type is IdentityType.ASSUMED_ROLE and self.arn:
            return self.arn.rsplit("/", 1)[-1]
        return self.user_name


UNKNOWN_ACTOR = Actor(IdentityType.UNKNOWN)


@dataclass(frozen=True, slots=True)
class Resource:
    """A resource an event refers to: its CloudFormation-style type and its ARN."""

    type: str  # AWS::Connect::Instance, AWS::Connect::User, AWS::IAM::Role, AWS::IAM::SAMLProvider
    arn: str


@dataclass(frozen=True, slots=True)
class Failure:
    """How a call failed: the AWS error code the caller got and its message."""

    code: str
    message: str


@dataclass(frozen=True, slots=True)
class AuditEvent:
    name: str  # an EventName, or the operation's name for a denial
    source: EventSource
    actor: Actor
    account_id: str | None = None  # whose history it belongs to (None: the server's account)
    username: str | None = None  # LookupEvents' Username; the actor's when None
    resources: tuple[Resource, ...] = ()
    failure: Failure | None = None
    read_only: bool = False
    event_type: EventType = EventType.API_CALL
    parameters: Mapping[str, JsonValue] | None = None  # requestParameters
    response: Mapping[str, JsonValue] | None = None  # responseElements
    additional: Mapping[str, JsonValue] = field(default_factory=dict)  # additionalEventData
    saml_rejection: str | None = None  # why an assertion was refused (AssertionRejected.reason)

    @property
    def succeeded(self) -> bool:
        return self.failure is None

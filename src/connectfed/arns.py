"""Every ARN the server makes, formatted here and nowhere else (and the few it takes apart).

Formats (IAM User Guide, "IAM identifiers"; Service Authorization Reference, "Resource types
defined by Amazon Connect"):

- ``arn:aws:iam::<account>:root``, ``…:user<path><name>``, ``…:role<path><name>``,
  ``…:saml-provider/<name>``; a role's session is
  ``arn:aws:sts::<account>:assumed-role/<role>/<session>``;
- ``arn:aws:connect:<region>:<account>:instance/<id>``, and below an instance
  ``…/agent/<user-id>`` (a Connect user), ``…/user/<aws:userid>`` (GetFederationToken's
  resource), ``…/security-profile/<id>``, ``…/routing-profile/<id>``, ``…/queue/<id>``,
  ``…/agent-state/<id>`` (an agent status).

A resource id of ``*`` makes the pattern an authorisation names for List/Create operations.
Nothing here imports another connectfed module.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

PARTITION = "arn:aws"


# -- IAM and STS ---------------------------------------------------------------------------------
def iam_root(account_id: str) -> str:
    return f"{PARTITION}:iam::{account_id}:root"


def iam_user(account_id: str, name: str, path: str = "/") -> str:
    """A user's ARN; ``name=""`` gives the prefix of every user's (ListUsers' resource)."""
    return f"{PARTITION}:iam::{account_id}:user{path}{name}"


def iam_role(account_id: str, name: str, path: str = "/") -> str:
    """A role's ARN; ``name=""`` gives the prefix of every role's (ListRoles' resource)."""
    return f"{PARTITION}:iam::{account_id}:role{path}{name}"


def saml_provider(account_id: str, name: str) -> str:
    return f"{PARTITION}:iam::{account_id}:saml-provider/{name}"


def assumed_role(account_id: str, role_name: str, session_name: str) -> str:
    return f"{PARTITION}:sts::{account_id}:assumed-role/{role_name}/{session_name}"


def connect_service_role(account_id: str) -> str:
    """The service-linked role Amazon Connect creates in an account (DescribeInstance)."""
    return iam_role(
        account_id, "AWSServiceRoleForAmazonConnect", "/aws-service-role/connect.amazonaws.com/"
    )


def account_of(arn: str | None) -> str | None:
    """The account id field of an ARN, when it has one."""
    parts = (arn or "").split(":")
    return parts[4] if len(parts) > 5 and parts[4].isdigit() else None


def role_of(arn: str) -> tuple[str, str] | None:
    """(account id, role name) of an IAM role ARN; None when ``arn`` is not one."""
    parts = arn.split(":", 5)
    if (
        len(parts) != 6
        or parts[0] != "arn"
        or parts[2] != "iam"
        or not parts[5].startswith("role/")
    ):
        return None
    return parts[4], parts[5].rsplit("/", 1)[-1]


def session_of_role(role_arn: str, session_name: str) -> str | None:
    """The ARN of a session of the role ``role_arn``; None when that is no role ARN."""
    if ":role/" not in role_arn:
        return None
    return assumed_role(role_arn.split(":")[4], role_arn.rsplit("/", 1)[-1], session_name)


# -- Amazon Connect ------------------------------------------------------------------------------
class ConnectResource(Enum):
    """The kinds of resource below an instance, by their ARN segment."""

    AGENT = "agent"  # a Connect user
    FEDERATION_USER = "user"  # GetFederationToken's resource: the caller's aws:userid
    SECURITY_PROFILE = "security-profile"
    ROUTING_PROFILE = "routing-profile"
    QUEUE = "queue"
    AGENT_STATUS = "agent-state"
    HIERARCHY_GROUP = "agent-group"


def connect_instance(region: str, account_id: str, instance_id: str) -> str:
    return f"{PARTITION}:connect:{region}:{account_id}:instance/{instance_id}"


def connect_resource(instance_arn: str, kind: ConnectResource, resource_id: str) -> str:
    """A resource of an instance; ``resource_id=""`` gives the prefix of every one of ``kind``."""
    return f"{instance_arn}/{kind.value}/{resource_id}"


def within_instance(instance_arn: str) -> str:
    """Every resource of an instance, of any kind (``…/instance/<id>/*``)."""
    return f"{instance_arn}/*"


def connect_user(instance_arn: str, user_id: str) -> str:
    return connect_resource(instance_arn, ConnectResource.AGENT, user_id)


def security_profile(instance_arn: str, profile_id: str) -> str:
    return connect_resource(instance_arn, ConnectResource.SECURITY_PROFILE, profile_id)


def routing_profile(instance_arn: str, profile_id: str) -> str:
    return connect_resource(instance_arn, ConnectResource.ROUTING_PROFILE, profile_id)


def queue(instance_arn: str, queue_id: str) -> str:
    return connect_resource(instance_arn, ConnectResource.QUEUE, queue_id)


def agent_status(instance_arn: str, status_id: str) -> str:
    return connect_resource(instance_arn, ConnectResource.AGENT_STATUS, status_id)


@dataclass(frozen=True, slots=True)
class ConnectArn:
    """A Connect ARN taken apart: an instance (``kind`` None) or a resource below one."""

    region: str
    account_id: str
    instance_id: str
    kind: ConnectResource | None = None
    resource_id: str | None = None


def connect_resource_of(arn: str) -> ConnectArn | None:
    """The parts of ``…:instance/<id>`` or ``…:instance/<id>/<kind>/<resource id>``; None for
    any other text (another service's ARN, an unknown kind, more or fewer segments)."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or f"{parts[0]}:{parts[1]}" != PARTITION or parts[2] != "connect":
        return None
    region, account_id, path = parts[3], parts[4], parts[5].split("/")
    if len(path) not in (2, 4) or path[0] != "instance" or not all(path[1:]):
        return None
    if len(path) == 2:
        return ConnectArn(region, account_id, path[1])
    try:
        kind = ConnectResource(path[2])
    except ValueError:
        return None
    return ConnectArn(region, account_id, path[1], kind, path[3])

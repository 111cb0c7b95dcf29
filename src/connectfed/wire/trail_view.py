"""An API call's input and output as CloudTrail records them: ``requestParameters`` and
``responseElements``, read from the botocore model.

What CloudTrail writes, from AWS's example events ("Logging IAM and AWS STS API calls with AWS
CloudTrail", IAM User Guide; "Logging Amazon Connect API calls with AWS CloudTrail"):

* member names: IAM, STS and CloudTrail write them in lower camel case, nested ones included
  (``roleArn``, ``roleSessionName``, ``durationSeconds``, ``tags: [{key, value}]``,
  ``sAMLProviderArn``); Amazon Connect keeps the model's (``InstanceId``, ``InitialContactId``).
* timestamps as CloudTrail's examples write them (``Jul 18, 2014 4:07:39 PM``, UTC).
* nothing secret: a member whose shape carries the model's ``sensitive`` trait is left out
  (secret access keys, SAML assertions, passwords, private keys; Connect's agent names and
  e-mail addresses), and so are the secrets the models do not mark (:data:`SECRET_MEMBERS`: an
  STS session token, an MFA code, context assertions). Policy documents are recorded, as
  CloudTrail records them for IAM's policy calls.

The dispatcher notes a :class:`NotedCall` in the request's scope for the operations the audit
trail records (``Dispatcher(noted=...)``); the views are made only once the answer is sent, off
the call's own path. Knows shapes only, no service's rules.
"""

from __future__ import annotations

import base64
import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape

from connectfed.clock import cloudtrail_time

# Members that hold a secret without the model's ``sensitive`` trait.
SECRET_MEMBERS = frozenset({"SessionToken", "TokenCode", "ProvidedContexts"})
# Services whose records keep the model's member names (the others: lower camel case).
KEEPS_MEMBER_NAMES = frozenset({"connect"})


@dataclass(slots=True)
class NotedCall:
    """An authenticated call the audit trail records: its operation and parsed input, and its
    output once the handler returned (None until then, or when it raised)."""

    service: str
    operation: OperationModel
    params: dict[str, Any]
    result: dict[str, Any] | None = None

    def request_parameters(self) -> dict[str, Any] | None:
        """``requestParameters``: the input, as CloudTrail records it (None when empty)."""
        return _view_of(self.service, self.operation.input_shape, self.params)

    def response_elements(self) -> dict[str, Any] | None:
        """``responseElements``: the output, as CloudTrail records it (None when empty)."""
        return _view_of(self.service, self.operation.output_shape, self.result)

    def identifiers(self) -> dict[str, str]:
        """The top-level string members of the output and then the input (input wins): the
        ids and ARNs the call names, for its ``resources``."""
        found: dict[str, str] = {}
        for values in (self.result, self.params):
            if isinstance(values, dict):
                found.update((k, v) for k, v in values.items() if isinstance(v, str))
        return found


def _view_of(service: str, shape: StructureShape | None, value: Any) -> dict[str, Any] | None:
    if shape is None or not isinstance(value, dict):
        return None
    keep = service in KEEPS_MEMBER_NAMES
    view = _view(shape, value, keep)
    return view or None


def _hidden(name: str, shape: Shape) -> bool:
    return name in SECRET_MEMBERS or bool(shape.metadata.get("sensitive"))


@functools.cache
def _members(shape: StructureShape, keep: bool) -> dict[str, tuple[str, Shape]]:
    """A structure's recorded members: model name -> (recorded name, shape), the hidden ones
    left out. Made once per shape (the models are loaded once per process)."""
    return {
        name: (name if keep else name[0].lower() + name[1:], member)
        for name, member in shape.members.items()
        if not _hidden(name, member)
    }


def _view(shape: Shape, value: Any, keep: bool) -> Any:
    if value is None:
        return None
    if isinstance(shape, StructureShape):
        if not isinstance(value, dict):
            return None
        members = _members(shape, keep)
        view = {}
        for name, item in value.items():
            known = members.get(name)
            if known is not None and item is not None:
                view[known[0]] = _view(known[1], item, keep)
        return view
    if isinstance(shape, ListShape):
        if not isinstance(value, list | tuple):
            return None
        if shape.member.metadata.get("sensitive"):
            return None
        return [_view(shape.member, item, keep) for item in value]
    if isinstance(shape, MapShape):
        if not isinstance(value, dict) or shape.value.metadata.get("sensitive"):
            return None
        return {str(k): _view(shape.value, v, keep) for k, v in value.items()}
    return _scalar(value)


def _scalar(value: Any) -> Any:
    if isinstance(value, datetime):
        return cloudtrail_time(value)
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, str | bool | int) or value is None:
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    return str(value)

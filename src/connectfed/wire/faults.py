"""The dispatchers' seam for fault injection (the admin API's ``/_connectfed/faults``).

A dispatcher calls :meth:`FaultGate.before` once it knows the service and the operation and the
caller is authenticated, before the input is validated and the handler runs (AWS throttles
authenticated calls before looking at their parameters). The gate raises the error to answer
with (built here by :func:`injected_error`, in the spelling each protocol uses) or returns; added
latency and dropped connections are applied by the edge, which the gate tells by request id.

Service names: ``connect`` (restJson1), ``sts`` and ``iam`` (awsQuery), ``cti`` (the CTI API's
JSON 1.0). Operation names are the model's (``GetFederationToken``, ``AssumeRole``,
``GetAgentSnapshot``), resolved as the dispatchers resolve them.
"""

from __future__ import annotations

from enum import Enum
from typing import Protocol

from connectfed.errors import ServiceError


class FaultGate(Protocol):
    def before(self, service: str, operation: str, request_id: str) -> None:
        """Raise :class:`ServiceError` to answer this call with an injected error."""
        ...


class InjectedError(Enum):
    THROTTLING = "throttling"
    INTERNAL = "internal"


# (code, HTTP status) per protocol family. Connect (restJson1) and the CTI API (JSON 1.0) model
# ThrottlingException (429) and InternalServiceException (500); STS and IAM (awsQuery) answer
# throttling with code Throttling and status 400 ("Rate exceeded"), and InternalFailure (500).
_SPELLINGS: dict[str, dict[InjectedError, tuple[str, int]]] = {
    "json": {
        InjectedError.THROTTLING: ("ThrottlingException", 429),
        InjectedError.INTERNAL: ("InternalServiceException", 500),
    },
    "query": {
        InjectedError.THROTTLING: ("Throttling", 400),
        InjectedError.INTERNAL: ("InternalFailure", 500),
    },
}
_FAMILY = {"connect": "json", "cti": "json", "sts": "query", "iam": "query"}


def injected_error(service: str, kind: InjectedError, note: str = "") -> ServiceError:
    """The error ``service``'s protocol answers for ``kind`` (boto3's and our client's standard
    retry mode retry both: throttling codes and 5xx)."""
    code, status = _SPELLINGS[_FAMILY[service]][kind]
    message = "Rate exceeded" if kind is InjectedError.THROTTLING else "An internal error occurred."
    return ServiceError(message + note, code=code, status=status)

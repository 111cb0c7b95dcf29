"""API calls as CloudTrail management events: which are recorded, which are reads, and the
event of one call.

AWS records every IAM and STS action ("Logging IAM and AWS STS API calls with AWS CloudTrail",
IAM User Guide), every public Amazon Connect API ("Logging Amazon Connect API calls with AWS
CloudTrail", Amazon Connect Administrator Guide) and CloudTrail's own ``LookupEvents``, each as
an event named after the operation, from the service's ``eventSource``, with ``readOnly`` telling
a read from a write. Here every authenticated call of those services is recorded the same way
once its answer is sent (:mod:`connectfed.server.audit_calls`), except:

* the operations that record their own, richer event (:data:`SELF_RECORDED`:
  ``GetFederationToken``, ``AssumeRoleWithSAML``): never a second one;
* reads, unless the operator asks for them (``serve --audit-reads``): a suite polling
  ``DescribeUser``, or ``GetCallerIdentity`` used as a health check, would fill the trail with
  them and cost the hottest calls a record each (docs/compatibility.md, "the audit trail");
* throttled calls (as GetFederationToken's event skips them: under a flood the quota must stay
  the cheap answer it is) and denials, which :mod:`connectfed.audit.denials` records already.

A read is an operation named ``Get…``, ``List…``, ``Describe…``, ``Lookup…`` or ``Simulate…``
(the policy simulator evaluates and changes nothing), save the writes named like reads
(:data:`WRITES_NAMED_LIKE_READS`: Connect's ``GetFederationToken`` issues tokens and binds the
caller's role to the user). ``tests/unit/audit/test_calls.py`` holds the rule against every
operation the server registers.
"""

from __future__ import annotations

from collections.abc import Mapping

from connectfed.audit.actors import actor_of
from connectfed.audit.events import (
    AuditEvent,
    EventName,
    EventSource,
    Failure,
    JsonValue,
    Resource,
)
from connectfed.identity.principal import Principal

READ_PREFIXES = ("Get", "List", "Describe", "Lookup", "Simulate")
WRITES_NAMED_LIKE_READS = frozenset({EventName.GET_FEDERATION_TOKEN.value})
# (service, operation) of the calls whose service records their event itself.
SELF_RECORDED = frozenset(
    {
        ("connect", EventName.GET_FEDERATION_TOKEN.value),
        ("sts", EventName.ASSUME_ROLE_WITH_SAML.value),
    }
)
# The services whose calls are management events here (signing names).
RECORDED_SERVICES = frozenset({"iam", "sts", "connect", "cloudtrail"})


def is_read_only(operation: str) -> bool:
    """CloudTrail's ``readOnly`` of an operation (see the module docstring)."""
    return operation.startswith(READ_PREFIXES) and operation not in WRITES_NAMED_LIKE_READS


class AuditedCalls:
    """Which API calls are recorded as events: writes always, reads when ``reads`` is on."""

    def __init__(self, *, reads: bool = False) -> None:
        self.reads = reads

    def records(self, service: str, operation: str) -> bool:
        """A successful (or failed, not denied, not throttled) call of ``operation`` is
        recorded by the edge."""
        if service not in RECORDED_SERVICES or (service, operation) in SELF_RECORDED:
            return False
        return self.reads or not is_read_only(operation)


def call_event(
    service: str,
    operation: str,
    caller: Principal,
    *,
    parameters: Mapping[str, JsonValue] | None,
    response: Mapping[str, JsonValue] | None,
    resources: tuple[Resource, ...] = (),
    failure: Failure | None = None,
) -> AuditEvent | None:
    """The event of one API call by ``caller``: ``parameters`` and ``response`` as CloudTrail
    records them (secrets already left out), ``failure`` the error the caller got. A read's
    ``responseElements`` is null, as CloudTrail writes it; so is a failed call's. None when
    ``service`` has no CloudTrail event source."""
    source = EventSource.of_service(service)
    if source is None:
        return None
    read_only = is_read_only(operation)
    return AuditEvent(
        operation,
        source,
        actor_of(caller),
        account_id=caller.account_id,
        resources=resources,
        failure=failure,
        read_only=read_only,
        parameters=parameters,
        response=None if read_only or failure is not None else response,
    )

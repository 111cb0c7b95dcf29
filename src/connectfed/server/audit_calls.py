"""The edge observer that records API calls in the audit trail once their response is sent: a
denied call (:func:`connectfed.audit.denials.denial_event`), and every other call the dispatcher
noted for the trail (:class:`~connectfed.audit.calls.AuditedCalls` decides which), as the
CloudTrail management event of its operation (:func:`connectfed.audit.calls.call_event`).

The event is made here, after the answer, from what the request's scope says: the principal,
the :class:`~connectfed.wire.trail_view.NotedCall` (input, output) and the error the caller got,
if any — the final answer, so a write whose commit failed after its handler returned is recorded
with the ``ServiceUnavailable``/``InternalFailure`` the caller got, not as a success. A request
whose service recorded an event itself (GetFederationToken, AssumeRoleWithSAML) gets no second
one; a throttled call none at all. Recording only queues the event (the audit trail's writer
thread stores it), so this runs on the event loop; a request that noted nothing and was not
denied costs three attribute reads.

``resources`` name what the call acted on, by ARN: the role an ``AssumeRole`` assumed (as
CloudTrail's example lists it), the instance and the user, queue, routing profile or agent
status of an Amazon Connect call, and an IAM role, user or SAML provider whose ARN the call
names (an IAM call that names its target only by name lists none: its ARN depends on a path
the call does not give).
"""

from __future__ import annotations

from collections.abc import Callable

from connectfed import arns
from connectfed.audit.calls import call_event
from connectfed.audit.denials import DENIAL_CODES, denial_event
from connectfed.audit.events import Failure, Resource
from connectfed.audit.log import AuditLog
from connectfed.identity.principal import Principal
from connectfed.request_scope import RequestScope
from connectfed.server.edge import Observer, Scope
from connectfed.server.metrics import THROTTLING_CODES
from connectfed.wire.trail_view import NotedCall

# Connect: an identifier member -> (resource type, its ARN from the instance's ARN and the id).
_CONNECT_IDS: dict[str, tuple[str, Callable[[str, str], str]]] = {
    "UserId": ("AWS::Connect::User", arns.connect_user),
    "QueueId": ("AWS::Connect::Queue", arns.queue),
    "RoutingProfileId": ("AWS::Connect::RoutingProfile", arns.routing_profile),
    "AgentStatusId": ("AWS::Connect::AgentStatus", arns.agent_status),
}
# Connect: an ARN member of an output -> its resource type.
_CONNECT_ARNS = {
    "UserArn": "AWS::Connect::User",
    "QueueArn": "AWS::Connect::Queue",
    "RoutingProfileArn": "AWS::Connect::RoutingProfile",
    "AgentStatusARN": "AWS::Connect::AgentStatus",
}
# IAM and STS: an ARN member (input or output) -> its resource type.
_IAM_ARNS = {"RoleArn": "AWS::IAM::Role", "SAMLProviderArn": "AWS::IAM::SAMLProvider"}
# IAM: an output structure whose Arn names what was created.
_IAM_CREATED = {"Role": "AWS::IAM::Role", "User": "AWS::IAM::User"}


def audit_calls(audit: AuditLog, region: str) -> Observer:
    def observe(observed: RequestScope, scope: Scope, status: int, seconds: float) -> None:
        if observed.audited:
            return
        if observed.error_code in DENIAL_CODES:
            event = denial_event(observed)
            if event is not None:
                audit.record(event)
            return
        call = observed.call
        if call is None or observed.error_code in THROTTLING_CODES:
            return
        principal = observed.principal
        if not isinstance(principal, Principal) or not isinstance(call, NotedCall):
            return
        failure = (
            None
            if observed.error_code is None
            else Failure(observed.error_code, observed.error_message or "")
        )
        event = call_event(
            call.service,
            call.operation.name,
            principal,
            parameters=call.request_parameters(),
            response=None if failure is not None else call.response_elements(),
            resources=_resources(call, principal.account_id, region),
            failure=failure,
        )
        if event is not None:
            audit.record(event)

    return observe


def _resources(call: NotedCall, account_id: str, region: str) -> tuple[Resource, ...]:
    found: list[Resource] = []
    ids = call.identifiers()
    if call.service == "connect":
        instance_id = ids.get("InstanceId")
        instance_arn = ids.get("Arn") if call.operation.name == "CreateInstance" else None
        if instance_arn is None and instance_id:
            instance_arn = arns.connect_instance(region, account_id, instance_id)
        if instance_arn:
            found.append(Resource("AWS::Connect::Instance", instance_arn))
            for member, (kind, arn_of) in _CONNECT_IDS.items():
                if member in ids:
                    found.append(Resource(kind, arn_of(instance_arn, ids[member])))
        found.extend(Resource(kind, ids[m]) for m, kind in _CONNECT_ARNS.items() if m in ids)
    else:
        found.extend(Resource(kind, ids[m]) for m, kind in _IAM_ARNS.items() if m in ids)
        for member, kind in _IAM_CREATED.items():
            created = (call.result or {}).get(member)
            if isinstance(created, dict) and isinstance(created.get("Arn"), str):
                found.append(Resource(kind, created["Arn"]))
    return tuple(dict.fromkeys(found))  # in order, each once

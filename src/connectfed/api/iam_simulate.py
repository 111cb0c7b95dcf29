"""IAM's policy simulator (awsQuery): ``SimulatePrincipalPolicy`` and ``SimulateCustomPolicy``.

The request's members become typed values for :class:`~connectfed.identity.simulate
.PolicySimulator`; its results become the ``EvaluationResults`` shape, paged by ``MaxItems``
(default 100) and ``Marker``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from connectfed.api.context import services
from connectfed.api.errors import operation
from connectfed.identity.errors import InvalidRequest
from connectfed.identity.simulate import (
    ActionResult,
    ContextEntry,
    MatchedStatement,
    Outcome,
    Simulation,
    refuse_unsupported,
)
from connectfed.wire.registry import Params, RequestContext


def _simulation(params: Params) -> Simulation:
    refuse_unsupported([name for name, value in params.items() if value not in (None, [], "")])
    entries = tuple(
        ContextEntry(
            e.get("ContextKeyName", ""),
            tuple(e.get("ContextKeyValues", ())),
            e.get("ContextKeyType", "string"),
        )
        for e in params.get("ContextEntries", ())
    )
    for entry in entries:
        if not entry.key:
            raise InvalidRequest("Each ContextEntry needs a ContextKeyName.")
    resources = tuple(params.get("ResourceArns", ())) or None
    return Simulation(tuple(params["ActionNames"]), resources, entries)


def _statement(m: MatchedStatement) -> dict[str, Any]:
    out: dict[str, Any] = {"SourcePolicyId": m.source_id, "SourcePolicyType": m.source_type.value}
    if m.start is not None and m.end is not None:
        out["StartPosition"] = {"Line": m.start.line, "Column": m.start.column}
        out["EndPosition"] = {"Line": m.end.line, "Column": m.end.column}
    return out


def _outcome(o: Outcome, resource_key: str, decision_key: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        resource_key: o.resource,
        decision_key: o.decision,
        "MatchedStatements": [_statement(m) for m in o.matched],
        "MissingContextValues": list(o.missing),
    }
    if o.boundary_allows is not None:
        out["PermissionsBoundaryDecisionDetail"] = {
            "AllowedByPermissionsBoundary": o.boundary_allows
        }
    return out


def _result(r: ActionResult) -> dict[str, Any]:
    out = {"EvalActionName": r.action, **_outcome(r.overall, "EvalResourceName", "EvalDecision")}
    if r.per_resource:
        out["ResourceSpecificResults"] = [
            _outcome(o, "EvalResourceName", "EvalResourceDecision") for o in r.per_resource
        ]
    return out


def _page(results: Sequence[ActionResult], params: Params) -> dict[str, Any]:
    marker = params.get("Marker")
    start = 0
    if marker is not None:
        if not marker.isdigit() or int(marker) > len(results):
            raise InvalidRequest("Invalid Marker.")
        start = int(marker)
    limit = int(params.get("MaxItems", 100))
    chosen = results[start : start + limit]
    truncated = start + limit < len(results)
    out: dict[str, Any] = {
        "EvaluationResults": [_result(r) for r in chosen],
        "IsTruncated": truncated,
    }
    if truncated:
        out["Marker"] = str(start + limit)
    return out


@operation("iam", "SimulatePrincipalPolicy")
def simulate_principal_policy(ctx: RequestContext, params: Params) -> dict[str, Any]:
    results = services(ctx).simulator.simulate_principal(
        ctx.principal,
        params["PolicySourceArn"],
        params.get("PolicyInputList", ()),
        params.get("PermissionsBoundaryPolicyInputList", ()),
        _simulation(params),
    )
    return _page(results, params)


@operation("iam", "SimulateCustomPolicy")
def simulate_custom_policy(ctx: RequestContext, params: Params) -> dict[str, Any]:
    results = services(ctx).simulator.simulate_custom(
        ctx.principal,
        params["PolicyInputList"],
        params.get("PermissionsBoundaryPolicyInputList", ()),
        _simulation(params),
    )
    return _page(results, params)

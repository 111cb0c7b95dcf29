"""AWS STS operations (awsQuery). One call per handler; the shapes are in ``sts_shapes``."""

from __future__ import annotations

from typing import Any

from connectfed.api import sts_shapes as shapes
from connectfed.api.context import services
from connectfed.api.errors import operation
from connectfed.errors import AccessDenied, client_error
from connectfed.identity.principal import Origin
from connectfed.wire.registry import Params, RequestContext


@operation("sts", "GetCallerIdentity", storeless=True)
def get_caller_identity(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return shapes.caller_identity(services(ctx).sts.get_caller_identity(ctx.principal))


def _refuse_managed_session_policies(params: Params) -> None:
    """``PolicyArns`` (managed session policies) would narrow the session; connectfed has no
    managed policies to evaluate, and ignoring them would grant more than the caller asked for:
    refused instead (fail closed)."""
    if params.get("PolicyArns"):
        raise client_error(
            "ValidationError",
            "PolicyArns (managed session policies) are not supported by connectfed",
        )


def _refuse_mfa(params: Params) -> None:
    """connectfed has no MFA devices, so an MFA code (``SerialNumber``, ``TokenCode``) can never
    be validated: STS's answer for a serial number not associated with the caller. Ignored, the
    session would be issued as if the code had been checked."""
    if params.get("SerialNumber") is not None or params.get("TokenCode") is not None:
        raise AccessDenied(
            "MultiFactorAuthentication failed, unable to validate MFA code.  Please verify "
            "your MFA serial number is valid and associated with this user."
        )


@operation("sts", "AssumeRole")
def assume_role(ctx: RequestContext, params: Params) -> dict[str, Any]:
    _refuse_managed_session_policies(params)
    _refuse_mfa(params)
    session = services(ctx).sts.assume(ctx.principal, shapes.assume_role_request(params))
    return shapes.role_session(session)


@operation("sts", "AssumeRoleWithSAML", unsigned=True)
def assume_role_with_saml(ctx: RequestContext, params: Params) -> dict[str, Any]:
    _refuse_managed_session_policies(params)
    origin = Origin(source_ip=ctx.source_ip, secure=ctx.secure, request_id=ctx.request_id)
    issued = services(ctx).assume_saml.assume(shapes.saml_request(params), origin)
    return shapes.saml_session(issued)

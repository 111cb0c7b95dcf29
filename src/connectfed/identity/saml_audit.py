"""Audit events of SAML federation: AssumeRoleWithSAML through the API, and the browser's SAML
sign-in (CloudTrail's ``ConsoleLogin``, event type ``AwsConsoleSignIn``).

A refused assertion is recorded with the error the caller got and, in
``additionalEventData.SAMLRejectionReason``, why (the refusal's ``reason``). Nothing an unverified
assertion claims is recorded: the subject appears only once the signature was verified. The
assertion itself never appears (CloudTrail does not log ``SAMLAssertion`` either).
"""

from __future__ import annotations

from connectfed import arns
from connectfed.audit.actors import actor_of, saml_actor
from connectfed.audit.events import (
    AuditEvent,
    EventName,
    EventSource,
    EventType,
    Failure,
    Resource,
)
from connectfed.clock import cloudtrail_time
from connectfed.errors import ServiceError
from connectfed.identity.principal import Principal
from connectfed.identity.sts_values import SamlRequest, SamlSession
from connectfed.saml.assertion import VerifiedAssertion


def _resources(role_arn: str | None, provider_arn: str | None) -> tuple[Resource, ...]:
    found = []
    if role_arn:
        found.append(Resource("AWS::IAM::Role", role_arn))
    if provider_arn:
        found.append(Resource("AWS::IAM::SAMLProvider", provider_arn))
    return tuple(found)


def saml_event(
    request: SamlRequest,
    verified: VerifiedAssertion | None,
    error: ServiceError | None = None,
    rejection: str | None = None,
    result: SamlSession | None = None,
) -> AuditEvent:
    """The AssumeRoleWithSAML event of one call: failed with ``error`` (the AWS error the
    caller got; ``rejection`` the SAML rejection reason, when that was why) or issued
    ``result``."""
    role_arn, provider_arn = request.role_arn, request.provider_arn
    account = arns.account_of(provider_arn) or arns.account_of(role_arn)
    subject = verified.name_id if verified is not None else None
    actor = saml_actor(
        account, subject, provider_arn, result.name_qualifier if result is not None else None
    )
    parameters = {
        "roleArn": role_arn,
        "principalArn": provider_arn,
        "durationSeconds": request.duration_seconds,
    }
    response = None
    username = subject
    if result is not None:
        session = result.session
        username = session.arn.rsplit("/", 1)[-1]  # the role session name
        response = {
            "credentials": {
                "accessKeyId": session.credentials.access_key_id,
                "expiration": cloudtrail_time(session.credentials.expiration),
            },
            "assumedRoleUser": {"assumedRoleId": session.assumed_role_id, "arn": session.arn},
            "subject": result.subject,
            "subjectType": result.subject_type,
            "issuer": result.issuer,
            "audience": result.audience,
            "nameQualifier": result.name_qualifier,
        }
    return AuditEvent(
        EventName.ASSUME_ROLE_WITH_SAML,
        EventSource.STS,
        actor,
        account_id=account,
        username=username,
        resources=_resources(role_arn, provider_arn),
        failure=None if error is None else Failure(error.code, error.message),
        parameters=parameters,
        response=response,
        saml_rejection=rejection,
    )


def console_login_event(
    *,
    session: Principal | None = None,
    verified: VerifiedAssertion | None = None,
    provider_arn: str | None = None,
    role_arn: str | None = None,
    failure: str | None = None,
    reason: str | None = None,
) -> AuditEvent:
    """The browser's SAML sign-in: signed in as ``session``, or failed (``failure`` is the
    message the browser was shown; ``reason`` the SAML rejection kind, when that was why)."""
    account = (
        session.account_id
        if session is not None
        else arns.account_of(provider_arn) or arns.account_of(role_arn)
    )
    if session is not None:
        actor = actor_of(session)
    else:
        actor = saml_actor(account, verified.name_id if verified else None, provider_arn)
    outcome = "Success" if failure is None else "Failure"
    return AuditEvent(
        EventName.CONSOLE_LOGIN,
        EventSource.SIGNIN,
        actor,
        account_id=account,
        username=None if session is not None else actor.user_name,
        resources=_resources(role_arn, provider_arn),
        failure=None if failure is None else Failure("AccessDenied", failure),
        event_type=EventType.CONSOLE_SIGN_IN,
        response={"ConsoleLogin": outcome},
        additional={
            "LoginTo": "connectfed",
            "MobileVersion": "No",
            "MFAUsed": "No",
            "SamlProviderArn": provider_arn,
        },
        saml_rejection=reason,
    )

"""Amazon Connect CTI operations (``AmazonConnectCTIService``, JSON 1.0), the API Streams'
worker calls for the CCP: each handler is one call to ``services.agents`` or
``services.agent_sessions``; the wire (``connectfed.wire.json10``) does the rest.

Choices where AWS documents nothing (docs/compatibility.md, "CTI"): no contacts are ever
routed, so contact operations answer ``InvalidStateException``; no softphone, chat or WebSocket
transport is provided (``CreateTransport`` answers ``InvalidStateException``, never a URL that
does not work); the long poll waits at most :data:`MAX_WAIT_MS`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from connectfed.api import cti_shapes as shapes
from connectfed.api.context import services
from connectfed.connect.agent_phone import AgentPhone
from connectfed.connect.agent_values import StatusDisabled
from connectfed.connect.errors import (
    InvalidParameter,
    InvalidReference,
    ResourceKind,
    ResourceNotFound,
)
from connectfed.errors import ServiceError, client_error
from connectfed.tokens import RejectReason, TokenGrant, TokenRejected
from connectfed.wire.json10 import BearerAuthenticate, CtiResult, cti_operation, unauthorized
from connectfed.wire.registry import Params, RequestContext

H = TypeVar("H", bound=Callable[[RequestContext, Params], CtiResult])

MAX_WAIT_MS = 30_000  # Streams asks for 30 s (GET_AGENT_TIMEOUT_MS)

_TOKEN_ERRORS = {
    RejectReason.INVALID: "The access token is not valid.",
    RejectReason.EXPIRED: "The access token has expired.",
    RejectReason.REVOKED: "The access token has expired.",
    RejectReason.REUSED: "The access token is not valid.",
    RejectReason.WRONG_KIND: "The token is not an access token.",
}


def token_error(reason: RejectReason) -> ServiceError:
    if reason is RejectReason.WRONG_INSTANCE:
        return client_error(
            "AccessDeniedException", "The access token was issued for another instance.", 403
        )
    return unauthorized(_TOKEN_ERRORS.get(reason, "The access token is not valid."))


def authenticator(container: Any) -> BearerAuthenticate:
    """Bearer authentication for the CTI wire: an access token of this instance's agent."""

    def authenticate(token: str, instance_id: str | None) -> TokenGrant:
        try:
            return container.agent_sessions.authenticate(token, instance_id)  # type: ignore[no-any-return]
        except TokenRejected as rejected:
            raise token_error(rejected.reason) from None

    return authenticate


def _session_ended(error: ResourceNotFound) -> ServiceError | ResourceNotFound:
    """The agent's own user or instance deleted after the token was checked (a long poll
    waits up to 30 s): the session has ended, as the next call's token check says (401, which
    Streams answers by signing in again), not an internal error."""
    if error.kind in (ResourceKind.USER, ResourceKind.INSTANCE):
        return token_error(RejectReason.EXPIRED)
    return error


def operation(name: str) -> Callable[[H], H]:
    """Registers a CTI handler (:func:`cti_operation`), the agent vanishing meanwhile (its
    result awaited too) answered by :func:`_session_ended`."""

    def register(handler: H) -> H:
        @functools.wraps(handler)
        def run(ctx: RequestContext, params: Params) -> CtiResult:
            try:
                result = handler(ctx, params)
            except ResourceNotFound as error:
                raise _session_ended(error) from None
            if inspect.isawaitable(result):
                return _awaited(result)
            return result

        cti_operation(name)(run)
        return handler

    return register


async def _awaited(result: Awaitable[dict[str, Any] | None]) -> dict[str, Any] | None:
    try:
        return await result
    except ResourceNotFound as error:
        raise _session_ended(error) from None


def _grant(ctx: RequestContext) -> TokenGrant:
    assert isinstance(ctx.principal, TokenGrant)
    return ctx.principal


@operation("GetAgentSnapshot")
def get_agent_snapshot(
    ctx: RequestContext, params: Params
) -> dict[str, Any] | Awaitable[dict[str, Any]]:
    grant, agents, clock = _grant(ctx), services(ctx).agents, services(ctx).clock
    after = shapes.snapshot_version(params.get("nextToken"), grant.user_id)
    wait_ms = min(max(params.get("timeout") or 0, 0), MAX_WAIT_MS)
    if after is None or wait_ms == 0:
        current = agents.current_state(grant.instance_id, grant.user_id)
        return shapes.snapshot(current, clock.now(), grant.user_id)

    sessions = services(ctx).agent_sessions

    async def changed() -> dict[str, Any]:
        state = await agents.wait_for_change(
            grant.instance_id,
            grant.user_id,
            after,
            wait_ms / 1000,
            ended=functools.partial(sessions.over, grant),  # signed out meanwhile: at once
        )
        try:  # signed out (another tab) or ended meanwhile: say so, not the agent's state
            await services(ctx).offload.run(sessions.confirm, grant)
        except TokenRejected as rejected:
            raise token_error(rejected.reason) from None
        return shapes.snapshot(state, clock.now(), grant.user_id)

    return changed()


@operation("GetAgentConfiguration")
def get_agent_configuration(ctx: RequestContext, params: Params) -> dict[str, Any]:
    grant, agents = _grant(ctx), services(ctx).agents
    user = agents.user(grant.instance_id, grant.user_id)
    profile = agents.routing_profile(grant.instance_id, user.routing_profile_id)
    return {"configuration": shapes.configuration(user, profile)}


@operation("UpdateAgentConfiguration")
def update_agent_configuration(ctx: RequestContext, params: Params) -> None:
    """Streams' ``agent.setConfiguration``: the agent changes its phone (``softphoneEnabled``,
    ``extension``: "only the extension and softphoneEnabled values can be updated", says
    Streams' documentation); everything else must be as it is."""
    grant, agents = _grant(ctx), services(ctx).agents
    current = get_agent_configuration(ctx, params)["configuration"]
    wanted = params["configuration"]
    if wanted["softphoneAutoAccept"] != current["softphoneAutoAccept"]:
        raise client_error(
            "InvalidConfigurationException",
            "softphoneAutoAccept cannot be changed by the agent: an administrator sets it "
            "(the user's PhoneConfig.AutoAccept).",
        )
    preferences = wanted.get("agentPreferences") or {}
    for key in ("LANGUAGE", "locale"):  # Streams sends the language under both names
        if preferences.get(key) not in (None, shapes.LANGUAGE):
            raise client_error(
                "InvalidConfigurationException",
                f"The agent's language cannot be changed here: it is {shapes.LANGUAGE}.",
            )
    if wanted["routingProfile"].get("routingProfileARN") not in (
        None,
        current["routingProfile"]["routingProfileARN"],
    ):
        raise client_error(
            "InvalidConfigurationException", "An agent cannot change its routing profile."
        )
    phone = AgentPhone(wanted["softphoneEnabled"], wanted["extension"])
    if phone != AgentPhone(current["softphoneEnabled"], current["extension"]):
        try:
            agents.set_phone(grant.instance_id, grant.user_id, phone)
        except InvalidParameter as refused:
            raise client_error("InvalidConfigurationException", refused.reason) from None


@operation("GetAgentStates")
def get_agent_states(ctx: RequestContext, params: Params) -> dict[str, Any]:
    statuses = [s for s in services(ctx).agents.statuses(_grant(ctx).instance_id) if s.enabled]
    statuses.sort(key=lambda s: (s.display_order is None, s.display_order or 0, s.name))
    chunk, token = shapes.page([shapes.state(s) for s in statuses], params)
    return {"states": chunk, "nextToken": token}


@operation("PutAgentState")
def put_agent_state(ctx: RequestContext, params: Params) -> None:
    grant, agents = _grant(ctx), services(ctx).agents
    wanted = params["state"]
    arn = wanted.get("agentStateARN")
    for status in agents.statuses(grant.instance_id):
        if status.enabled and (status.arn == arn if arn else status.name == wanted["name"]):
            try:
                agents.set_state(grant.instance_id, grant.user_id, status.status_id)
            except (StatusDisabled, InvalidReference):
                break  # disabled or deleted since it was listed: refused as if it had been then
            return
    raise client_error(
        "InvalidStateException",
        f"The agent state {arn or wanted['name']!r} does not exist or is disabled.",
    )


@operation("GetAgentPermissions")
def get_agent_permissions(ctx: RequestContext, params: Params) -> dict[str, Any]:
    chunk, token = shapes.page([], params)  # no telephony: no outbound-call permission
    return {"permissions": chunk, "nextToken": token}


@operation("GetDialableCountryCodes")
def get_dialable_country_codes(ctx: RequestContext, params: Params) -> dict[str, Any]:
    chunk, token = shapes.page([], params)  # no telephony: nothing is dialable
    return {"countryCodes": chunk, "nextToken": token}


@operation("GetRoutingProfileQueues")
def get_routing_profile_queues(ctx: RequestContext, params: Params) -> dict[str, Any]:
    grant, agents = _grant(ctx), services(ctx).agents
    user = agents.user(grant.instance_id, grant.user_id)
    profile = agents.routing_profile(grant.instance_id, user.routing_profile_id)
    if params["routingProfileARN"] != profile.arn:
        raise client_error(
            "AccessDeniedException", "The routing profile is not the agent's routing profile.", 403
        )
    chunk, token = shapes.page(shapes.queues(profile, user), params)
    return {"queues": chunk, "nextToken": token}


@operation("GetEndpoints")
def get_endpoints(ctx: RequestContext, params: Params) -> dict[str, Any]:
    return {"endpoints": []}  # no quick connects are stored


@operation("GetNewAuthToken")
def get_new_auth_token(ctx: RequestContext, params: Params) -> dict[str, Any]:
    try:
        issued = services(ctx).agent_sessions.refresh(params["refreshToken"])
    except TokenRejected:
        raise client_error(
            "RefreshTokenExpiredException", "The refresh token has expired or is not valid.", 401
        ) from None
    return {"newAuthToken": issued.access_token, "expirationDateTime": issued.access_expires}


@operation("SendClientLogs")
@operation("SendSoftphoneCallMetrics")
@operation("SendSoftphoneCallReport")
def accept_and_drop(ctx: RequestContext, params: Params) -> None:
    return None  # client telemetry: accepted, not kept


@operation("CreateTransport")
def create_transport(ctx: RequestContext, params: Params) -> None:
    raise client_error(
        "InvalidStateException",
        f"No {params['transportType']} transport is provided by this server: agent "
        "events arrive by GetAgentSnapshot long polling; softphone, chat and "
        "WebSocket transports are not available.",
    )


CONTACT_OPERATIONS = (
    "AcceptContact",
    "ClearContact",
    "CompleteContact",
    "ConferenceConnections",
    "CreateAdditionalConnection",
    "DestroyConnection",
    "HoldConnection",
    "MuteParticipant",
    "NotifyContactIssue",
    "PauseContact",
    "RejectContact",
    "ResumeConnection",
    "ResumeContact",
    "SendDigits",
    "ToggleActiveConnections",
    "UnmuteParticipant",
    "UpdateMonitorParticipantState",
)


def no_contact(ctx: RequestContext, params: Params) -> None:
    raise client_error(
        "InvalidStateException",
        f"Contact {params['contactId']!r} does not exist: this server routes no contacts.",
    )


def no_new_contact(ctx: RequestContext, params: Params) -> None:
    raise client_error(
        "InvalidStateException",
        "This server has no telephony or task routing: contacts cannot be created.",
    )


for _name in CONTACT_OPERATIONS:
    operation(_name)(no_contact)
operation("CreateOutboundContact")(no_new_contact)
operation("CreateTaskContact")(no_new_contact)

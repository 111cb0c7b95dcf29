"""CTI output shapes from typed agent values (member names as in Streams' CTI model).

Streams reads: ``snapshot.state`` {agentStateARN, type, name, startTimestamp} with ``type`` one
of its ``connect.AgentStateType`` values (``routable``, ``not_routable``, ``offline``),
``snapshot.contacts`` (a list, sorted and walked on every update), ``snapshotTimestamp`` (for
clock skew); ``configuration.routingProfile.routingProfileARN`` (``agent.getRoutingProfile()``,
and the instance and account ids are parsed from it), ``defaultOutboundQueue`` and ``name``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from connectfed.connect.agent_phone import AgentPhone, stored_object
from connectfed.connect.agents import AgentState, AgentStatus, AgentStatusType, RoutingProfile
from connectfed.errors import ServiceError, client_error
from connectfed.store.records import ConnectUser

_ROUTING = {
    AgentStatusType.ROUTABLE: "routable",
    AgentStatusType.CUSTOM: "not_routable",
    AgentStatusType.OFFLINE: "offline",
}
# The agent's language: Amazon Connect answers ``agentPreferences.LANGUAGE``, and Streams'
# ``agent.setConfiguration`` refuses by itself (``InvalidLocale``) a configuration that has
# ``agentPreferences`` without a language. No other language is kept here.
LANGUAGE = "en_US"
# cfsnap.<state version>.<user id>: a version means something only for its own agent (an
# older token without the user is still read, as the version alone).
_SNAPSHOT_TOKEN = re.compile(r"cfsnap\.(\d{1,18})(?:\.([A-Za-z0-9-]{1,64}))?")
_PAGE_TOKEN = re.compile(r"cfpage\.(\d{1,9})")


def invalid(message: str) -> ServiceError:
    return client_error("ValidationException", message)


def state(status: AgentStatus, started: datetime | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "agentStateARN": status.arn,
        "type": _ROUTING[status.type],
        "name": status.name,
    }
    if started is not None:
        out["startTimestamp"] = started
    return out


def snapshot(current: AgentState, now: datetime, user_id: str) -> dict[str, Any]:
    """GetAgentSnapshot's output; ``nextToken`` names the state version it shows, and whose."""
    return {
        "snapshot": {
            "state": state(current.status, current.started),
            "agentAvailabilityState": {"state": current.status.name, "timeStamp": current.started},
            "contacts": [],
            "snapshotTimestamp": now,
        },
        "nextToken": f"cfsnap.{current.version}.{user_id}",
    }


def snapshot_version(next_token: str | None, user_id: str) -> int | None:
    """The state version ``next_token`` names for ``user_id``'s agent; None when there is none
    to wait on: no token, or one issued to another agent (a worker that kept the token of the
    agent signed in before, on a shared workstation), whose version says nothing of this one."""
    if next_token is None:
        return None
    match = _SNAPSHOT_TOKEN.fullmatch(next_token)
    if match is None:
        raise invalid("The nextToken is not one this server issued.")
    if match.group(2) is not None and match.group(2) != user_id:
        return None
    return int(match.group(1))


def page(items: list[Any], params: dict[str, Any]) -> tuple[list[Any], str | None]:
    """One page of ``items`` for ``nextToken``/``maxResults`` (default 100)."""
    start = 0
    if params.get("nextToken") is not None:
        match = _PAGE_TOKEN.fullmatch(params["nextToken"])
        if match is None:
            raise client_error("PaginationException", "The nextToken is not valid.")
        start = int(match.group(1))
    limit = params.get("maxResults")
    if limit is None:
        limit = 100
    elif limit < 1:
        raise invalid("maxResults must be at least 1.")
    chunk = items[start : start + limit]
    more = start + limit < len(items)
    return chunk, (f"cfpage.{start + limit}" if more else None)


def queue_ref(profile: RoutingProfile, queue_id: str) -> dict[str, Any]:
    for entry in profile.queues:
        if entry.queue.queue_id == queue_id:
            return {"queueARN": entry.queue.arn, "name": entry.queue.name}
    return {"queueARN": "", "name": ""}


def queues(profile: RoutingProfile, user: ConnectUser) -> list[dict[str, Any]]:
    """The profile's queues and, first, the agent's own queue (Streams finds the agent's id in
    the ``…/queue/agent/<id>`` ARN, as on Amazon Connect)."""
    agent_queue = user.arn.replace("/agent/", "/queue/agent/", 1)
    seen: dict[str, dict[str, Any]] = {agent_queue: {"queueARN": agent_queue}}
    for entry in profile.queues:
        seen.setdefault(entry.queue.arn, {"queueARN": entry.queue.arn, "name": entry.queue.name})
    return list(seen.values())


def configuration(user: ConnectUser, profile: RoutingProfile) -> dict[str, Any]:
    identity = stored_object(user.identity_info)
    phone = AgentPhone.of(user.phone_config)
    full = " ".join(str(identity[k]) for k in ("FirstName", "LastName") if identity.get(k))
    return {
        "name": full or user.username,
        "username": user.username,
        "softphoneEnabled": phone.softphone,
        "softphoneAutoAccept": bool(stored_object(user.phone_config).get("AutoAccept", False)),
        "extension": phone.number,
        "routingProfile": {
            "name": profile.name,
            "routingProfileARN": profile.arn,
            "defaultOutboundQueue": queue_ref(profile, profile.default_outbound_queue_id),
            "channelConcurrencyMap": dict(profile.media_concurrencies),
        },
        "agentPreferences": {"LANGUAGE": LANGUAGE},
        "agentARN": user.arn,
    }

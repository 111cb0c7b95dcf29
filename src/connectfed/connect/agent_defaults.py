"""What every Connect instance starts with, as AWS creates it (Amazon Connect Administrator
Guide, "Default agent statuses", "Create a queue", "Create a routing profile"):

- agent statuses ``Available`` (ROUTABLE) and ``Offline`` (OFFLINE), enabled;
- hours of operation "Basic Hours" (only its id exists here) and a ``BasicQueue`` (STANDARD);
- the "Basic Routing Profile" serves BasicQueue on VOICE, CHAT and TASK with priority 1, delay 0,
  with BasicQueue as default outbound queue and concurrency VOICE 1, CHAT 2, TASK 10.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from connectfed import arns
from connectfed.store.agent_records import (
    AgentStatusRecord,
    ConnectDefaults,
    QueueRecord,
    RoutingProfileRecord,
    RoutingQueueRecord,
)
from connectfed.store.records import Instance, Profile

DEFAULT_STATUSES = (("Available", "ROUTABLE", 1), ("Offline", "OFFLINE", 2))
DEFAULT_QUEUE = "BasicQueue"
DEFAULT_CHANNELS = ("VOICE", "CHAT", "TASK")
DEFAULT_CONCURRENCY = (("VOICE", 1), ("CHAT", 2), ("TASK", 10))


def build_defaults(
    instance: Instance, routing_profiles: Sequence[Profile], now: float
) -> ConnectDefaults:
    """Fresh ids for an instance's defaults; ``routing_profiles`` get the default settings."""
    iid = instance.instance_id
    statuses = tuple(
        AgentStatusRecord(
            iid, sid, arns.agent_status(instance.arn, sid), name, None, kind, True, order, now
        )
        for name, kind, order in DEFAULT_STATUSES
        for sid in [str(uuid.uuid4())]
    )
    hours_id = str(uuid.uuid4())
    qid = str(uuid.uuid4())
    queue = QueueRecord(
        iid,
        qid,
        arns.queue(instance.arn, qid),
        DEFAULT_QUEUE,
        None,
        "STANDARD",
        hours_id,
        None,
        True,
        now,
    )
    settings = tuple(
        RoutingProfileRecord(
            iid,
            p.profile_id,
            p.name,
            p.arn,
            "Default routing profile",
            qid,
            DEFAULT_CONCURRENCY,
            now,
        )
        for p in routing_profiles
    )
    routing_queues = tuple(
        RoutingQueueRecord(iid, p.profile_id, qid, channel, 1, 0)
        for p in routing_profiles
        for channel in DEFAULT_CHANNELS
    )
    offline = next(s.status_id for s in statuses if s.type == "OFFLINE")
    return ConnectDefaults(iid, hours_id, offline, statuses, (queue,), settings, routing_queues)

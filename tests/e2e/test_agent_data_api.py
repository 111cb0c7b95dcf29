"""Agent statuses, queues and routing profiles through boto3 against a real server."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.server import ACCOUNT_ID, Server
from tests.support.world import World, build_world


@pytest.fixture(scope="module")
def world(server: Server) -> World:
    return build_world(server, "agentdata")


def _statuses(connect: Any, instance_id: str, **kw: Any) -> list[dict[str, Any]]:
    pages = connect.get_paginator("list_agent_statuses").paginate(InstanceId=instance_id, **kw)
    return [s for page in pages for s in page["AgentStatusSummaryList"]]


def _basic_queue(connect: Any, instance_id: str) -> dict[str, Any]:
    queues = connect.list_queues(InstanceId=instance_id, QueueTypes=["STANDARD"])
    return next(q for q in queues["QueueSummaryList"] if q["Name"] == "BasicQueue")


def test_every_instance_starts_with_the_default_statuses_queue_and_routing(world: World) -> None:
    connect = world.server.client("connect")
    iid = world.instance_id
    arn = f"arn:aws:connect:us-east-1:{ACCOUNT_ID}:instance/{iid}"
    statuses = {s["Name"]: s for s in _statuses(connect, iid)}
    assert (statuses["Available"]["Type"], statuses["Offline"]["Type"]) == ("ROUTABLE", "OFFLINE")
    available = statuses["Available"]
    assert available["Arn"] == f"{arn}/agent-state/{available['Id']}"
    described = connect.describe_agent_status(InstanceId=iid, AgentStatusId=available["Id"])
    assert described["AgentStatus"]["State"] == "ENABLED"
    assert described["AgentStatus"]["AgentStatusARN"] == available["Arn"]

    basic = _basic_queue(connect, iid)
    assert basic["QueueType"] == "STANDARD" and basic["Arn"] == f"{arn}/queue/{basic['Id']}"
    assert connect.list_queues(InstanceId=iid, QueueTypes=["AGENT"])["QueueSummaryList"] == []
    queue = connect.describe_queue(InstanceId=iid, QueueId=basic["Id"])["Queue"]
    assert (queue["Name"], queue["Status"]) == ("BasicQueue", "ENABLED")
    assert queue["HoursOfOperationId"]

    profile = connect.describe_routing_profile(
        InstanceId=iid, RoutingProfileId=world.routing_profile
    )
    profile = profile["RoutingProfile"]
    assert profile["Name"] == "Basic Routing Profile"
    assert profile["DefaultOutboundQueueId"] == basic["Id"]
    assert profile["RoutingProfileArn"] == f"{arn}/routing-profile/{world.routing_profile}"
    assert {m["Channel"] for m in profile["MediaConcurrencies"]} == {"VOICE", "CHAT", "TASK"}
    members = connect.list_routing_profile_queues(
        InstanceId=iid, RoutingProfileId=world.routing_profile
    )["RoutingProfileQueueConfigSummaryList"]
    assert sorted((m["Channel"], m["QueueId"], m["Priority"], m["Delay"]) for m in members) == [
        (channel, basic["Id"], 1, 0) for channel in ("CHAT", "TASK", "VOICE")
    ]


def test_agent_statuses_create_describe_update_page(world: World) -> None:
    connect = world.server.client("connect")
    iid = world.instance_id
    made = [
        connect.create_agent_status(
            InstanceId=iid, Name=name, State="ENABLED", Description=f"{name}!", DisplayOrder=3
        )
        for name in ("Lunch", "Break", "Training")
    ]
    assert made[0]["AgentStatusARN"].endswith(f"/agent-state/{made[0]['AgentStatusId']}")
    with pytest.raises(connect.exceptions.DuplicateResourceException):
        connect.create_agent_status(InstanceId=iid, Name="Lunch", State="ENABLED")
    names = [s["Name"] for s in _statuses(connect, iid, PaginationConfig={"PageSize": 1})]
    assert len(names) == len(set(names)) and {"Lunch", "Break", "Training"} <= set(names)
    custom = _statuses(connect, iid, AgentStatusTypes=["CUSTOM"])
    assert {s["Type"] for s in custom} == {"CUSTOM"} and len(custom) >= 3

    lunch = made[0]["AgentStatusId"]
    connect.update_agent_status(
        InstanceId=iid, AgentStatusId=lunch, Name="Dinner", State="DISABLED", Description=""
    )
    status = connect.describe_agent_status(InstanceId=iid, AgentStatusId=lunch)["AgentStatus"]
    assert (status["Name"], status["State"], status["Type"]) == ("Dinner", "DISABLED", "CUSTOM")
    assert "Description" not in status and status["DisplayOrder"] == 3
    connect.update_agent_status(InstanceId=iid, AgentStatusId=lunch, ResetOrderNumber=True)
    status = connect.describe_agent_status(InstanceId=iid, AgentStatusId=lunch)["AgentStatus"]
    assert "DisplayOrder" not in status and status["Name"] == "Dinner"
    with pytest.raises(connect.exceptions.DuplicateResourceException):
        connect.update_agent_status(InstanceId=iid, AgentStatusId=lunch, Name="Break")
    with pytest.raises(connect.exceptions.ResourceNotFoundException):
        connect.update_agent_status(InstanceId=iid, AgentStatusId="nope", Name="X")
    with pytest.raises(connect.exceptions.ResourceNotFoundException):
        connect.describe_agent_status(InstanceId=iid, AgentStatusId="nope")
    available = next(s for s in _statuses(connect, iid) if s["Name"] == "Available")
    with pytest.raises(connect.exceptions.InvalidParameterException):
        connect.update_agent_status(InstanceId=iid, AgentStatusId=available["Id"], State="DISABLED")


def test_model_rules_and_bad_tokens_are_invalid_parameters(world: World) -> None:
    # botocore's own checks off, so the server's are what answers.
    connect = world.server.client("connect", parameter_validation=False)
    iid = world.instance_id
    cases = [
        lambda: connect.list_agent_statuses(InstanceId=iid, NextToken="garbage"),
        lambda: connect.list_queues(InstanceId=iid, MaxResults=1001),
        lambda: connect.create_agent_status(InstanceId=iid, Name="", State="ENABLED"),
        lambda: connect.create_agent_status(InstanceId=iid, Name="X", State="MAYBE"),
        lambda: connect.create_agent_status(
            InstanceId=iid, Name="X", State="ENABLED", DisplayOrder=51
        ),
        lambda: connect.list_agent_statuses(InstanceId=iid, AgentStatusTypes=["AWAY"]),
    ]
    for call in cases:
        with pytest.raises(connect.exceptions.InvalidParameterException):
            call()


def test_queues_create_describe_page_and_errors(world: World) -> None:
    connect = world.server.client("connect")
    iid = world.instance_id
    basic = connect.describe_queue(InstanceId=iid, QueueId=_basic_queue(connect, iid)["Id"])
    hours = basic["Queue"]["HoursOfOperationId"]
    made = connect.create_queue(
        InstanceId=iid,
        Name="Sales",
        Description="Sales calls",
        HoursOfOperationId=hours,
        MaxContacts=10,
    )
    queue = connect.describe_queue(InstanceId=iid, QueueId=made["QueueId"])["Queue"]
    assert (queue["Name"], queue["Description"], queue["MaxContacts"]) == (
        "Sales",
        "Sales calls",
        10,
    )
    assert queue["QueueArn"] == made["QueueArn"]
    with pytest.raises(connect.exceptions.DuplicateResourceException):
        connect.create_queue(InstanceId=iid, Name="Sales", HoursOfOperationId=hours)
    with pytest.raises(connect.exceptions.InvalidParameterException):
        connect.create_queue(InstanceId=iid, Name="Support", HoursOfOperationId="no-such-hours")
    with pytest.raises(connect.exceptions.InvalidParameterException):
        connect.create_queue(
            InstanceId=iid, Name="Support", HoursOfOperationId=hours, QuickConnectIds=["qc"]
        )
    with pytest.raises(connect.exceptions.ResourceNotFoundException):
        connect.describe_queue(InstanceId=iid, QueueId="no-such-queue")
    pages = list(
        connect.get_paginator("list_queues").paginate(
            InstanceId=iid, PaginationConfig={"PageSize": 1}
        )
    )
    assert [q["Name"] for p in pages for q in p["QueueSummaryList"]] == ["BasicQueue", "Sales"]


def test_routing_profiles_create_list_queues_and_assign_users(world: World) -> None:
    connect = world.server.client("connect")
    iid = world.instance_id
    basic = _basic_queue(connect, iid)["Id"]
    hours = connect.describe_queue(InstanceId=iid, QueueId=basic)["Queue"]["HoursOfOperationId"]
    support = connect.create_queue(InstanceId=iid, Name="Support", HoursOfOperationId=hours)
    config = [
        {
            "QueueReference": {"QueueId": support["QueueId"], "Channel": "CHAT"},
            "Priority": 2,
            "Delay": 30,
        },
        {"QueueReference": {"QueueId": basic, "Channel": "VOICE"}, "Priority": 1, "Delay": 0},
    ]
    made = connect.create_routing_profile(
        InstanceId=iid,
        Name="Support profile",
        Description="chat first",
        DefaultOutboundQueueId=basic,
        QueueConfigs=config,
        MediaConcurrencies=[
            {"Channel": "VOICE", "Concurrency": 1},
            {"Channel": "CHAT", "Concurrency": 3},
        ],
    )
    rid = made["RoutingProfileId"]
    profile = connect.describe_routing_profile(InstanceId=iid, RoutingProfileId=rid)
    assert profile["RoutingProfile"]["NumberOfAssociatedQueues"] == 2
    assert {
        (m["Channel"], m["Concurrency"]) for m in profile["RoutingProfile"]["MediaConcurrencies"]
    } == {("VOICE", 1), ("CHAT", 3)}
    pages = list(
        connect.get_paginator("list_routing_profile_queues").paginate(
            InstanceId=iid, RoutingProfileId=rid, PaginationConfig={"PageSize": 1}
        )
    )
    got = [m for p in pages for m in p["RoutingProfileQueueConfigSummaryList"]]
    assert sorted((m["QueueName"], m["Channel"], m["Priority"], m["Delay"]) for m in got) == [
        ("BasicQueue", "VOICE", 1, 0),
        ("Support", "CHAT", 2, 30),
    ]
    names = [
        r["Name"]
        for r in connect.list_routing_profiles(InstanceId=iid)["RoutingProfileSummaryList"]
    ]
    assert "Support profile" in names
    bad_profiles: list[dict[str, Any]] = [
        {"Name": "Support profile"},  # duplicate name, handled below
        {"Name": "p2", "DefaultOutboundQueueId": "no-such-queue"},
        {"Name": "p3", "MediaConcurrencies": [{"Channel": "VOICE", "Concurrency": 2}]},
        {"Name": "p4", "QueueConfigs": config + config[:1]},
    ]
    base = {
        "InstanceId": iid,
        "Description": "d",
        "DefaultOutboundQueueId": basic,
        "MediaConcurrencies": [{"Channel": "VOICE", "Concurrency": 1}],
    }
    with pytest.raises(connect.exceptions.DuplicateResourceException):
        connect.create_routing_profile(**{**base, **bad_profiles[0]})
    for bad in bad_profiles[1:]:
        with pytest.raises(connect.exceptions.InvalidParameterException):
            connect.create_routing_profile(**{**base, **bad})

    agent = world.add_agent("routed")
    connect.update_user_routing_profile(InstanceId=iid, UserId=agent, RoutingProfileId=rid)
    assert connect.describe_user(InstanceId=iid, UserId=agent)["User"]["RoutingProfileId"] == rid
    with pytest.raises(connect.exceptions.InvalidParameterException):
        connect.update_user_routing_profile(InstanceId=iid, UserId=agent, RoutingProfileId="x")
    with pytest.raises(connect.exceptions.ResourceNotFoundException):
        connect.update_user_routing_profile(InstanceId=iid, UserId="nobody", RoutingProfileId=rid)
    with pytest.raises(connect.exceptions.ResourceNotFoundException):
        connect.describe_routing_profile(InstanceId=iid, RoutingProfileId="no-such-profile")
    with pytest.raises(connect.exceptions.ResourceNotFoundException):
        connect.list_routing_profile_queues(InstanceId=iid, RoutingProfileId="no-such-profile")


def test_another_instance_or_unknown_one_is_not_found(world: World) -> None:
    connect = world.server.client("connect")
    missing = "00000000-0000-0000-0000-000000000000"
    calls = [
        lambda: connect.list_agent_statuses(InstanceId=missing),
        lambda: connect.create_agent_status(InstanceId=missing, Name="X", State="ENABLED"),
        lambda: connect.list_queues(InstanceId=missing),
        lambda: connect.describe_routing_profile(
            InstanceId=missing, RoutingProfileId=world.routing_profile
        ),
        lambda: connect.get_current_user_data(InstanceId=missing, Filters={"Agents": ["x"]}),
    ]
    for call in calls:
        with pytest.raises(connect.exceptions.ResourceNotFoundException):
            call()

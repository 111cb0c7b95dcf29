"""PutUserStatus and GetCurrentUserData through boto3 and the AWS CLI, with IAM decisions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connectfed.store import open_store
from connectfed.store.records import Instance, Profile
from tests.e2e.test_awscli import aws
from tests.support.aws_env import clean_env
from tests.support.server import ACCOUNT_ID, ROOT_KEY, ROOT_SECRET, Server, start_server
from tests.support.world import World, build_world, make_role


@pytest.fixture(scope="module")
def world(server: Server) -> World:
    return build_world(server, "agentstate")


def _status_ids(connect: Any, instance_id: str) -> dict[str, str]:
    summaries = connect.list_agent_statuses(InstanceId=instance_id)["AgentStatusSummaryList"]
    return {s["Name"]: s["Id"] for s in summaries}


def _user_id(connect: Any, instance_id: str, username: str) -> str:
    users = connect.list_users(InstanceId=instance_id)["UserSummaryList"]
    return str(next(u["Id"] for u in users if u["Username"] == username))


def _data(connect: Any, instance_id: str, **filters: Any) -> list[dict[str, Any]]:
    return list(
        connect.get_current_user_data(InstanceId=instance_id, Filters=filters)["UserDataList"]
    )


def test_put_user_status_is_what_get_current_user_data_reports(world: World) -> None:
    connect = world.server.client("connect")
    iid = world.instance_id
    statuses = _status_ids(connect, iid)
    agent = _user_id(connect, iid, "agent1")
    [before] = _data(connect, iid, Agents=[agent])
    # A user never changed is Offline, routed by the user's profile, with no active slot.
    assert before["Status"]["StatusName"] == "Offline"
    assert before["User"]["Arn"].endswith(f"/agent/{agent}")
    assert before["RoutingProfile"]["Id"] == world.routing_profile
    assert before["MaxSlotsByChannel"] == {"VOICE": 1, "CHAT": 2, "TASK": 10}
    assert before["AvailableSlotsByChannel"] == {"VOICE": 0, "CHAT": 0, "TASK": 0}
    assert before["ActiveSlotsByChannel"] == {"VOICE": 0, "CHAT": 0, "TASK": 0}
    assert before["Contacts"] == [] and "NextStatus" not in before

    connect.put_user_status(InstanceId=iid, UserId=agent, AgentStatusId=statuses["Available"])
    user_arn = before["User"]["Arn"]
    [now] = _data(connect, iid, Agents=[user_arn])  # an agent's ARN selects it as its id does
    assert now["Status"]["StatusName"] == "Available"
    assert now["Status"]["StatusArn"].endswith(f"/agent-state/{statuses['Available']}")
    assert now["Status"]["StatusStartTimestamp"] >= before["Status"]["StatusStartTimestamp"]
    assert now["AvailableSlotsByChannel"] == now["MaxSlotsByChannel"]
    # The same status again keeps the status and its start time (docs/compatibility.md).
    connect.put_user_status(InstanceId=iid, UserId=agent, AgentStatusId=statuses["Available"])
    [again] = _data(connect, iid, Agents=[agent])
    assert again["Status"] == now["Status"]


def test_put_user_status_refuses_unknown_and_disabled_statuses_and_users(world: World) -> None:
    connect = world.server.client("connect")
    iid = world.instance_id
    agent = _user_id(connect, iid, "agent2")
    closed = connect.create_agent_status(InstanceId=iid, Name="Closed", State="DISABLED")
    with pytest.raises(connect.exceptions.InvalidParameterException) as caught:
        connect.put_user_status(InstanceId=iid, UserId=agent, AgentStatusId=closed["AgentStatusId"])
    assert "disabled" in str(caught.value)
    with pytest.raises(connect.exceptions.InvalidParameterException):
        connect.put_user_status(InstanceId=iid, UserId=agent, AgentStatusId="no-such-status")
    with pytest.raises(connect.exceptions.ResourceNotFoundException):
        connect.put_user_status(
            InstanceId=iid,
            UserId="no-such-user",
            AgentStatusId=_status_ids(connect, iid)["Offline"],
        )
    [data] = _data(connect, iid, Agents=[agent])
    assert data["Status"]["StatusName"] == "Offline"


def test_get_current_user_data_filters_and_pages(world: World) -> None:
    connect = world.server.client("connect")
    iid = world.instance_id
    basic = next(
        q
        for q in connect.list_queues(InstanceId=iid)["QueueSummaryList"]
        if q["Name"] == "BasicQueue"
    )
    agents = {_user_id(connect, iid, name) for name in ("agent1", "agent2")}
    for filters in (
        {"Queues": [basic["Id"]]},
        {"Queues": [basic["Arn"]]},
        {"RoutingProfiles": [world.routing_profile]},
    ):
        assert {d["User"]["Id"] for d in _data(connect, iid, **filters)} >= agents
    assert _data(connect, iid, Queues=["no-such-queue"]) == []
    assert _data(connect, iid, UserHierarchyGroups=["no-such-group"]) == []
    assert (
        _data(
            connect,
            iid,
            RoutingProfiles=[world.routing_profile],
            ContactFilter={"ContactStates": ["CONNECTED"]},
        )
        == []
    )
    first = connect.get_current_user_data(
        InstanceId=iid, Filters={"RoutingProfiles": [world.routing_profile]}, MaxResults=1
    )
    assert len(first["UserDataList"]) == 1 and first["ApproximateTotalCount"] >= 2
    rest = connect.get_current_user_data(
        InstanceId=iid,
        Filters={"RoutingProfiles": [world.routing_profile]},
        NextToken=first["NextToken"],
    )
    seen = [d["User"]["Id"] for d in first["UserDataList"] + rest["UserDataList"]]
    assert len(seen) == len(set(seen)) == first["ApproximateTotalCount"]
    for bad in ({}, {"Agents": list(agents), "RoutingProfiles": [world.routing_profile]}):
        with pytest.raises(connect.exceptions.InvalidParameterException):
            connect.get_current_user_data(InstanceId=iid, Filters=bad)


def test_deleting_a_user_removes_their_state(world: World) -> None:
    connect = world.server.client("connect")
    iid = world.instance_id
    agent = world.add_agent("leaver")
    connect.put_user_status(
        InstanceId=iid, UserId=agent, AgentStatusId=_status_ids(connect, iid)["Available"]
    )
    connect.delete_user(InstanceId=iid, UserId=agent)
    assert _data(connect, iid, Agents=[agent]) == []
    with pytest.raises(connect.exceptions.ResourceNotFoundException):
        connect.put_user_status(
            InstanceId=iid, UserId=agent, AgentStatusId=_status_ids(connect, iid)["Available"]
        )


def test_iam_decides_on_the_agent_and_the_status(world: World) -> None:
    root = world.server.client("connect")
    iid = world.instance_id
    base = f"arn:aws:connect:us-east-1:{ACCOUNT_ID}:instance/{iid}"
    statuses = _status_ids(root, iid)
    agent1, agent2 = (_user_id(root, iid, n) for n in ("agent1", "agent2"))
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "connect:PutUserStatus",
                "Resource": [f"{base}/agent/{agent1}", f"{base}/agent-state/{statuses['Offline']}"],
            },
            {"Effect": "Allow", "Action": "connect:GetCurrentUserData", "Resource": base},
            {
                "Effect": "Allow",
                "Action": "connect:ListAgentStatuses",
                "Resource": "*",
                "Condition": {"StringEquals": {"connect:InstanceId": iid}},
            },
        ],
    }
    role = make_role(world.server, "Supervisor-agentstate", policy)
    supervisor = world.connect_as("supervisor", role)
    supervisor.put_user_status(InstanceId=iid, UserId=agent1, AgentStatusId=statuses["Offline"])
    assert _data(supervisor, iid, Agents=[agent1])[0]["Status"]["StatusName"] == "Offline"
    assert supervisor.list_agent_statuses(InstanceId=iid)["AgentStatusSummaryList"]
    denied = [
        (
            lambda: supervisor.put_user_status(
                InstanceId=iid, UserId=agent1, AgentStatusId=statuses["Available"]
            ),
            f"connect:PutUserStatus on resource: {base}/agent-state/{statuses['Available']}",
        ),
        (
            lambda: supervisor.put_user_status(
                InstanceId=iid, UserId=agent2, AgentStatusId=statuses["Offline"]
            ),
            f"connect:PutUserStatus on resource: {base}/agent/{agent2}",
        ),
        (
            lambda: supervisor.list_queues(InstanceId=iid),
            f"connect:ListQueues on resource: {base}/queue/*",
        ),
        (
            lambda: supervisor.describe_routing_profile(
                InstanceId=iid, RoutingProfileId=world.routing_profile
            ),
            f"{base}/routing-profile/{world.routing_profile}",
        ),
    ]
    for call, message in denied:
        with pytest.raises(supervisor.exceptions.AccessDeniedException) as caught:
            call()
        assert message in str(caught.value)


def test_aws_cli_puts_and_reads_the_status(world: World, tmp_path: Path) -> None:
    connect = world.server.client("connect")
    iid = world.instance_id
    agent = world.add_agent("cli-agent")
    statuses = _status_ids(connect, iid)
    env = clean_env(tmp_path, AWS_ACCESS_KEY_ID=ROOT_KEY, AWS_SECRET_ACCESS_KEY=ROOT_SECRET)
    common = ["--instance-id", iid, "--endpoint-url", world.server.url, "--region", "us-east-1"]
    aws(
        "connect",
        "put-user-status",
        "--user-id",
        agent,
        "--agent-status-id",
        statuses["Available"],
        *common,
        env=env,
    )
    out = aws(
        "connect",
        "get-current-user-data",
        "--filters",
        json.dumps({"Agents": [agent]}),
        *common,
        env=env,
    )
    [data] = json.loads(out.stdout)["UserDataList"]
    assert data["Status"]["StatusName"] == "Available"
    assert data["User"]["Id"] == agent
    failed = aws(
        "connect",
        "put-user-status",
        "--user-id",
        agent,
        "--agent-status-id",
        "no-such-status",
        *common,
        env=env,
        check=False,
    )
    assert failed.returncode != 0 and "InvalidParameterException" in failed.stderr


def test_instances_from_before_agent_data_get_their_defaults_on_first_use(tmp_path: Path) -> None:
    """An instance stored by an older server (no agent data) gets its defaults lazily."""
    store = open_store(f"sqlite://{tmp_path / 'connectfed.db'}")
    iid = "11111111-2222-3333-4444-555555555555"
    arn = f"arn:aws:connect:us-east-1:{ACCOUNT_ID}:instance/{iid}"
    store.create_instance(
        Instance(iid, ACCOUNT_ID, "us-east-1", arn, "old-one", "SAML", "ACTIVE", True, True, 1.0),
        [
            Profile(
                iid, "routing", "rp-old", "Basic Routing Profile", f"{arn}/routing-profile/rp-old"
            )
        ],
    )
    store.close()
    server = start_server(tmp_path, "--throttle-rate", "0")
    try:
        connect = server.client("connect")
        assert set(_status_ids(connect, iid)) == {"Available", "Offline"}
        members = connect.list_routing_profile_queues(InstanceId=iid, RoutingProfileId="rp-old")
        assert {m["QueueName"] for m in members["RoutingProfileQueueConfigSummaryList"]} == {
            "BasicQueue"
        }
    finally:
        server.stop()

"""PostgreSQL as the store: the federation flow, and several stateless servers on one database."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import postgres_or_skip
from tests.support.server import Server, start_server
from tests.support.world import build_world, federate_policy, make_role


@pytest.fixture
def two_servers(tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    url = postgres_or_skip()
    first = start_server(tmp_path / "a", "--throttle-rate", "0", database_url=url)
    second = start_server(tmp_path / "b", "--throttle-rate", "0", database_url=url)
    yield first, second
    first.stop()
    second.stop()


def test_federation_across_servers_sharing_one_postgres(two_servers: tuple[Server, Server]) -> None:
    first, second = two_servers
    world = build_world(first, "pg")
    creds = world.assume("agent1")
    # A session issued by one server is honoured by the other.
    connect = second.client(
        "connect", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
    )
    result = connect.get_federation_token(InstanceId=world.instance_id)
    assert result["Credentials"]["AccessToken"].startswith("cfa_")
    # The role binding made through the second server is seen by the first.
    other = make_role(first, "PgSecond", federate_policy("*"))
    via_first = world.connect_as("agent1", other)
    with pytest.raises(via_first.exceptions.DuplicateResourceException):
        via_first.get_federation_token(InstanceId=world.instance_id)


def test_restart_keeps_data(tmp_path: Path) -> None:
    url = postgres_or_skip()
    srv = start_server(tmp_path / "one", "--throttle-rate", "0", database_url=url)
    world = build_world(srv, "restart")
    srv.stop()
    again = start_server(tmp_path / "two", "--throttle-rate", "0", database_url=url)
    try:
        world.server = again
        assert world.connect_as("agent2").get_federation_token(InstanceId=world.instance_id)
    finally:
        again.stop()


def test_listings_page_completely_on_a_database_with_a_language_collation(tmp_path: Path) -> None:
    # PostgreSQL orders text by the database's collation (en: "Available" < "busy" <
    # "Offline"); pages resume after a name compared as Python compares it ("Offline" <
    # "busy"). Every status must still be listed exactly once, one per page.
    server = start_server(
        tmp_path, "--throttle-rate", "0", database_url=postgres_or_skip(icu_locale="en")
    )
    try:
        connect = server.client("connect")
        instance_id = connect.create_instance(
            IdentityManagementType="SAML",
            InstanceAlias="collation",
            InboundCallsEnabled=True,
            OutboundCallsEnabled=True,
        )["Id"]
        for name in ("busy", "lunch", "Meeting", "zzz"):
            connect.create_agent_status(InstanceId=instance_id, Name=name, State="ENABLED")
        pages = connect.get_paginator("list_agent_statuses").paginate(
            InstanceId=instance_id, PaginationConfig={"PageSize": 1}
        )
        names = [s["Name"] for page in pages for s in page["AgentStatusSummaryList"]]
        assert sorted(names) == sorted(["Available", "Offline", "busy", "lunch", "Meeting", "zzz"])
        assert len(names) == 6
    finally:
        server.stop()


def test_a_role_tagged_through_one_server_decides_on_the_other_within_the_cache_bound(
    two_servers: tuple[Server, Server],
) -> None:
    """docs/compatibility.md: an IAM change made through another server process is seen
    within cache_ttl_seconds (2 s); a role's tags are its sessions' aws:PrincipalTag."""
    first, second = two_servers
    world = build_world(first, "pgtags")
    role_name = world.role_arn.rsplit("/", 1)[1]
    policy = federate_policy("*", {"StringEquals": {"aws:PrincipalTag/team": "agents"}})
    first.client("iam").put_role_policy(
        RoleName=role_name, PolicyName="p", PolicyDocument=json.dumps(policy)
    )
    creds = world.assume("agent1")
    connect = second.client(
        "connect", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
    )
    with pytest.raises(connect.exceptions.AccessDeniedException):  # cached by the second
        connect.get_federation_token(InstanceId=world.instance_id)
    first.client("iam").tag_role(RoleName=role_name, Tags=[{"Key": "Team", "Value": "agents"}])
    tagged = time.monotonic()
    while True:
        try:
            connect.get_federation_token(InstanceId=world.instance_id)
            break
        except connect.exceptions.AccessDeniedException:
            assert time.monotonic() - tagged < 3.0, "the tag was not seen within the bound"
            time.sleep(0.1)

"""Declared worlds applied to real databases: idempotent, convergent where the services allow,
errors naming the line, and fixed keys and ids that unmodified boto3 uses."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import postgres_or_skip
from tests.support.server import ACCOUNT_ID, ROOT_KEY, ROOT_SECRET, SHARED_MASTER_KEY, start_server

INSTANCE = "0c8f1b52-7a3e-4d11-9b7e-2a6f1c9d3e01"
USER_KEY = "AKIABACKEND000000001"
USER_SECRET = "backendSecretKey000000000000000000000001"
OTHER_ROOT_KEY = "AKIAOTHERACCOUNT0001"
OTHER_SECRET = "otherAccountSecret0000000000000000000001"

WORLD = f"""\
iam:
  users:
    - name: backend
      access_keys:
        - {{access_key_id: {USER_KEY}, secret_access_key: {USER_SECRET}}}
      policies:
        assume:
          Version: "2012-10-17"
          Statement: [{{Effect: Allow, Action: sts:AssumeRole, Resource: "*"}}]
  roles:
    - name: Federation
      trust:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {{AWS: "arn:aws:iam::{{{{ account_id }}}}:user/backend"}}
            Action: sts:AssumeRole
      policies:
        federate:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Action: connect:GetFederationToken
              Resource: "arn:aws:connect:{{{{ region }}}}:{{{{ account_id }}}}:instance/\\
                {{{{ instances.main.id }}}}/user/${{aws:userid}}"
connect:
  instances:
    - ref: main
      id: {INSTANCE}
      alias: seeded
      agent_statuses: [{{name: Lunch, description: Out}}]
      queues: [{{name: Sales}}]
      routing_profiles:
        - {{name: Sales agents, default_outbound_queue: Sales, queues: [{{queue: Sales}}]}}
      users:
        - {{username: agent1, first_name: Ann, routing_profile: Sales agents}}
accounts:
  - id: "210987654321"
    root_access_keys:
      - {{access_key_id: {OTHER_ROOT_KEY}, secret_access_key: {OTHER_SECRET}}}
"""


def seed_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = dict(
        os.environ,
        CONNECTFED_ACCOUNT_ID=ACCOUNT_ID,
        CONNECTFED_ROOT_ACCESS_KEY_ID=ROOT_KEY,
        CONNECTFED_ROOT_SECRET_ACCESS_KEY=ROOT_SECRET,
        **(env or {}),
    )
    return subprocess.run(
        [sys.executable, "-m", "connectfed.cli.main", "seed", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


def test_a_world_applied_again_changes_nothing(tmp_path: Path) -> None:
    world = write(tmp_path / "world.yaml", WORLD)
    first = seed_cli(str(world), "--data-dir", str(tmp_path / "data"))
    assert first.returncode == 0, first.stderr
    assert "applied (" in first.stdout and "created   instance seeded" in first.stdout
    again = seed_cli(str(world), "--data-dir", str(tmp_path / "data"))
    assert again.returncode == 0, again.stderr
    changes = [
        line for line in again.stdout.splitlines() if line.startswith("  ") and "(line " in line
    ]
    assert len(changes) == 11
    assert all(line.split()[0] == "unchanged" for line in changes), again.stdout
    assert again.stdout.rstrip().endswith(f"{world}: unchanged")


def test_fixed_keys_and_ids_work_with_boto3(tmp_path: Path) -> None:
    world = write(tmp_path / "world.yaml", WORLD)
    srv = start_server(tmp_path / "data", "--seed", str(world), "--throttle-rate", "0")
    try:
        assert any("applied: " in line for line in srv.output)
        backend = srv.client("sts", USER_KEY, USER_SECRET)
        assert backend.get_caller_identity()["Arn"] == f"arn:aws:iam::{ACCOUNT_ID}:user/backend"
        other = srv.client("sts", OTHER_ROOT_KEY, OTHER_SECRET)
        assert other.get_caller_identity()["Account"] == "210987654321"
        creds = backend.assume_role(
            RoleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/Federation", RoleSessionName="agent1"
        )["Credentials"]
        connect = srv.client(
            "connect", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
        )
        token = connect.get_federation_token(InstanceId=INSTANCE)
        assert token["Credentials"]["AccessToken"]
        root = srv.client("connect")
        user = root.describe_user(InstanceId=INSTANCE, UserId=token["UserId"])["User"]
        profile = root.describe_routing_profile(
            InstanceId=INSTANCE, RoutingProfileId=user["RoutingProfileId"]
        )
        assert profile["RoutingProfile"]["Name"] == "Sales agents"
        statuses = root.list_agent_statuses(InstanceId=INSTANCE)["AgentStatusSummaryList"]
        assert "Lunch" in {s["Name"] for s in statuses}
    finally:
        srv.stop()


def test_a_changed_world_brings_what_can_change_to_the_declared_state(tmp_path: Path) -> None:
    world = write(tmp_path / "world.yaml", WORLD)
    data = str(tmp_path / "data")
    assert seed_cli(str(world), "--data-dir", data).returncode == 0
    new_secret = "rotatedSecretKey000000000000000000000001"
    changed = WORLD.replace(USER_SECRET, new_secret).replace("first_name: Ann", "first_name: Anna")
    changed = changed.replace('Resource: "*"', "Resource: arn:aws:iam::*:role/Federation")
    write(world, changed)
    done = seed_cli(str(world), "--data-dir", data)
    assert done.returncode == 0, done.stderr
    updated = {
        " ".join(line.split()[1:4])
        for line in done.stdout.splitlines()
        if line.strip().startswith("updated")
    }
    assert updated == {
        "access key AKIABACKEND000000001",
        "user policy backend/assume",
        "Connect user agent1",
    }
    srv = start_server(tmp_path / "data", "--throttle-rate", "0")
    try:
        with pytest.raises(ClientError):
            srv.client("sts", USER_KEY, USER_SECRET).get_caller_identity()
        assert (
            srv.client("sts", USER_KEY, new_secret).get_caller_identity()["Account"] == ACCOUNT_ID
        )
    finally:
        srv.stop()


def test_what_a_service_refuses_is_reported_at_its_line(tmp_path: Path) -> None:
    world = write(
        tmp_path / "world.yaml",
        """\
        iam:
          users:
            - name: u
              policies:
                broken:
                  Version: "2012-10-17"
                  Statement: [{Effect: Allow, Resource: "*"}]
        """,
    )
    done = seed_cli(str(world), "--data-dir", str(tmp_path / "data"))
    assert done.returncode == 2
    assert f"{world}:6:" in done.stderr and "MalformedPolicyDocument" in done.stderr


def test_an_unknown_security_profile_is_reported_with_the_known_ones(tmp_path: Path) -> None:
    world = write(
        tmp_path / "world.yaml",
        """\
        connect:
          instances:
            - alias: a
              users:
                - {username: x, security_profiles: [Agents]}
        """,
    )
    done = seed_cli(str(world), "--data-dir", str(tmp_path / "data"))
    assert done.returncode == 2
    assert f"{world}:5:" in done.stderr and "Agent, CallCenterManager" in done.stderr


def test_check_validates_without_a_database(tmp_path: Path) -> None:
    world = write(tmp_path / "world.yaml", "iam: {users: [{name: u, colour: red}]}\n")
    done = seed_cli("--check", str(world), "--data-dir", str(tmp_path / "data"))
    assert done.returncode == 2
    assert f"{world}:1:" in done.stderr and "iam.users[0].colour" in done.stderr
    assert not (tmp_path / "data").exists()


def test_serve_refuses_a_world_it_cannot_apply(tmp_path: Path) -> None:
    world = write(tmp_path / "world.yaml", "connect: {instances: [{alias: a, id: 7}]}\n")
    with pytest.raises(RuntimeError) as caught:
        start_server(tmp_path / "data", "--seed", str(world))
    assert "connect.instances[0].id" in str(caught.value)


def test_a_seeded_test_idp_serves_its_users(tmp_path: Path) -> None:
    world = write(
        tmp_path / "world.yaml",
        """\
        iam:
          saml_providers:
            - name: Corp
              test_idp:
                users: [{name: agent1, roles: [Agents]}]
        """,
    )
    srv = start_server(tmp_path / "data", "--seed", str(world), "--test-idp")
    try:
        page = urllib.request.urlopen(f"{srv.url}/idp", timeout=10).read().decode()
        assert "agent1" in page
        providers = srv.client("iam").list_saml_providers()["SAMLProviderList"]
        assert [p["Arn"] for p in providers] == [f"arn:aws:iam::{ACCOUNT_ID}:saml-provider/Corp"]
    finally:
        srv.stop()


@pytest.mark.postgres
def test_a_world_on_postgresql_applied_again_changes_nothing(tmp_path: Path) -> None:
    url = postgres_or_skip()
    world = write(tmp_path / "world.yaml", WORLD)
    env = {"CONNECTFED_MASTER_KEY": SHARED_MASTER_KEY}
    first = seed_cli(str(world), "--database-url", url, "--data-dir", str(tmp_path), env=env)
    assert first.returncode == 0, first.stderr
    again = seed_cli(str(world), "--database-url", url, "--data-dir", str(tmp_path), env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.rstrip().endswith(": unchanged")


TAGGED_WORLD = (
    """\
iam:
  users:
    - name: backend
      access_keys: [{access_key_id: KEY, secret_access_key: SECRET}]
      tags: {team: backend}
      policies:
        assume:
          Version: "2012-10-17"
          Statement: [{Effect: Allow, Action: sts:AssumeRole, Resource: "*"}]
  roles:
    - name: Agents
      trust: &trust
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {AWS: "arn:aws:iam::{{ account_id }}:user/backend"}
            Action: sts:AssumeRole
      tags: {team: agents, cost-center: "1234"}
      policies: &federate
        federate:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Action: connect:GetFederationToken
              Resource: "*"
              Condition: {StringEquals: {"aws:PrincipalTag/team": agents}}
    - name: Supervisors
      trust: *trust
      tags: {team: supervisors}
      policies: *federate
connect:
  instances:
    - id: INSTANCE
      alias: tagged
      users: [{username: agent1}, {username: agent2}]
""".replace("INSTANCE", INSTANCE)
    .replace("KEY", USER_KEY)
    .replace("SECRET", USER_SECRET)
)


def federates(srv: Any, role: str, agent: str, instance: str = INSTANCE) -> bool:
    """Whether a session of ``role`` for the Connect user ``agent`` (assumed by the seeded user
    through boto3) may call GetFederationToken on ``instance``."""
    creds = srv.client("sts", USER_KEY, USER_SECRET).assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/{role}", RoleSessionName=agent
    )["Credentials"]
    connect = srv.client(
        "connect", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
    )
    try:
        connect.get_federation_token(InstanceId=instance)
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "AccessDeniedException", exc.response
        return False
    return True


def tag_lines(output: str) -> dict[str, str]:
    """``{"role tags Agents": "unchanged", ...}`` from ``connectfed seed``'s report."""
    found = {}
    for line in output.splitlines():
        words = line.split()
        if len(words) > 3 and words[2] == "tags":
            found[" ".join(words[1:4])] = words[0]
    return found


def test_seeded_role_tags_decide_get_federation_token_by_principal_tag(tmp_path: Path) -> None:
    world = write(tmp_path / "world.yaml", TAGGED_WORLD)
    data = tmp_path / "data"
    srv = start_server(data, "--seed", str(world), "--throttle-rate", "0")
    try:
        iam = srv.client("iam")
        assert iam.list_role_tags(RoleName="Agents")["Tags"] == [
            {"Key": "cost-center", "Value": "1234"},
            {"Key": "team", "Value": "agents"},
        ]
        assert iam.list_user_tags(UserName="backend")["Tags"] == [
            {"Key": "team", "Value": "backend"}
        ]
        assert federates(srv, "Agents", "agent1")
        assert not federates(srv, "Supervisors", "agent2")
    finally:
        srv.stop()

    again = seed_cli(str(world), "--data-dir", str(data))
    assert again.returncode == 0, again.stderr
    assert tag_lines(again.stdout) == {
        "user tags backend": "unchanged",
        "role tags Agents": "unchanged",
        "role tags Supervisors": "unchanged",
    }, again.stdout

    write(world, TAGGED_WORLD.replace("team: supervisors", "team: agents, shift: night"))
    changed = seed_cli(str(world), "--data-dir", str(data))
    assert changed.returncode == 0, changed.stderr
    assert tag_lines(changed.stdout) == {
        "user tags backend": "unchanged",
        "role tags Agents": "unchanged",
        "role tags Supervisors": "updated",
    }, changed.stdout
    srv = start_server(data, "--throttle-rate", "0")
    try:
        assert srv.client("iam").list_role_tags(RoleName="Supervisors")["Tags"] == [
            {"Key": "shift", "Value": "night"},
            {"Key": "team", "Value": "agents"},
        ]
        assert federates(srv, "Supervisors", "agent2")
    finally:
        srv.stop()


OTHER_INSTANCE = "0c8f1b52-7a3e-4d11-9b7e-2a6f1c9d3e02"
CONNECT_TAGGED_WORLD = (
    """\
iam:
  users:
    - name: backend
      access_keys: [{access_key_id: KEY, secret_access_key: SECRET}]
      policies:
        assume:
          Version: "2012-10-17"
          Statement: [{Effect: Allow, Action: sts:AssumeRole, Resource: "*"}]
  roles:
    - name: Agents
      trust:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {AWS: "arn:aws:iam::{{ account_id }}:user/backend"}
            Action: sts:AssumeRole
      policies:
        federate:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Action: connect:GetFederationToken
              Resource: "*"
              Condition: {StringEquals: {"aws:ResourceTag/team": agents}}
connect:
  instances:
    - id: INSTANCE
      alias: tagged
      tags: {team: agents, Team: Agents}
      agent_statuses: [{name: Lunch, tags: {kind: break}}]
      queues: [{name: Sales, tags: {line: sales}}]
      routing_profiles:
        - name: Sales agents
          default_outbound_queue: Sales
          queues: [{queue: Sales}]
          tags: {line: sales}
      users:
        - username: alice
          tags: {team: agents, cost-center: "1234"}
    - id: OTHER
      alias: other
      tags: {team: support}
      users: [{username: bob}]
""".replace("OTHER", OTHER_INSTANCE)
    .replace("INSTANCE", INSTANCE)
    .replace("KEY", USER_KEY)
    .replace("SECRET", USER_SECRET)
)


def connect_tag_lines(output: str) -> dict[str, str]:
    """``{"instance tags tagged": "unchanged", ...}``: the tag entries of ``connectfed seed``'s
    report (``<outcome> <kind> tags <name> (line N)``)."""
    found = {}
    for line in output.splitlines():
        words = line.split()
        if " tags " in line and "(line" in line and words[1] != "role":
            found[" ".join(words[1:-2])] = words[0]
    return found


def tags_of(connect: Any, arn: str) -> dict[str, str]:
    found: dict[str, str] = connect.list_tags_for_resource(resourceArn=arn)["tags"]
    return found


def test_seeded_connect_tags_are_kept_listed_and_decide_federation_by_resource_tag(
    tmp_path: Path,
) -> None:
    world = write(tmp_path / "world.yaml", CONNECT_TAGGED_WORLD)
    data = tmp_path / "data"
    srv = start_server(data, "--seed", str(world), "--throttle-rate", "0")
    try:
        connect = srv.client("connect")
        (alice,) = connect.list_users(InstanceId=INSTANCE)["UserSummaryList"]
        described = connect.describe_user(InstanceId=INSTANCE, UserId=alice["Id"])["User"]
        assert described["Tags"] == {"team": "agents", "cost-center": "1234"}
        assert tags_of(connect, alice["Arn"]) == {"team": "agents", "cost-center": "1234"}
        instance_arn = connect.describe_instance(InstanceId=INSTANCE)["Instance"]["Arn"]
        assert tags_of(connect, instance_arn) == {"team": "agents", "Team": "Agents"}
        (queue,) = [
            q
            for q in connect.list_queues(InstanceId=INSTANCE)["QueueSummaryList"]
            if q.get("Name") == "Sales"
        ]
        assert tags_of(connect, queue["Arn"]) == {"line": "sales"}
        (status,) = [
            s
            for s in connect.list_agent_statuses(InstanceId=INSTANCE)["AgentStatusSummaryList"]
            if s["Name"] == "Lunch"
        ]
        assert tags_of(connect, status["Arn"]) == {"kind": "break"}
        (profile,) = [
            p
            for p in connect.list_routing_profiles(InstanceId=INSTANCE)["RoutingProfileSummaryList"]
            if p["Name"] == "Sales agents"
        ]
        assert tags_of(connect, profile["Arn"]) == {"line": "sales"}
        # The instance's aws:ResourceTag/team decides GetFederationToken.
        assert federates(srv, "Agents", "alice", INSTANCE)
        assert not federates(srv, "Agents", "bob", OTHER_INSTANCE)
        # A tag set through the API, which the file does not declare, stays.
        connect.tag_resource(resourceArn=alice["Arn"], tags={"extra": "kept"})
    finally:
        srv.stop()

    again = seed_cli(str(world), "--data-dir", str(data))
    assert again.returncode == 0, again.stderr
    unchanged = {
        "instance tags tagged": "unchanged",
        "agent status tags Lunch": "unchanged",
        "queue tags Sales": "unchanged",
        "routing profile tags Sales agents": "unchanged",
        "Connect user tags alice": "unchanged",
        "instance tags other": "unchanged",
    }
    assert connect_tag_lines(again.stdout) == unchanged, again.stdout
    assert again.stdout.rstrip().endswith(": unchanged"), again.stdout

    write(
        world,
        CONNECT_TAGGED_WORLD.replace("team: support", "team: agents, shift: night").replace(
            'cost-center: "1234"', 'cost-center: "5678"'
        ),
    )
    changed = seed_cli(str(world), "--data-dir", str(data))
    assert changed.returncode == 0, changed.stderr
    assert connect_tag_lines(changed.stdout) == unchanged | {
        "Connect user tags alice": "updated",
        "instance tags other": "updated",
    }, changed.stdout
    srv = start_server(data, "--throttle-rate", "0")
    try:
        connect = srv.client("connect")
        other_arn = connect.describe_instance(InstanceId=OTHER_INSTANCE)["Instance"]["Arn"]
        assert tags_of(connect, other_arn) == {"team": "agents", "shift": "night"}
        (alice,) = connect.list_users(InstanceId=INSTANCE)["UserSummaryList"]
        assert tags_of(connect, alice["Arn"]) == {
            "team": "agents",
            "cost-center": "5678",
            "extra": "kept",
        }
        assert federates(srv, "Agents", "bob", OTHER_INSTANCE)
    finally:
        srv.stop()


@pytest.mark.postgres
def test_connect_tags_on_postgresql_are_idempotent_and_updated(tmp_path: Path) -> None:
    url = postgres_or_skip()
    world = write(tmp_path / "world.yaml", CONNECT_TAGGED_WORLD)
    args = (str(world), "--database-url", url, "--data-dir", str(tmp_path))
    env = {"CONNECTFED_MASTER_KEY": SHARED_MASTER_KEY}
    first = seed_cli(*args, env=env)
    assert first.returncode == 0, first.stderr
    assert set(connect_tag_lines(first.stdout).values()) == {"created"}, first.stdout
    again = seed_cli(*args, env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.rstrip().endswith(": unchanged"), again.stdout
    write(world, CONNECT_TAGGED_WORLD.replace("kind: break", "kind: break, paid: unpaid"))
    changed = seed_cli(*args, env=env)
    assert changed.returncode == 0, changed.stderr
    assert connect_tag_lines(changed.stdout)["agent status tags Lunch"] == "updated"

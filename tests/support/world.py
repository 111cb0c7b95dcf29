"""Build a federation world through the real API (IAM, STS, Connect) with boto3."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tests.support.server import ACCOUNT_ID, Server

DOCUMENTED_USERID_POLICY = (
    "arn:aws:connect:{region}:{account}:instance/{instance}/user/${{aws:userid}}"
)


@dataclass
class World:
    server: Server
    instance_id: str
    role_arn: str
    caller_key: str
    caller_secret: str
    security_profile: str
    routing_profile: str

    def assume(self, session_name: str, role_arn: str | None = None, **kw: Any) -> dict[str, Any]:
        sts = self.server.client("sts", self.caller_key, self.caller_secret)
        creds = sts.assume_role(
            RoleArn=role_arn or self.role_arn, RoleSessionName=session_name, **kw
        )["Credentials"]
        return creds

    def connect_as(self, session_name: str, role_arn: str | None = None) -> Any:
        c = self.assume(session_name, role_arn)
        return self.server.client(
            "connect", c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"]
        )

    def add_agent(self, username: str, instance_id: str | None = None) -> str:
        root = self.server.client("connect")
        return str(
            root.create_user(
                InstanceId=instance_id or self.instance_id,
                Username=username,
                PhoneConfig={"PhoneType": "SOFT_PHONE"},
                SecurityProfileIds=[self.security_profile],
                RoutingProfileId=self.routing_profile,
            )["UserId"]
        )


def trust_account(account: str = ACCOUNT_ID) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )


def make_role(server: Server, name: str, policy: dict[str, Any] | None) -> str:
    iam = server.client("iam")
    arn = str(
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust_account())["Role"]["Arn"]
    )
    if policy is not None:
        iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    return arn


def federate_policy(
    resource: str | list[str], condition: dict[str, Any] | None = None
) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Action": "connect:GetFederationToken",
        "Resource": resource,
    }
    if condition:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


def build_world(server: Server, name: str = "w", identity: str = "SAML") -> World:
    connect = server.client("connect")
    instance_id = connect.create_instance(
        IdentityManagementType=identity,
        InstanceAlias=f"alias-{name}",
        InboundCallsEnabled=True,
        OutboundCallsEnabled=True,
    )["Id"]
    profiles = connect.list_security_profiles(InstanceId=instance_id)["SecurityProfileSummaryList"]
    agent = next(p["Id"] for p in profiles if p["Name"] == "Agent")
    routing = connect.list_routing_profiles(InstanceId=instance_id)["RoutingProfileSummaryList"][0][
        "Id"
    ]
    resource = DOCUMENTED_USERID_POLICY.format(
        region=server.region, account=ACCOUNT_ID, instance=instance_id
    )
    role_arn = make_role(server, f"Federation-{name}", federate_policy(resource))
    iam = server.client("iam")
    iam.create_user(UserName=f"caller-{name}")
    iam.put_user_policy(
        UserName=f"caller-{name}",
        PolicyName="assume",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}],
            }
        ),
    )
    key = iam.create_access_key(UserName=f"caller-{name}")["AccessKey"]
    world = World(
        server, instance_id, role_arn, key["AccessKeyId"], key["SecretAccessKey"], agent, routing
    )
    if identity == "SAML":
        for agent_name in ("agent1", "agent2"):
            world.add_agent(agent_name)
    return world

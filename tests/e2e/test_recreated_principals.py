"""A user or role deleted and recreated under the same name is a new principal (new unique id):
it inherits no session, key, policy or Connect role binding of its namesake, as on AWS."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.server import ACCOUNT_ID, Server
from tests.support.world import (
    DOCUMENTED_USERID_POLICY,
    build_world,
    federate_policy,
    trust_account,
)

EVERYTHING = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


def _code(call: Any, **params: Any) -> tuple[str, int]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    response = caught.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def _session_clients(server: Server, creds: dict[str, Any]) -> dict[str, Any]:
    return {
        service: server.client(
            service, creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
        )
        for service in ("sts", "iam", "connect")
    }


def test_a_deleted_roles_sessions_are_refused_after_a_namesake_is_created(server: Server) -> None:
    world = build_world(server, "recreate")
    iam = server.client("iam")
    role_name = world.role_arn.rsplit("/", 1)[-1]
    old_id = iam.get_role(RoleName=role_name)["Role"]["RoleId"]
    old = _session_clients(server, world.assume("agent1"))
    assert old["connect"].get_federation_token(InstanceId=world.instance_id)  # binds agent1
    assert old["sts"].get_caller_identity()["UserId"] == f"{old_id}:agent1"

    iam.delete_role_policy(RoleName=role_name, PolicyName="p")
    iam.delete_role(RoleName=role_name)
    new_id = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=trust_account())["Role"][
        "RoleId"
    ]
    iam.put_role_policy(RoleName=role_name, PolicyName="p", PolicyDocument=json.dumps(EVERYTHING))
    assert new_id != old_id

    # The old session gets neither the new role's permissions nor even recognition.
    assert _code(old["sts"].get_caller_identity) == ("InvalidClientTokenId", 403)
    assert _code(old["iam"].list_users) == ("InvalidClientTokenId", 403)
    assert _code(old["connect"].get_federation_token, InstanceId=world.instance_id) == (
        "UnrecognizedClientException",
        403,
    )

    # The new role works, but the Connect user stays bound to the old role's id.
    new = _session_clients(server, world.assume("agent1"))
    assert new["sts"].get_caller_identity()["UserId"] == f"{new_id}:agent1"
    with pytest.raises(new["connect"].exceptions.DuplicateResourceException):
        new["connect"].get_federation_token(InstanceId=world.instance_id)
    fresh = _session_clients(server, world.assume("agent2"))
    assert fresh["connect"].get_federation_token(InstanceId=world.instance_id)["UserId"]


def test_a_role_with_policies_cannot_be_deleted(server: Server) -> None:
    iam = server.client("iam")
    iam.create_role(RoleName="KeepsPolicies", AssumeRolePolicyDocument=trust_account())
    iam.put_role_policy(
        RoleName="KeepsPolicies", PolicyName="p", PolicyDocument=json.dumps(EVERYTHING)
    )
    with pytest.raises(iam.exceptions.DeleteConflictException):
        iam.delete_role(RoleName="KeepsPolicies")
    assert iam.get_role(RoleName="KeepsPolicies")["Role"]["RoleName"] == "KeepsPolicies"


def test_a_recreated_user_has_none_of_its_namesakes_keys_or_policies(server: Server) -> None:
    iam = server.client("iam")
    old_id = iam.create_user(UserName="phoenix")["User"]["UserId"]
    key = iam.create_access_key(UserName="phoenix")["AccessKey"]
    iam.put_user_policy(UserName="phoenix", PolicyName="all", PolicyDocument=json.dumps(EVERYTHING))
    as_old = server.client("iam", key["AccessKeyId"], key["SecretAccessKey"])
    assert as_old.list_users()["Users"]  # the policy applies
    with pytest.raises(iam.exceptions.DeleteConflictException):
        iam.delete_user(UserName="phoenix")  # AWS: keys and policies first
    iam.delete_access_key(UserName="phoenix", AccessKeyId=key["AccessKeyId"])
    iam.delete_user_policy(UserName="phoenix", PolicyName="all")
    iam.delete_user(UserName="phoenix")

    new_id = iam.create_user(UserName="phoenix")["User"]["UserId"]
    assert new_id != old_id
    assert iam.list_access_keys(UserName="phoenix")["AccessKeyMetadata"] == []
    assert iam.list_user_policies(UserName="phoenix")["PolicyNames"] == []
    assert _code(as_old.list_users) == ("InvalidClientTokenId", 403)
    old_sts = server.client("sts", key["AccessKeyId"], key["SecretAccessKey"])
    assert _code(old_sts.get_caller_identity) == ("InvalidClientTokenId", 403)
    new_key = iam.create_access_key(UserName="phoenix")["AccessKey"]
    as_new = server.client("iam", new_key["AccessKeyId"], new_key["SecretAccessKey"])
    assert _code(as_new.list_users) == ("AccessDenied", 403)  # no policy inherited


def test_an_iam_user_binding_belongs_to_its_user_id(server: Server) -> None:
    world = build_world(server, "userbind")
    iam = server.client("iam")
    resource = DOCUMENTED_USERID_POLICY.format(
        region=server.region, account=ACCOUNT_ID, instance=world.instance_id
    )

    def federating_user() -> Any:
        iam.create_user(UserName="agent1")
        iam.put_user_policy(
            UserName="agent1",
            PolicyName="f",
            PolicyDocument=json.dumps(federate_policy([resource, "*"])),
        )
        key = iam.create_access_key(UserName="agent1")["AccessKey"]
        return key, server.client("connect", key["AccessKeyId"], key["SecretAccessKey"])

    key, connect = federating_user()
    assert connect.get_federation_token(InstanceId=world.instance_id)["UserId"]
    iam.delete_access_key(UserName="agent1", AccessKeyId=key["AccessKeyId"])
    iam.delete_user_policy(UserName="agent1", PolicyName="f")
    iam.delete_user(UserName="agent1")
    assert _code(connect.get_federation_token, InstanceId=world.instance_id) == (
        "UnrecognizedClientException",
        403,
    )
    _, again = federating_user()
    with pytest.raises(again.exceptions.DuplicateResourceException):
        again.get_federation_token(InstanceId=world.instance_id)

"""The IAM and STS administrative API as boto3 sees it: what IAM answers for entities that do
not exist, conflicts, key status and the parameters STS cannot honour."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.e2e.test_awscli import aws
from tests.support.aws_env import clean_env
from tests.support.server import ACCOUNT_ID, ROOT_KEY, ROOT_SECRET, Server


def _keyed_user(server: Server, name: str, actions: list[str] | None = None) -> tuple[str, str]:
    """A new IAM user allowed ``actions`` (nothing when None), and its key."""
    iam = server.client("iam")
    iam.create_user(UserName=name)
    if actions:
        statement = {"Effect": "Allow", "Action": actions, "Resource": "*"}
        document = {"Version": "2012-10-17", "Statement": [statement]}
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(document))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def _error(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


@pytest.mark.parametrize(
    ("call", "action", "resource"),
    [
        (lambda iam: iam.get_user(UserName="qa-ghost"), "GetUser", "user qa-ghost"),
        (lambda iam: iam.delete_user(UserName="qa-ghost"), "DeleteUser", "user qa-ghost"),
        (
            lambda iam: iam.list_access_keys(UserName="qa-ghost"),
            "ListAccessKeys",
            "user qa-ghost",
        ),
        (
            lambda iam: iam.list_user_policies(UserName="qa-ghost"),
            "ListUserPolicies",
            "user qa-ghost",
        ),
        (lambda iam: iam.get_role(RoleName="QaGhost"), "GetRole", "role QaGhost"),
        (
            lambda iam: iam.get_role_policy(RoleName="QaGhost", PolicyName="p"),
            "GetRolePolicy",
            "role QaGhost",
        ),
        (lambda iam: iam.list_role_tags(RoleName="QaGhost"), "ListRoleTags", "role QaGhost"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_a_caller_without_permission_cannot_tell_missing_users_and_roles(
    server: Server, call: object, action: str, resource: str
) -> None:
    # A user or role that does not exist is AccessDenied, as one that does, to a caller not
    # allowed the action (it learns nothing of which names exist); NoSuchEntity to one allowed.
    assert callable(call)
    name = f"qa-probe-{action.lower()}"
    denied = server.client("iam", *_keyed_user(server, name, ["sts:GetCallerIdentity"]))
    with pytest.raises(ClientError) as caught:
        call(denied)
    code, message = _error(caught)
    assert code == "AccessDenied"
    assert message == (
        f"User: arn:aws:iam::{ACCOUNT_ID}:user/{name} is not authorized to perform: "
        f"iam:{action} on resource: {resource}"
    )
    allowed = server.client("iam", *_keyed_user(server, f"{name}-ok", [f"iam:{action}"]))
    with pytest.raises(ClientError) as caught:
        call(allowed)
    assert _error(caught)[0] == "NoSuchEntity"


@pytest.mark.parametrize("kind", ["user", "role"])
def test_a_refusal_names_a_user_or_role_as_asked_never_by_its_arn(
    server: Server, kind: str
) -> None:
    # IAM's message names the entity as "user <name>" / "role <name>". An ARN would tell an
    # existing one from a missing one: its path ("/division/") and its name's case are the
    # stored ones, where a missing one's could only be the root path and the case asked.
    iam = server.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": ACCOUNT_ID}, "Action": "sts:AssumeRole"}
        ],
    }
    if kind == "user":
        iam.create_user(UserName="qa-pathed-user", Path="/division/")
    else:
        iam.create_role(
            RoleName="qa-pathed-role", Path="/division/", AssumeRolePolicyDocument=json.dumps(trust)
        )
    denied = server.client(
        "iam", *_keyed_user(server, f"qa-nosy-{kind}", ["sts:GetCallerIdentity"])
    )
    messages = []
    for name in (f"QA-PATHED-{kind.upper()}", f"QA-MISSING-{kind.upper()}"):
        with pytest.raises(ClientError) as caught:
            if kind == "user":
                denied.get_user(UserName=name)
            else:
                denied.get_role(RoleName=name)
        code, message = _error(caught)
        assert code == "AccessDenied"
        messages.append(message.replace(name, "<name>"))
    assert messages[0] == messages[1]
    assert messages[0].endswith(f"iam:Get{kind.title()} on resource: {kind} <name>")


def test_delete_user_names_what_must_be_deleted_first(server: Server) -> None:
    # IAM names the one thing in the way ("must delete access keys first"), as tools such as
    # Terraform show it; a message naming both sent users after policies they did not have.
    iam = server.client("iam")
    iam.create_user(UserName="qa-conflicted")
    key = iam.create_access_key(UserName="qa-conflicted")["AccessKey"]["AccessKeyId"]
    with pytest.raises(iam.exceptions.DeleteConflictException) as caught:
        iam.delete_user(UserName="qa-conflicted")
    assert _error(caught) == (
        "DeleteConflict",
        "Cannot delete entity, must delete access keys first.",
    )
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}],
    }
    iam.put_user_policy(
        UserName="qa-conflicted", PolicyName="p", PolicyDocument=json.dumps(document)
    )
    iam.delete_access_key(UserName="qa-conflicted", AccessKeyId=key)
    with pytest.raises(iam.exceptions.DeleteConflictException) as caught:
        iam.delete_user(UserName="qa-conflicted")
    assert _error(caught)[1] == "Cannot delete entity, must delete policies first."
    iam.delete_user_policy(UserName="qa-conflicted", PolicyName="p")
    iam.delete_user(UserName="qa-conflicted")


def test_an_inactive_key_signs_nothing_until_it_is_active_again(server: Server) -> None:
    # UpdateAccessKey, the first step of IAM's key rotation: the key stays listed, Inactive,
    # and every request it signs is InvalidClientTokenId, until it is made Active again.
    iam = server.client("iam")
    key, secret = _keyed_user(server, "qa-rotating", ["sts:GetCallerIdentity"])
    sts = server.client("sts", key, secret)
    assert sts.get_caller_identity()["Arn"].endswith(":user/qa-rotating")
    iam.update_access_key(UserName="qa-rotating", AccessKeyId=key, Status="Inactive")
    (listed,) = iam.list_access_keys(UserName="qa-rotating")["AccessKeyMetadata"]
    assert (listed["AccessKeyId"], listed["Status"]) == (key, "Inactive")
    with pytest.raises(ClientError) as caught:
        sts.get_caller_identity()
    assert _error(caught) == (
        "InvalidClientTokenId",
        "The security token included in the request is invalid.",
    )
    iam.update_access_key(UserName="qa-rotating", AccessKeyId=key, Status="Active")
    assert sts.get_caller_identity()["Arn"].endswith(":user/qa-rotating")


def test_update_access_key_acts_on_the_callers_own_keys_and_no_one_elses(server: Server) -> None:
    iam = server.client("iam")
    key, secret = _keyed_user(server, "qa-self-rotating", ["iam:*Key*"])
    iam.create_user(UserName="qa-rotating-other")
    other = iam.create_access_key(UserName="qa-rotating-other")["AccessKey"]
    own = server.client("iam", key, secret)
    second = own.create_access_key()["AccessKey"]  # no UserName: the caller's own
    own.update_access_key(AccessKeyId=second["AccessKeyId"], Status="Inactive")
    statuses = {k["AccessKeyId"]: k["Status"] for k in own.list_access_keys()["AccessKeyMetadata"]}
    assert statuses == {key: "Active", second["AccessKeyId"]: "Inactive"}
    with pytest.raises(iam.exceptions.NoSuchEntityException) as caught:
        own.update_access_key(AccessKeyId=other["AccessKeyId"], Status="Inactive")
    assert _error(caught)[1] == f"The Access Key with id {other['AccessKeyId']} cannot be found."
    with pytest.raises(ClientError) as caught:
        iam.update_access_key(UserName="qa-self-rotating", AccessKeyId=key, Status="Expired")
    assert _error(caught)[0] == "InvalidInput"


def test_aws_cli_deactivates_a_key_that_then_signs_nothing(server: Server, tmp_path: Path) -> None:
    key, secret = _keyed_user(server, "qa-cli-rotating")
    admin = clean_env(tmp_path, AWS_ACCESS_KEY_ID=ROOT_KEY, AWS_SECRET_ACCESS_KEY=ROOT_SECRET)
    own = clean_env(tmp_path, AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret)
    common = ["--endpoint-url", server.url, "--region", "us-east-1"]
    status = ["iam", "update-access-key", "--user-name", "qa-cli-rotating", "--access-key-id", key]
    aws(*status, "--status", "Inactive", *common, env=admin)
    listed = aws("iam", "list-access-keys", "--user-name", "qa-cli-rotating",
                 "--query", "AccessKeyMetadata[].Status", *common, env=admin)  # fmt: skip
    assert json.loads(listed.stdout) == ["Inactive"]
    refused = aws("sts", "get-caller-identity", *common, env=own, check=False)
    assert refused.returncode == 255
    assert (
        "(InvalidClientTokenId) when calling the GetCallerIdentity operation: "
        "The security token included in the request is invalid."
    ) in refused.stderr
    expired = aws(*status, "--status", "Expired", *common, env=admin, check=False)
    assert (expired.returncode, "(InvalidInput)" in expired.stderr) == (255, True)
    aws(*status, "--status", "Active", *common, env=admin)
    arn = json.loads(aws("sts", "get-caller-identity", *common, env=own).stdout)["Arn"]
    assert arn == f"arn:aws:iam::{ACCOUNT_ID}:user/qa-cli-rotating"


@pytest.mark.parametrize(
    "mfa",
    [
        {"SerialNumber": f"arn:aws:iam::{ACCOUNT_ID}:mfa/qa-mfa", "TokenCode": "123456"},
        {"SerialNumber": f"arn:aws:iam::{ACCOUNT_ID}:mfa/qa-mfa"},
        {"TokenCode": "123456"},
    ],
    ids=["serial-and-code", "serial", "code"],
)
def test_assume_role_refuses_an_mfa_code_it_cannot_validate(
    server: Server, mfa: dict[str, str]
) -> None:
    # connectfed has no MFA devices, so no code can be validated: STS's answer for a serial
    # number not associated with the caller. Taken silently, the session was issued as if the
    # code had been checked.
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam = server.client("iam")
    role = f"QaMfa{len(mfa)}{''.join(sorted(mfa))}"
    arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    sts = server.client("sts", *_keyed_user(server, f"qa-mfa-{role.lower()}", ["sts:AssumeRole"]))
    assert sts.assume_role(RoleArn=arn, RoleSessionName="no-mfa")["Credentials"]
    with pytest.raises(ClientError) as caught:
        sts.assume_role(RoleArn=arn, RoleSessionName="with-mfa", **mfa)
    assert _error(caught) == (
        "AccessDenied",
        "MultiFactorAuthentication failed, unable to validate MFA code.  Please verify your MFA "
        "serial number is valid and associated with this user.",
    )
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403

"""IAM and STS through boto3: the subset users need to set up federation."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from connectfed.saml.testidp import TestIdp
from tests.support.server import ACCOUNT_ID, Server
from tests.support.world import trust_account


def test_iam_users_keys_and_policies_round_trip(server: Server) -> None:
    iam = server.client("iam")
    user = iam.create_user(UserName="round-trip")["User"]
    assert user["UserId"].startswith("AIDA") and len(user["UserId"]) == 21
    assert user["Arn"] == f"arn:aws:iam::{ACCOUNT_ID}:user/round-trip"
    with pytest.raises(iam.exceptions.EntityAlreadyExistsException):
        iam.create_user(UserName="ROUND-TRIP")
    key = iam.create_access_key(UserName="round-trip")["AccessKey"]
    assert key["AccessKeyId"].startswith("AKIA") and len(key["SecretAccessKey"]) == 40
    doc = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:*", "Resource": "*"}],
    }
    iam.put_user_policy(UserName="round-trip", PolicyName="p", PolicyDocument=json.dumps(doc))
    assert iam.list_user_policies(UserName="round-trip")["PolicyNames"] == ["p"]
    assert iam.get_user_policy(UserName="round-trip", PolicyName="p")["PolicyDocument"] == doc
    with pytest.raises(iam.exceptions.DeleteConflictException):
        iam.delete_user(UserName="round-trip")
    me = server.client("sts", key["AccessKeyId"], key["SecretAccessKey"]).get_caller_identity()
    assert me["Arn"] == user["Arn"] and me["UserId"] == user["UserId"]
    iam.delete_user_policy(UserName="round-trip", PolicyName="p")
    iam.delete_access_key(UserName="round-trip", AccessKeyId=key["AccessKeyId"])
    iam.delete_user(UserName="round-trip")
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_user(UserName="round-trip")
    with pytest.raises(ClientError) as caught:
        server.client("sts", key["AccessKeyId"], key["SecretAccessKey"]).get_caller_identity()
    assert caught.value.response["Error"]["Code"] == "InvalidClientTokenId"


def test_roles_and_trust_policies(server: Server) -> None:
    iam = server.client("iam")
    role = iam.create_role(
        RoleName="TrustMe", AssumeRolePolicyDocument=trust_account(), MaxSessionDuration=7200
    )["Role"]
    assert role["RoleId"].startswith("AROA")
    assert iam.get_role(RoleName="TrustMe")["Role"]["MaxSessionDuration"] == 7200
    with pytest.raises(iam.exceptions.MalformedPolicyDocumentException):
        iam.update_assume_role_policy(RoleName="TrustMe", PolicyDocument="{not json")
    # Every page (the session's server holds other tests' roles: more than one page of 100).
    pages = iam.get_paginator("list_roles").paginate()
    assert any(r["RoleName"] == "TrustMe" for page in pages for r in page["Roles"])


def test_policy_documents_come_back_percent_encoded_as_iam_sends_them(server: Server) -> None:
    # IAM percent-encodes every policy document it answers with; botocore unquotes it. Sent
    # plain, a "%41" in a condition value came back to boto3 as "A".
    iam = server.client("iam")
    odd = {"StringEquals": {"sts:ExternalId": "a%41b c+d/é"}}
    trust = json.loads(trust_account())
    trust["Statement"][0]["Condition"] = odd
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*", "Condition": odd}],
    }
    wire: list[str] = []

    def keep(http_response: Any, **_: Any) -> None:
        wire.append(http_response.text)

    iam.meta.events.register("after-call.iam.GetRole", keep)
    iam.create_role(RoleName="Encoded", AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(RoleName="Encoded", PolicyName="p", PolicyDocument=json.dumps(policy))
    iam.create_user(UserName="encoded")
    iam.put_user_policy(UserName="encoded", PolicyName="p", PolicyDocument=json.dumps(policy))
    assert iam.get_role(RoleName="Encoded")["Role"]["AssumeRolePolicyDocument"] == trust
    created = iam.create_role(RoleName="Encoded2", AssumeRolePolicyDocument=json.dumps(trust))
    assert created["Role"]["AssumeRolePolicyDocument"] == trust
    listed = [
        r
        for page in iam.get_paginator("list_roles").paginate()
        for r in page["Roles"]
        if r["RoleName"] == "Encoded"
    ]
    assert listed[0]["AssumeRolePolicyDocument"] == trust
    got = iam.get_role_policy(RoleName="Encoded", PolicyName="p")["PolicyDocument"]
    assert got == policy
    got = iam.get_user_policy(UserName="encoded", PolicyName="p")["PolicyDocument"]
    assert got == policy
    # What the JavaScript and Go SDKs hand their callers: the encoded text.
    assert "<AssumeRolePolicyDocument>%7B%22Version%22%3A" in wire[0]
    assert "a%2541b%20c%2Bd%2F" in wire[0]


def test_a_permissions_boundary_is_refused_not_ignored(server: Server) -> None:
    # No boundary is evaluated here: one taken and ignored left the user or role with more
    # than its creator allowed. Refused, and nothing is created.
    iam = server.client("iam")
    boundary = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    for create, kind in (
        (lambda: iam.create_user(UserName="Bounded", PermissionsBoundary=boundary), "user"),
        (
            lambda: iam.create_role(
                RoleName="Bounded",
                AssumeRolePolicyDocument=trust_account(),
                PermissionsBoundary=boundary,
            ),
            "role",
        ),
    ):
        with pytest.raises(iam.exceptions.InvalidInputException) as caught:
            create()
        assert "PermissionsBoundary" in caught.value.response["Error"]["Message"]
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        with pytest.raises(iam.exceptions.NoSuchEntityException):
            iam.get_user(UserName="Bounded") if kind == "user" else iam.get_role(RoleName="Bounded")


def test_carriage_returns_in_stored_text_come_back(server: Server) -> None:
    # A literal CR in XML is end-of-line, read as "\n": metadata exported on Windows (CRLF)
    # and descriptions came back changed until CR went out as a character reference.
    iam = server.client("iam")
    metadata = TestIdp(entity_id="https://idp.example.test/crlf").metadata()
    metadata = metadata.replace("><", ">\r\n<")
    arn = iam.create_saml_provider(SAMLMetadataDocument=metadata, Name="crlf")["SAMLProviderArn"]
    assert iam.get_saml_provider(SAMLProviderArn=arn)["SAMLMetadataDocument"] == metadata
    description = "first line\r\nsecond\rthird"
    iam.create_role(
        RoleName="Crlf", AssumeRolePolicyDocument=trust_account(), Description=description
    )
    assert iam.get_role(RoleName="Crlf")["Role"]["Description"] == description


def test_root_cannot_assume_roles(server: Server) -> None:
    iam = server.client("iam")
    arn = iam.create_role(RoleName="NoRoot", AssumeRolePolicyDocument=trust_account())["Role"][
        "Arn"
    ]
    with pytest.raises(ClientError) as caught:
        server.client("sts").assume_role(RoleArn=arn, RoleSessionName="s1")
    assert caught.value.response["Error"]["Code"] == "AccessDenied"


def _caller(server: Server, name: str, actions: str = "sts:AssumeRole") -> tuple[str, str]:
    iam = server.client("iam")
    iam.create_user(UserName=name)
    iam.put_user_policy(
        UserName=name,
        PolicyName="p",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}],
            }
        ),
    )
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def test_assume_role_needs_trust_and_identity_permission(server: Server) -> None:
    iam = server.client("iam")
    arn = iam.create_role(RoleName="Guarded", AssumeRolePolicyDocument=trust_account())["Role"][
        "Arn"
    ]
    allowed = server.client("sts", *_caller(server, "may-assume"))
    result = allowed.assume_role(RoleArn=arn, RoleSessionName="sess-1")
    assert result["AssumedRoleUser"]["Arn"] == (
        f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/Guarded/sess-1"
    )
    assert result["Credentials"]["AccessKeyId"].startswith("ASIA")
    refused = server.client("sts", *_caller(server, "may-not", "iam:GetUser"))
    with pytest.raises(ClientError) as caught:
        refused.assume_role(RoleArn=arn, RoleSessionName="sess-1")
    assert caught.value.response["Error"]["Code"] == "AccessDenied"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_duration_is_bounded_by_the_roles_maximum(server: Server) -> None:
    iam = server.client("iam")
    arn = iam.create_role(RoleName="Short", AssumeRolePolicyDocument=trust_account())["Role"]["Arn"]
    sts = server.client("sts", *_caller(server, "wants-long"))
    with pytest.raises(ClientError) as caught:
        sts.assume_role(RoleArn=arn, RoleSessionName="s1", DurationSeconds=7200)
    assert "MaxSessionDuration" in caught.value.response["Error"]["Message"]


def test_session_name_pattern_is_validated(server: Server) -> None:
    sts = server.client("sts", *_caller(server, "bad-names"))
    with pytest.raises(ClientError) as caught:
        sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/Any", RoleSessionName="has space")
    error = caught.value.response["Error"]
    assert error["Code"] == "ValidationError"
    assert "at 'roleSessionName' failed to satisfy constraint" in error["Message"]


def test_trust_policy_naming_the_user_needs_no_identity_permission(server: Server) -> None:
    key, secret = _caller(server, "named-one", "iam:GetUser")
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:user/named-one"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )
    arn = server.client("iam").create_role(RoleName="Named", AssumeRolePolicyDocument=trust)[
        "Role"
    ]["Arn"]
    assert server.client("sts", key, secret).assume_role(RoleArn=arn, RoleSessionName="ok1")

"""Every IAM, STS and Connect write (and with ``serve --audit-reads``, every read) recorded as a
CloudTrail management event, through the real server with boto3 and the AWS CLI: AssumeRole
with its parameters and credentials' key id only, IAM writes with their policy documents,
Connect writes with their resources, failures with their error, no second event for a call that
records its own or was denied, reads only when asked for, and no secret anywhere."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from connectfed.client import AdminClient, FaultSpec
from connectfed.saml.testidp import SigningKey, TestIdp
from tests.support.admin import start_admin_server
from tests.support.aws_env import clean_env
from tests.support.saml_world import SamlWorld, build_saml_world
from tests.support.server import ACCOUNT_ID, ROOT_KEY, ROOT_SECRET, Server, start_server
from tests.support.world import World, build_world, trust_account

INLINE_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "connect:DescribeUser", "Resource": "*"}],
}


@dataclass
class Calls:
    """A server after a federation's calls, with the request ids and secrets they had."""

    server: Server
    app: World  # the usual federation: an app's IAM user assumes the federation role
    saml: SamlWorld
    ids: dict[str, str] = field(default_factory=dict)
    secrets: list[str] = field(default_factory=list)
    answers: dict[str, Any] = field(default_factory=dict)

    def events(self, **kw: Any) -> list[dict[str, Any]]:
        paginator = self.server.client("cloudtrail").get_paginator("lookup_events")
        return [e for page in paginator.paginate(**kw) for e in page["Events"]]

    def of(self, request_id: str) -> list[dict[str, Any]]:
        """The CloudTrail records of the request with this id."""
        records = [json.loads(e["CloudTrailEvent"]) for e in self.events()]
        return [r for r in records if r["requestID"] == request_id]

    def one(self, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """The event of the call named ``name`` in ``ids`` (exactly one), and its record."""
        found = [
            e
            for e in self.events()
            if json.loads(e["CloudTrailEvent"])["requestID"] == self.ids[name]
        ]
        assert len(found) == 1, (name, [e["EventName"] for e in found])
        return found[0], json.loads(found[0]["CloudTrailEvent"])


def _request_id(answer: dict[str, Any]) -> str:
    return str(answer["ResponseMetadata"]["RequestId"])


def _make_calls(server: Server) -> Calls:
    app = build_world(server, "app")
    saml = build_saml_world(server, "calls")
    world = saml.world
    calls = Calls(server, app, saml)
    ids, secrets = calls.ids, calls.secrets
    secrets += [ROOT_SECRET, app.caller_secret, world.caller_secret]

    # The usual federation: the app assumes the federation role, then federates.
    sts = server.client("sts", app.caller_key, app.caller_secret)
    assumed = sts.assume_role(RoleArn=app.role_arn, RoleSessionName="agent1", DurationSeconds=1800)
    ids["assume"] = _request_id(assumed)
    calls.answers["assume"] = assumed
    creds = assumed["Credentials"]
    secrets += [creds["SecretAccessKey"], creds["SessionToken"]]
    connect = server.client(
        "connect", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
    )
    ids["federate"] = _request_id(connect.get_federation_token(InstanceId=app.instance_id))

    assertion = saml.assertion("agent2")
    saml_answer = saml.assume(assertion)
    ids["saml"] = _request_id(saml_answer)
    calls.answers["saml"] = saml_answer
    secrets += [
        assertion,
        saml_answer["Credentials"]["SecretAccessKey"],
        saml_answer["Credentials"]["SessionToken"],
    ]

    iam = server.client("iam")
    trust = trust_account()
    created = iam.create_role(RoleName="Audited", AssumeRolePolicyDocument=trust, Path="/team/")
    ids["create_role"] = _request_id(created)
    calls.answers["create_role"] = created
    ids["put_role_policy"] = _request_id(
        iam.put_role_policy(
            RoleName="Audited", PolicyName="inline", PolicyDocument=json.dumps(INLINE_POLICY)
        )
    )
    ids["update_trust"] = _request_id(
        iam.update_assume_role_policy(RoleName="Audited", PolicyDocument=trust)
    )
    with pytest.raises(ClientError) as caught:
        iam.create_role(RoleName="Audited", AssumeRolePolicyDocument=trust)
    ids["create_role_again"] = caught.value.response["ResponseMetadata"]["RequestId"]
    sp_key = SigningKey.generate("sp")
    encrypted = iam.create_saml_provider(
        Name="encrypted",
        SAMLMetadataDocument=TestIdp(entity_id="https://encrypted.calls.test").metadata(),
        AssertionEncryptionMode="Required",
        AddPrivateKey=sp_key.key_pem.decode(),
    )
    ids["encrypted_provider"] = _request_id(encrypted)
    secrets.append(sp_key.key_pem.decode().splitlines()[1])  # a line of the key's base64
    iam.create_user(UserName="keyholder")
    key = iam.create_access_key(UserName="keyholder")
    ids["create_key"] = _request_id(key)
    calls.answers["create_key"] = key
    secrets.append(key["AccessKey"]["SecretAccessKey"])
    ids["delete_key"] = _request_id(
        iam.delete_access_key(UserName="keyholder", AccessKeyId=key["AccessKey"]["AccessKeyId"])
    )

    root_connect = server.client("connect")
    user = root_connect.create_user(
        InstanceId=world.instance_id,
        Username="agent3",
        IdentityInfo={"FirstName": "Ada", "LastName": "Lovelace", "Email": "ada@example.com"},
        PhoneConfig={"PhoneType": "SOFT_PHONE"},
        SecurityProfileIds=[world.security_profile],
        RoutingProfileId=world.routing_profile,
    )
    ids["connect_create_user"] = _request_id(user)
    calls.answers["connect_create_user"] = user
    ids["connect_delete_user"] = _request_id(
        root_connect.delete_user(InstanceId=world.instance_id, UserId=user["UserId"])
    )
    managed = root_connect.create_instance(
        IdentityManagementType="CONNECT_MANAGED",
        InstanceAlias="managed-calls",
        InboundCallsEnabled=True,
        OutboundCallsEnabled=False,
    )
    ids["create_instance"] = _request_id(managed)
    calls.answers["create_instance"] = managed
    profiles = root_connect.list_security_profiles(InstanceId=managed["Id"])
    routing = root_connect.list_routing_profiles(InstanceId=managed["Id"])
    password = "Sup3r-Secret-Passw0rd"
    ids["managed_user"] = _request_id(
        root_connect.create_user(
            InstanceId=managed["Id"],
            Username="managed1",
            Password=password,
            PhoneConfig={"PhoneType": "SOFT_PHONE"},
            SecurityProfileIds=[profiles["SecurityProfileSummaryList"][0]["Id"]],
            RoutingProfileId=routing["RoutingProfileSummaryList"][0]["Id"],
        )
    )
    secrets.append(password)

    # Reads.
    ids["caller_identity"] = _request_id(sts.get_caller_identity())
    ids["get_role"] = _request_id(iam.get_role(RoleName="Audited"))
    ids["describe_instance"] = _request_id(
        root_connect.describe_instance(InstanceId=world.instance_id)
    )

    # A denial, recorded once (by the denial path), never as a call too.
    nobody = iam.create_access_key(UserName="keyholder")["AccessKey"]
    secrets.append(nobody["SecretAccessKey"])
    with pytest.raises(ClientError) as caught:
        server.client("iam", nobody["AccessKeyId"], nobody["SecretAccessKey"]).create_user(
            UserName="intruder"
        )
    ids["denied"] = caught.value.response["ResponseMetadata"]["RequestId"]
    return calls


@pytest.fixture(scope="module")
def calls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Calls]:
    server = start_server(tmp_path_factory.mktemp("calls"), "--throttle-rate", "0")
    try:
        yield _make_calls(server)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def calls_with_reads(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Calls]:
    server = start_server(tmp_path_factory.mktemp("reads"), "--throttle-rate", "0", "--audit-reads")
    try:
        calls = _make_calls(server)
        lookup = server.client("cloudtrail").lookup_events(MaxResults=1)
        calls.ids["lookup"] = _request_id(lookup)
        yield calls
    finally:
        server.stop()


def test_assume_role_is_recorded_with_who_assumed_which_role(calls: Calls) -> None:
    event, record = calls.one("assume")
    world = calls.app
    assert (event["EventName"], event["EventSource"]) == ("AssumeRole", "sts.amazonaws.com")
    assert event["ReadOnly"] == "false" and event["Username"] == "caller-app"
    assert event["AccessKeyId"] == world.caller_key
    assert record["userIdentity"] == {
        "type": "IAMUser",
        "principalId": record["userIdentity"]["principalId"],
        "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/caller-app",
        "accountId": ACCOUNT_ID,
        "accessKeyId": world.caller_key,
        "userName": "caller-app",
    }
    assert record["requestParameters"] == {
        "roleArn": world.role_arn,
        "roleSessionName": "agent1",
        "durationSeconds": 1800,
    }
    answer = calls.answers["assume"]
    expiration = answer["Credentials"]["Expiration"].astimezone(UTC)
    assert record["responseElements"] == {
        "credentials": {
            "accessKeyId": answer["Credentials"]["AccessKeyId"],
            "expiration": expiration.strftime("%b %-d, %Y %-I:%M:%S %p"),
        },
        "assumedRoleUser": {
            "assumedRoleId": answer["AssumedRoleUser"]["AssumedRoleId"],
            "arn": answer["AssumedRoleUser"]["Arn"],
        },
    }
    assert record["resources"] == [
        {"accountId": ACCOUNT_ID, "type": "AWS::IAM::Role", "ARN": world.role_arn}
    ]
    assert record["eventType"] == "AwsApiCall" and record["managementEvent"] is True
    # An auditor asking who assumed the federation role finds it by the role's ARN.
    by_role = calls.events(
        LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": world.role_arn}]
    )
    assert event["EventId"] in {e["EventId"] for e in by_role}


def test_calls_that_record_their_own_event_get_no_second_one(calls: Calls) -> None:
    for name, expected in (("federate", "GetFederationToken"), ("saml", "AssumeRoleWithSAML")):
        records = calls.of(calls.ids[name])
        assert [r["eventName"] for r in records] == [expected]


def test_credentials_expire_in_cloudtrails_words_in_both_sts_events(calls: Calls) -> None:
    """AssumeRole's and AssumeRoleWithSAML's ``credentials.expiration`` as the IAM guide's
    example events write it (AssumeRoleWithSAML's was ISO 8601)."""
    for name in ("assume", "saml"):
        _, record = calls.one(name)
        expiration = calls.answers[name]["Credentials"]["Expiration"].astimezone(UTC)
        assert record["responseElements"]["credentials"] == {
            "accessKeyId": calls.answers[name]["Credentials"]["AccessKeyId"],
            "expiration": expiration.strftime("%b %-d, %Y %-I:%M:%S %p"),
        }


def test_iam_writes_are_recorded_with_their_policy_documents(calls: Calls) -> None:
    event, record = calls.one("create_role")
    role = calls.answers["create_role"]["Role"]
    assert (event["EventName"], event["EventSource"]) == ("CreateRole", "iam.amazonaws.com")
    assert event["Username"] == "root" and event["ReadOnly"] == "false"
    assert record["requestParameters"] == {
        "path": "/team/",
        "roleName": "Audited",
        "assumeRolePolicyDocument": trust_account(),
    }
    assert record["responseElements"]["role"]["arn"] == role["Arn"]
    assert record["responseElements"]["role"]["roleId"] == role["RoleId"]
    assert [(r["ResourceType"], r["ResourceName"]) for r in event["Resources"]] == [
        ("AWS::IAM::Role", role["Arn"])
    ]

    event, record = calls.one("put_role_policy")
    assert event["EventName"] == "PutRolePolicy"
    assert record["requestParameters"] == {
        "roleName": "Audited",
        "policyName": "inline",
        "policyDocument": json.dumps(INLINE_POLICY),
    }
    assert record["responseElements"] is None

    event, record = calls.one("update_trust")
    assert event["EventName"] == "UpdateAssumeRolePolicy"
    assert record["requestParameters"]["policyDocument"] == trust_account()


def test_access_keys_are_recorded_without_the_secret(calls: Calls) -> None:
    event, record = calls.one("create_key")
    key = calls.answers["create_key"]["AccessKey"]
    assert event["EventName"] == "CreateAccessKey"
    assert record["requestParameters"] == {"userName": "keyholder"}
    recorded = record["responseElements"]["accessKey"]
    assert recorded["accessKeyId"] == key["AccessKeyId"]
    assert recorded["userName"] == "keyholder" and recorded["status"] == "Active"
    assert "secretAccessKey" not in recorded
    event, record = calls.one("delete_key")
    assert event["EventName"] == "DeleteAccessKey"
    assert record["requestParameters"] == {
        "userName": "keyholder",
        "accessKeyId": key["AccessKeyId"],
    }


def test_a_failed_write_is_recorded_with_the_error_the_caller_got(calls: Calls) -> None:
    event, record = calls.one("create_role_again")
    assert event["EventName"] == "CreateRole"
    assert record["errorCode"] == "EntityAlreadyExists"
    assert "Audited" in record["errorMessage"]
    assert record["requestParameters"]["roleName"] == "Audited"
    assert record["responseElements"] is None


def test_connect_writes_are_recorded_with_their_resources(calls: Calls) -> None:
    world = calls.saml.world
    instance_arn = f"arn:aws:connect:us-east-1:{ACCOUNT_ID}:instance/{world.instance_id}"
    user = calls.answers["connect_create_user"]
    event, record = calls.one("connect_create_user")
    assert (event["EventName"], event["EventSource"]) == ("CreateUser", "connect.amazonaws.com")
    assert {(r["ResourceType"], r["ResourceName"]) for r in event["Resources"]} == {
        ("AWS::Connect::Instance", instance_arn),
        ("AWS::Connect::User", user["UserArn"]),
        ("AWS::Connect::RoutingProfile", f"{instance_arn}/routing-profile/{world.routing_profile}"),
    }
    parameters = record["requestParameters"]
    assert parameters["InstanceId"] == world.instance_id and parameters["Username"] == "agent3"
    assert parameters["RoutingProfileId"] == world.routing_profile
    # The agent's names and e-mail are sensitive in Connect's model: left out.
    assert parameters["IdentityInfo"] == {}
    assert record["responseElements"] == {"UserId": user["UserId"], "UserArn": user["UserArn"]}

    event, record = calls.one("connect_delete_user")
    assert event["EventName"] == "DeleteUser"
    assert record["requestParameters"] == {
        "InstanceId": world.instance_id,
        "UserId": user["UserId"],
    }
    assert {r["ResourceName"] for r in event["Resources"]} == {instance_arn, user["UserArn"]}

    event, record = calls.one("create_instance")
    created = calls.answers["create_instance"]
    assert event["EventName"] == "CreateInstance"
    assert [(r["ResourceType"], r["ResourceName"]) for r in event["Resources"]] == [
        ("AWS::Connect::Instance", created["Arn"])
    ]
    assert record["requestParameters"]["IdentityManagementType"] == "CONNECT_MANAGED"
    assert "InstanceAlias" not in record["requestParameters"]  # sensitive in the model

    _, record = calls.one("managed_user")
    assert "Password" not in record["requestParameters"]


def test_reads_are_not_recorded_by_default(calls: Calls) -> None:
    for name in ("caller_identity", "get_role", "describe_instance"):
        assert calls.of(calls.ids[name]) == [], name
    reads = calls.events(LookupAttributes=[{"AttributeKey": "ReadOnly", "AttributeValue": "true"}])
    assert reads == []


def test_reads_are_recorded_with_audit_reads(calls_with_reads: Calls) -> None:
    calls = calls_with_reads
    expected = {
        "caller_identity": ("GetCallerIdentity", "sts.amazonaws.com", None),
        "get_role": ("GetRole", "iam.amazonaws.com", {"roleName": "Audited"}),
        "describe_instance": (
            "DescribeInstance",
            "connect.amazonaws.com",
            {"InstanceId": calls.saml.world.instance_id},
        ),
        "lookup": ("LookupEvents", "cloudtrail.amazonaws.com", {"maxResults": 1}),
    }
    for name, (operation, source, parameters) in expected.items():
        event, record = calls.one(name)
        assert (event["EventName"], event["EventSource"]) == (operation, source)
        assert event["ReadOnly"] == "true" and record["readOnly"] is True
        assert record["requestParameters"] == parameters
        assert record["responseElements"] is None  # CloudTrail records no read's answer
    # Writes are recorded as without the option.
    event, _ = calls.one("assume")
    assert event["ReadOnly"] == "false"


@pytest.mark.parametrize("fixture", ["calls", "calls_with_reads"])
def test_a_denied_call_is_recorded_once(fixture: str, request: pytest.FixtureRequest) -> None:
    calls: Calls = request.getfixturevalue(fixture)
    records = calls.of(calls.ids["denied"])
    assert [(r["eventName"], r["errorCode"]) for r in records] == [("CreateUser", "AccessDenied")]


@pytest.mark.parametrize("fixture", ["calls", "calls_with_reads"])
def test_no_secret_is_in_any_recorded_event(fixture: str, request: pytest.FixtureRequest) -> None:
    calls: Calls = request.getfixturevalue(fixture)
    everything = calls.events()
    assert len(everything) > 15
    text = json.dumps(everything, default=str)
    for secret in calls.secrets:
        assert secret not in text
    for word in (
        "secretAccessKey",
        "sessionToken",
        "SAMLAssertion",
        "sAMLAssertion",
        "password",
        "PRIVATE KEY",
    ):
        assert word.lower() not in text.lower(), word


def test_the_aws_cli_finds_who_assumed_the_federation_role(calls: Calls, tmp_path: Path) -> None:
    env = clean_env(
        tmp_path,
        AWS_ACCESS_KEY_ID=ROOT_KEY,
        AWS_SECRET_ACCESS_KEY=ROOT_SECRET,
        AWS_DEFAULT_REGION="us-east-1",
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "awscli",
            "cloudtrail",
            "lookup-events",
            "--lookup-attributes",
            "AttributeKey=EventName,AttributeValue=AssumeRole",
            "--endpoint-url",
            calls.server.url,
            "--output",
            "json",
        ],
        env=env,
        text=True,
        capture_output=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=True,
    )
    events = json.loads(result.stdout)["Events"]
    assert [e["EventName"] for e in events] == ["AssumeRole"]
    record = json.loads(events[0]["CloudTrailEvent"])
    assert record["requestID"] == calls.ids["assume"]
    assert record["userIdentity"]["userName"] == "caller-app"
    assert record["requestParameters"]["roleArn"] == calls.app.role_arn
    assert record["requestParameters"]["roleSessionName"] == "agent1"


def test_a_throttled_call_is_not_recorded(tmp_path: Path) -> None:
    """A call answered ``Throttling`` (here the admin API's fault) leaves no event; the same
    call answered is recorded."""
    server = start_admin_server(tmp_path)
    try:
        app = build_world(server, "throttled")
        AdminClient(server.url).add_fault(
            FaultSpec("sts", "AssumeRole", error="Throttling", count=1)
        )
        sts = server.client("sts", app.caller_key, app.caller_secret)
        with pytest.raises(ClientError) as caught:
            sts.assume_role(RoleArn=app.role_arn, RoleSessionName="agent1")
        assert caught.value.response["Error"]["Code"] == "Throttling"
        throttled = caught.value.response["ResponseMetadata"]["RequestId"]
        answered = _request_id(sts.assume_role(RoleArn=app.role_arn, RoleSessionName="agent1"))
        events = server.client("cloudtrail").lookup_events(
            LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "AssumeRole"}]
        )["Events"]
    finally:
        server.stop()
    recorded = [json.loads(e["CloudTrailEvent"])["requestID"] for e in events]
    assert recorded == [answered] and throttled not in recorded


def test_a_saml_provider_is_recorded_with_its_metadata_and_arn(calls: Calls) -> None:
    events = [
        e
        for e in calls.events(
            LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateSAMLProvider"}]
        )
        if json.loads(e["CloudTrailEvent"])["requestID"] != calls.ids["encrypted_provider"]
    ]
    assert len(events) == 1
    record = json.loads(events[0]["CloudTrailEvent"])
    provider_arn = calls.saml.provider_arn
    assert record["requestParameters"]["name"] == "idp-calls"
    assert "<" in record["requestParameters"]["sAMLMetadataDocument"]  # public: recorded
    assert record["responseElements"] == {"sAMLProviderArn": provider_arn}
    assert [(r["ResourceType"], r["ResourceName"]) for r in events[0]["Resources"]] == [
        ("AWS::IAM::SAMLProvider", provider_arn)
    ]
    # The service provider's private key is sensitive in IAM's model: left out.
    _, record = calls.one("encrypted_provider")
    assert record["requestParameters"]["assertionEncryptionMode"] == "Required"
    assert "addPrivateKey" not in record["requestParameters"]

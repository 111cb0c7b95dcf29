"""The audit trail through boto3's CloudTrail client (``LookupEvents``, AWS JSON 1.1): every
event kind (federations, AssumeRoleWithSAML, the browser's ConsoleLogin and SignIn, SAML
rejections with their reason, denials), each lookup attribute, time ranges, pagination, the
API's errors, and ``cloudtrail:LookupEvents`` authorisation."""

from __future__ import annotations

import http.cookiejar
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from botocore.exceptions import ClientError

from tests.support.saml_world import SamlWorld, build_saml_world
from tests.support.server import ACCOUNT_ID, Server, start_server
from tests.support.world import make_role

LOOKUP_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "cloudtrail:LookupEvents", "Resource": "*"}],
}


@dataclass
class Trail:
    """A server after one of each audited thing, with what the callers saw."""

    server: Server
    saml: SamlWorld
    request_ids: dict[str, str] = field(default_factory=dict)
    secrets: list[str] = field(default_factory=list)
    auditor: Any = None
    nobody: Any = None

    def events(self, **kw: Any) -> list[dict[str, Any]]:
        paginator = self.server.client("cloudtrail").get_paginator("lookup_events")
        return [e for page in paginator.paginate(**kw) for e in page["Events"]]

    def one(self, request_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """The event the request with this id recorded, and its CloudTrail record."""
        found = [
            e for e in self.events() if json.loads(e["CloudTrailEvent"])["requestID"] == request_id
        ]
        assert len(found) == 1, (request_id, [e["EventName"] for e in found])
        return found[0], json.loads(found[0]["CloudTrailEvent"])


def _error_id(call: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    response = caught.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["RequestId"]


class _Hops(urllib.request.HTTPRedirectHandler):
    """Remembers the request id of every redirect on the way."""

    def __init__(self) -> None:
        self.request_ids: list[str] = []

    def redirect_request(
        self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> Any:
        self.request_ids.append(headers["x-amzn-RequestId"])
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _browser(hops: _Hops | None = None) -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), hops or _Hops()
    )


def _post_saml(server: Server, assertion: str, relay: str) -> tuple[int, str]:
    """POST /saml in a new browser, redirects followed: (final status, the POST's request id)."""
    hops = _Hops()
    request = urllib.request.Request(
        server.url + "/saml",
        data=urlencode({"SAMLResponse": assertion, "RelayState": relay}).encode(),
    )
    try:
        with _browser(hops).open(request, timeout=30) as response:
            return response.status, (hops.request_ids or [response.headers["x-amzn-RequestId"]])[0]
    except urllib.error.HTTPError as exc:
        return exc.code, (hops.request_ids or [exc.headers["x-amzn-RequestId"]])[0]


@pytest.fixture(scope="module")
def trail(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trail]:
    server = start_server(tmp_path_factory.mktemp("audit"), "--throttle-rate", "0")
    try:
        yield _make_trail(server)
    finally:
        server.stop()


def _make_trail(server: Server) -> Trail:
    saml = build_saml_world(server, "audit")
    world = saml.world
    trail = Trail(server, saml)
    ids = trail.request_ids

    assertion = saml.assertion("agent1")
    assumed = saml.assume(assertion)
    ids["saml"] = assumed["ResponseMetadata"]["RequestId"]
    creds = assumed["Credentials"]
    trail.secrets += [assertion, creds["SecretAccessKey"], creds["SessionToken"]]
    connect = server.client(
        "connect", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
    )
    token = connect.get_federation_token(InstanceId=world.instance_id)
    ids["federation"] = token["ResponseMetadata"]["RequestId"]
    trail.secrets += [
        token["Credentials"]["AccessToken"],
        token["Credentials"]["RefreshToken"],
        token["SignInUrl"].split("code=")[1],
    ]

    ids["saml_rejected_code"], ids["saml_rejected"] = _error_id(
        lambda: saml.assume(saml.assertion("agent1", recipient="https://elsewhere.example/saml"))
    )

    no_permission = make_role(server, "NoFederation", None)
    denied = world.connect_as("agent2", no_permission)
    ids["federation_denied_code"], ids["federation_denied"] = _error_id(
        lambda: denied.get_federation_token(InstanceId=world.instance_id)
    )

    # The browser: a SAML sign-in through federate to the instance, then a refused one.
    relay = f"/connect/federate/{world.instance_id}?destination={quote('/ccp-v2')}"
    status, ids["console"] = _post_saml(server, saml.assertion("agent2"), relay)
    assert status == 200
    status, ids["console_rejected"] = _post_saml(
        server, saml.assertion("agent2", now=datetime.now(UTC) - timedelta(hours=1)), relay
    )
    assert status == 400
    try:
        _browser().open(
            f"{server.url}/connect/{world.instance_id}/auth/sign-in?code=cfc_nope", timeout=30
        )
    except urllib.error.HTTPError as exc:
        ids["signin_failed"] = exc.headers["x-amzn-RequestId"]

    iam = server.client("iam")
    for name, policy in (("auditor", LOOKUP_POLICY), ("nobody", None)):
        iam.create_user(UserName=name)
        if policy is not None:
            iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        trail.secrets.append(key["SecretAccessKey"])
        setattr(trail, name, (key["AccessKeyId"], key["SecretAccessKey"]))
    nobody_iam = server.client("iam", *trail.nobody)
    ids["iam_denied_code"], ids["iam_denied"] = _error_id(lambda: nobody_iam.list_users())
    nobody_trail = server.client("cloudtrail", *trail.nobody)
    ids["lookup_denied_code"], ids["lookup_denied"] = _error_id(
        lambda: nobody_trail.lookup_events()
    )
    return trail


def test_a_federation_is_recorded_with_the_callers_request_id(trail: Trail) -> None:
    event, record = trail.one(trail.request_ids["federation"])
    assert event["EventName"] == "GetFederationToken"
    assert event["EventSource"] == "connect.amazonaws.com"
    assert event["Username"] == "agent1"
    assert event["ReadOnly"] == "false"
    assert event["AccessKeyId"].startswith("ASIA")
    types = {r["ResourceType"] for r in event["Resources"]}
    assert types == {"AWS::Connect::Instance", "AWS::Connect::User"}
    assert record["userIdentity"]["type"] == "AssumedRole"
    assert record["userIdentity"]["arn"].endswith(":assumed-role/Federation-audit/agent1")
    assert record["sourceIPAddress"] == "127.0.0.1"
    assert record["eventID"] == event["EventId"]
    assert "errorCode" not in record
    assert record["requestParameters"] == {"InstanceId": trail.saml.world.instance_id}
    assert event["EventTime"].tzinfo is not None


def test_a_role_sessions_identity_names_its_issuer_and_when_it_was_created(trail: Trail) -> None:
    """CloudTrail's userIdentity of a role session: sessionContext.sessionIssuer with the
    role's id (the principalId's part before the session name), and sessionContext.attributes
    with the session's creationDate and mfaAuthenticated."""
    _, record = trail.one(trail.request_ids["federation"])
    identity = record["userIdentity"]
    role_id, session_name = identity["principalId"].split(":")
    assert role_id.startswith("AROA") and session_name == "agent1"
    role = trail.server.client("iam").get_role(RoleName="Federation-audit")["Role"]
    assert identity["sessionContext"] == {
        "sessionIssuer": {
            "type": "Role",
            "principalId": role["RoleId"],
            "arn": role["Arn"],
            "accountId": ACCOUNT_ID,
            "userName": "Federation-audit",
        },
        "attributes": {
            "creationDate": identity["sessionContext"]["attributes"]["creationDate"],
            "mfaAuthenticated": "false",
        },
    }
    assert role_id == role["RoleId"]
    created = datetime.strptime(
        identity["sessionContext"]["attributes"]["creationDate"], "%Y-%m-%dT%H:%M:%SZ"
    ).replace(tzinfo=UTC)
    called = datetime.strptime(record["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert timedelta(0) <= called - created < timedelta(minutes=5)


def test_a_denied_federation_keeps_its_name_and_error(trail: Trail) -> None:
    assert trail.request_ids["federation_denied_code"] == "AccessDeniedException"
    event, record = trail.one(trail.request_ids["federation_denied"])
    assert event["EventName"] == "GetFederationToken" and event["Username"] == "agent2"
    assert record["errorCode"] == "AccessDeniedException"
    assert "is not authorized to perform: connect:GetFederationToken" in record["errorMessage"]


def test_assume_role_with_saml_and_its_rejection_with_reason(trail: Trail) -> None:
    event, record = trail.one(trail.request_ids["saml"])
    assert (event["EventName"], event["EventSource"]) == ("AssumeRoleWithSAML", "sts.amazonaws.com")
    assert event["Username"] == "agent1"
    assert record["userIdentity"]["type"] == "SAMLUser"
    assert record["responseElements"]["assumedRoleUser"]["arn"].endswith("/agent1")
    assert "secretAccessKey" not in json.dumps(record["responseElements"])

    assert trail.request_ids["saml_rejected_code"] == "InvalidIdentityToken"
    event, record = trail.one(trail.request_ids["saml_rejected"])
    assert event["EventName"] == "AssumeRoleWithSAML"
    assert record["errorCode"] == "InvalidIdentityToken"
    assert record["additionalEventData"]["SAMLRejectionReason"] == "destination"
    assert "userName" not in record["userIdentity"]  # nothing an unverified assertion claims


def test_browser_sign_ins_are_console_logins_and_sign_ins(trail: Trail) -> None:
    names = {
        e["EventName"]
        for e in [
            *trail.events(
                LookupAttributes=[
                    {"AttributeKey": "EventSource", "AttributeValue": "signin.amazonaws.com"}
                ]
            )
        ]
    }
    assert names == {"ConsoleLogin"}
    event, record = trail.one(trail.request_ids["console"])
    assert event["EventName"] == "ConsoleLogin"
    assert record["eventType"] == "AwsConsoleSignIn"
    assert record["responseElements"] == {"ConsoleLogin": "Success"}
    assert record["userIdentity"]["arn"].endswith("/agent2")

    event, record = trail.one(trail.request_ids["console_rejected"])
    assert record["responseElements"] == {"ConsoleLogin": "Failure"}
    assert record["additionalEventData"]["SAMLRejectionReason"] == "expired"

    signins = trail.events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "SignIn"}]
    )
    outcomes = sorted(
        json.loads(e["CloudTrailEvent"])["responseElements"]["SignIn"] for e in signins
    )
    assert outcomes == ["Failure", "Success"]  # the browser's code sign-in, the bogus code
    _, failed = trail.one(trail.request_ids["signin_failed"])
    assert failed["eventName"] == "SignIn" and failed["errorCode"]


def test_denials_are_recorded_under_the_operation(trail: Trail) -> None:
    assert trail.request_ids["iam_denied_code"] == "AccessDenied"
    event, record = trail.one(trail.request_ids["iam_denied"])
    assert (event["EventName"], event["EventSource"]) == ("ListUsers", "iam.amazonaws.com")
    assert event["ReadOnly"] == "true" and event["Username"] == "nobody"
    assert record["errorCode"] == "AccessDenied"
    assert record["userIdentity"] == {
        "type": "IAMUser",
        "principalId": record["userIdentity"]["principalId"],
        "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/nobody",
        "accountId": ACCOUNT_ID,
        "accessKeyId": trail.nobody[0],
        "userName": "nobody",
    }


def test_lookup_needs_cloudtrail_lookup_events(trail: Trail) -> None:
    assert trail.request_ids["lookup_denied_code"] == "AccessDeniedException"
    event, record = trail.one(trail.request_ids["lookup_denied"])
    assert (event["EventName"], event["EventSource"]) == (
        "LookupEvents",
        "cloudtrail.amazonaws.com",
    )
    assert record["errorCode"] == "AccessDeniedException" and event["ReadOnly"] == "true"
    allowed = trail.server.client("cloudtrail", *trail.auditor).lookup_events(MaxResults=5)
    assert len(allowed["Events"]) == 5


@pytest.mark.parametrize(
    "key",
    [
        "EventId",
        "EventName",
        "ReadOnly",
        "Username",
        "ResourceType",
        "ResourceName",
        "EventSource",
        "AccessKeyId",
    ],
)
def test_each_lookup_attribute_filters(trail: Trail, key: str) -> None:
    everything = trail.events()
    _, record = trail.one(trail.request_ids["federation"])
    event = next(e for e in everything if e["EventId"] == record["eventID"])
    value = {
        "EventId": event["EventId"],
        "EventName": event["EventName"],
        "ReadOnly": event["ReadOnly"],
        "Username": event["Username"],
        "ResourceType": event["Resources"][0]["ResourceType"],
        "ResourceName": event["Resources"][0]["ResourceName"],
        "EventSource": event["EventSource"],
        "AccessKeyId": event["AccessKeyId"],
    }[key]
    found = trail.events(LookupAttributes=[{"AttributeKey": key, "AttributeValue": value}])
    assert event["EventId"] in {e["EventId"] for e in found}

    def matches(other: dict[str, Any]) -> bool:
        if key.startswith("Resource"):
            return any(r[key] == value for r in other.get("Resources", []))
        return bool(other.get(key) == value)

    assert {e["EventId"] for e in found} == {e["EventId"] for e in everything if matches(e)}
    assert len(found) < len(everything)


def test_time_range_and_pagination(trail: Trail) -> None:
    everything = trail.events()
    times = sorted({e["EventTime"] for e in everything})
    assert [e["EventTime"] for e in everything] == sorted(
        (e["EventTime"] for e in everything), reverse=True
    )
    middle = times[len(times) // 2]
    later = trail.events(StartTime=middle)
    earlier = trail.events(EndTime=middle)
    assert later and all(e["EventTime"] >= middle for e in later)
    assert earlier and all(e["EventTime"] <= middle for e in earlier)
    assert len(later) + len(earlier) - len(trail.events(StartTime=middle, EndTime=middle)) == len(
        everything
    )
    assert trail.events(StartTime=times[-1] + timedelta(seconds=1)) == []
    assert trail.events(EndTime=times[0] - timedelta(seconds=1)) == []
    assert len(trail.events(StartTime=times[0], EndTime=times[-1])) == len(everything)

    client = trail.server.client("cloudtrail")
    pages, token = [], None
    while True:
        page = client.lookup_events(MaxResults=3, **({"NextToken": token} if token else {}))
        pages.append(page["Events"])
        token = page.get("NextToken")
        if token is None:
            break
    assert all(len(p) == 3 for p in pages[:-1]) and len(pages) > 2
    assert [e["EventId"] for p in pages for e in p] == [e["EventId"] for e in everything]


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        (
            {
                "LookupAttributes": [
                    {"AttributeKey": "EventName", "AttributeValue": "A"},
                    {"AttributeKey": "Username", "AttributeValue": "B"},
                ]
            },
            "InvalidLookupAttributesException",
        ),
        (
            {"LookupAttributes": [{"AttributeKey": "ReadOnly", "AttributeValue": "maybe"}]},
            "InvalidLookupAttributesException",
        ),
        (
            {"LookupAttributes": [{"AttributeKey": "Colour", "AttributeValue": "red"}]},
            "InvalidLookupAttributesException",
        ),
        ({"MaxResults": 51}, "InvalidMaxResultsException"),
        ({"NextToken": "not-a-token"}, "InvalidNextTokenException"),
        ({"EventCategory": "management"}, "InvalidEventCategoryException"),
    ],
    ids=[
        "two-attributes",
        "read-only-value",
        "unknown-key",
        "max-results",
        "bad-token",
        "event-category",
    ],
)
def test_bad_lookups_get_cloudtrails_errors(
    trail: Trail, kwargs: dict[str, Any], code: str
) -> None:
    client = trail.server.client("cloudtrail")
    with pytest.raises(ClientError) as caught:
        client.lookup_events(**kwargs)
    assert caught.value.response["Error"]["Code"] == code
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_a_time_range_backwards_and_a_token_for_other_parameters_are_refused(trail: Trail) -> None:
    client = trail.server.client("cloudtrail")
    first = min(e["EventTime"] for e in trail.events())
    with pytest.raises(ClientError) as caught:
        client.lookup_events(StartTime=first + timedelta(seconds=1), EndTime=first)
    assert caught.value.response["Error"]["Code"] == "InvalidTimeRangeException"
    token = client.lookup_events(MaxResults=1)["NextToken"]
    with pytest.raises(ClientError) as caught:
        client.lookup_events(
            MaxResults=1,
            NextToken=token,
            LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "ConsoleLogin"}],
        )
    assert caught.value.response["Error"]["Code"] == "InvalidNextTokenException"


def test_no_secret_is_in_any_event(trail: Trail) -> None:
    everything = json.dumps(trail.events(), default=str)
    for secret in trail.secrets:
        assert secret not in everything


def test_unsigned_lookup_is_refused_in_json(trail: Trail, tmp_path: Path) -> None:
    request = urllib.request.Request(
        trail.server.url + "/",
        data=b"{}",
        headers={
            "X-Amz-Target": "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents",
            "Content-Type": "application/x-amz-json-1.1",
        },
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=30)
    body = json.loads(caught.value.read())
    assert caught.value.code == 403
    assert body["__type"] == "MissingAuthenticationTokenException"


def test_events_carry_the_request_id_on_postgresql(tmp_path: Path) -> None:
    """On PostgreSQL store calls run in worker threads: the request's id and source address
    still reach the events recorded there (the request scope travels with the work)."""
    from tests.conftest import postgres_or_skip

    server = start_server(tmp_path, "--throttle-rate", "0", database_url=postgres_or_skip())
    try:
        saml = build_saml_world(server, "pg")
        assumed = saml.assume(saml.assertion("agent1"))
        _, denied_id = _error_id(lambda: saml.assume(saml.assertion("agent1", sign="none")))
        found = {
            json.loads(e["CloudTrailEvent"])["requestID"]: json.loads(e["CloudTrailEvent"])
            for e in server.client("cloudtrail").lookup_events()["Events"]
        }
    finally:
        server.stop()
    issued = found[assumed["ResponseMetadata"]["RequestId"]]
    assert issued["eventName"] == "AssumeRoleWithSAML" and "errorCode" not in issued
    assert issued["sourceIPAddress"] == "127.0.0.1"
    refused = found[denied_id]
    assert refused["errorCode"] == "InvalidIdentityToken"
    assert refused["additionalEventData"]["SAMLRejectionReason"]

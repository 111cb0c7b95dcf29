"""Values no protocol may accept: each gets its protocol's 400 (restJson1 and AWS JSON:
``SerializationException``; awsQuery: a ``<Code>`` in an ``<ErrorResponse>``), never a 500, and
nothing of it is stored. The Smithy protocol tests (``malformedRequests``) are the reference:
a null in a dense list or map, an integer past 32 bits or a long past 64, ``NaN`` and
``Infinity`` (not JSON), a timestamp no calendar holds; and what only Python would read: a
lone surrogate (``"\\ud800"``, not Unicode text), list indices in non-ASCII digits."""

from __future__ import annotations

import base64
import http.client
import json
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.support.server import ROOT_KEY, ROOT_SECRET, Server

CLOUDTRAIL = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents"


def _signed(
    server: Server, method: str, path: str, body: bytes, service: str, headers: dict[str, str]
) -> tuple[int, dict[str, str], bytes]:
    request = AWSRequest(method=method, url=server.url + path, data=body, headers=headers)
    SigV4Auth(Credentials(ROOT_KEY, ROOT_SECRET), service, "us-east-1").add_auth(request)
    url = urlsplit(request.url)
    target = url.path + (f"?{url.query}" if url.query else "")
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    conn.request(method, target, body=body, headers=dict(request.headers.items()))
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, data


def _query(server: Server, service: str, fields: list[tuple[str, str]]) -> tuple[int, bytes]:
    body = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in fields).encode()
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    status, _, data = _signed(server, "POST", "/", body, service, form)
    return status, data


@pytest.fixture(scope="module")
def profiles(server: Server) -> dict[str, str]:
    connect = server.client("connect")
    instance = connect.create_instance(
        IdentityManagementType="SAML",
        InstanceAlias="malformed-values",
        InboundCallsEnabled=True,
        OutboundCallsEnabled=True,
    )["Id"]
    security = connect.list_security_profiles(InstanceId=instance)["SecurityProfileSummaryList"]
    routing = connect.list_routing_profiles(InstanceId=instance)["RoutingProfileSummaryList"]
    return {"instance": instance, "security": security[0]["Id"], "routing": routing[0]["Id"]}


def _user(profiles: dict[str, str], name: str, **changes: Any) -> dict[str, Any]:
    user: dict[str, Any] = {
        "Username": name,
        "SecurityProfileIds": [profiles["security"]],
        "RoutingProfileId": profiles["routing"],
        "PhoneConfig": {"PhoneType": "SOFT_PHONE"},
    }
    user.update(changes)
    return user


def _usernames(server: Server, instance: str) -> set[str]:
    users = server.client("connect").list_users(InstanceId=instance)["UserSummaryList"]
    return {user["Username"] for user in users}


# (id, a member of a CreateUser body, as JSON text)
RESTJSON_BODIES = [
    ("null-in-list", '"SecurityProfileIds":[null]'),
    ("null-in-map", '"Tags":{"k":null}'),
    ("int-past-32-bits", '"PhoneConfig":{"PhoneType":"SOFT_PHONE","AfterContactWorkTimeLimit":%d}'),
    ("nan", '"PhoneConfig":{"PhoneType":"SOFT_PHONE","AfterContactWorkTimeLimit":NaN}'),
    ("lone-surrogate", '"IdentityInfo":{"FirstName":"a\\ud800b"}'),
    ("lone-low-surrogate-key", '"Tags":{"\\udc00":"v"}'),
]


@pytest.mark.parametrize(("label", "member"), RESTJSON_BODIES, ids=[i for i, _ in RESTJSON_BODIES])
def test_malformed_restjson_values_are_serialization_exceptions_and_store_nothing(
    server: Server, profiles: dict[str, str], label: str, member: str
) -> None:
    name = f"malformed-{label}"
    valid = json.dumps(_user(profiles, name))
    # The member last: it overrides the valid one of its name (the last of a key wins).
    body = (valid[:-1] + "," + member.replace("%d", str(2**31)) + "}").encode()
    status, headers, data = _signed(
        server,
        "PUT",
        f"/users/{profiles['instance']}",
        body,
        "connect",
        {"Content-Type": "application/json"},
    )
    assert status == 400, data
    assert headers["x-amzn-errortype"] == "SerializationException"
    assert json.loads(data)["Message"]
    assert name not in _usernames(server, profiles["instance"])


def test_integers_within_32_bits_are_still_taken(server: Server, profiles: dict[str, str]) -> None:
    connect = server.client("connect")
    user = _user(
        profiles,
        "widest-integer",
        PhoneConfig={"PhoneType": "SOFT_PHONE", "AfterContactWorkTimeLimit": 2**31 - 1},
    )
    user_id = connect.create_user(InstanceId=profiles["instance"], **user)["UserId"]
    described = connect.describe_user(InstanceId=profiles["instance"], UserId=user_id)["User"]
    assert described["PhoneConfig"]["AfterContactWorkTimeLimit"] == 2**31 - 1


def test_emoji_escaped_as_a_surrogate_pair_is_text(
    server: Server, profiles: dict[str, str]
) -> None:
    body = json.dumps(_user(profiles, "pair", IdentityInfo={"FirstName": "a\U0001f600"}))
    assert "\\ud83d\\ude00" in body  # json.dumps escapes it as a pair
    status, _, data = _signed(
        server,
        "PUT",
        f"/users/{profiles['instance']}",
        body.encode(),
        "connect",
        {"Content-Type": "application/json"},
    )
    assert status == 200, data


@pytest.mark.parametrize(
    "query", ["maxResults=1_0", "maxResults=%D9%A1", "maxResults=%201", "maxResults=99999999999"]
)
def test_malformed_integers_in_a_query_string_are_serialization_exceptions(
    server: Server, profiles: dict[str, str], query: str
) -> None:
    status, headers, data = _signed(
        server, "GET", f"/users-summary/{profiles['instance']}?{query}", b"", "connect", {}
    )
    assert status == 400, data
    assert headers["x-amzn-errortype"] == "SerializationException"


@pytest.mark.parametrize(
    "body",
    [
        b'{"StartTime":1e300}',
        b'{"StartTime":253402300800}',  # 10000-01-01
        b'{"EndTime":-1e20}',
        b'{"StartTime":1e999}',  # infinity
        b'{"EndTime":NaN}',
        b'{"LookupAttributes":[null]}',
        b'{"LookupAttributes":[{"AttributeKey":"Username","AttributeValue":"\\ud800"}]}',
    ],
)
def test_malformed_aws_json_values_are_serialization_exceptions(
    server: Server, body: bytes
) -> None:
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": CLOUDTRAIL}
    status, out, data = _signed(server, "POST", "/", body, "cloudtrail", headers)
    assert status == 400, data
    assert out["x-amzn-errortype"] == "SerializationException"
    assert json.loads(data)["__type"] == "SerializationException"


def test_deeply_nested_lookup_events_token_is_an_invalid_next_token(server: Server) -> None:
    token = base64.urlsafe_b64encode(b"[" * 50_000).decode()
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": CLOUDTRAIL}
    body = json.dumps({"NextToken": token}).encode()
    status, out, _ = _signed(server, "POST", "/", body, "cloudtrail", headers)
    assert status == 400
    assert out["x-amzn-errortype"] == "InvalidNextTokenException"


ALLOW_S3 = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
    }
)


def _simulated_actions(server: Server, odd: tuple[str, str]) -> tuple[int, bytes]:
    return _query(
        server,
        "iam",
        [
            ("Action", "SimulateCustomPolicy"),
            ("Version", "2010-05-08"),
            ("PolicyInputList.member.1", ALLOW_S3),
            ("ActionNames.member.1", "s3:GetObject"),
            odd,
        ],
    )


@pytest.mark.parametrize(
    "index",
    ["\u00b2", "\u0662", "\uff12"],  # superscript, Arabic-Indic and fullwidth two
    ids=["superscript", "arabic-indic", "fullwidth"],
)
def test_query_list_indices_in_non_ascii_digits_are_no_items(server: Server, index: str) -> None:
    """``ActionNames.member.².x``: no item of the list (as a parameter the model does not name
    is no member), so only member 1 is simulated."""
    status, data = _simulated_actions(server, (f"ActionNames.member.{index}", "s3:PutObject"))
    assert status == 200, data
    assert data.count(b"<EvalActionName>") == 1 and b"s3:PutObject" not in data


def test_query_list_index_without_a_value_is_no_item(server: Server) -> None:
    """``ActionNames.member.2.x`` names no string: the list holds only member 1."""
    status, data = _simulated_actions(server, ("ActionNames.member.2.x", "s3:PutObject"))
    assert status == 200, data
    assert data.count(b"<EvalActionName>") == 1 and b"s3:PutObject" not in data


@pytest.mark.parametrize("value", ["1_0", "\u0661\u0660", " 10", "10 "])
def test_malformed_query_integers_are_validation_errors(server: Server, value: str) -> None:
    status, data = _query(
        server,
        "iam",
        [("Action", "ListUsers"), ("Version", "2010-05-08"), ("MaxItems", value)],
    )
    assert status == 400, data
    assert b"<Code>ValidationError</Code>" in data and b"<Type>Sender</Type>" in data


def test_raw_bytes_that_are_not_utf8_in_a_query_form_are_read_as_replacement_characters(
    server: Server,
) -> None:
    """A stray ``\\xff`` in a form body spoils its own value (U+FFFD, which the member's
    pattern then refuses), not the whole request (it was an InvalidAction for ``''``)."""
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    body = b"Action=GetCallerIdentity&Version=2011-06-15&Note=a\xffb"
    status, _, data = _signed(server, "POST", "/", body, "sts", form)
    assert status == 200, data
    body = b"Action=ListUsers&Version=2010-05-08&PathPrefix=/\xff/"
    status, _, data = _signed(server, "POST", "/", body, "iam", form)
    assert status == 400, data
    assert b"<Code>ValidationError</Code>" in data and b"pathPrefix" in data

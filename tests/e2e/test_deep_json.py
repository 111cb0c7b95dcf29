"""Deeply nested JSON anywhere the server parses it (restJson1 bodies, IAM policy documents,
Connect page tokens) gets the protocol's parse error, never a 500 (Python's json raises
RecursionError, not ValueError, past ~1000 levels)."""

from __future__ import annotations

import base64
import http.client
import json
from urllib.parse import urlencode, urlsplit

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.support import cti
from tests.support.server import ROOT_KEY, ROOT_SECRET, Server

DEEP = 100_000


@pytest.fixture(scope="module")
def instance(server: Server) -> str:
    return str(
        server.client("connect").create_instance(
            IdentityManagementType="SAML",
            InstanceAlias="deep-json",
            InboundCallsEnabled=True,
            OutboundCallsEnabled=True,
        )["Id"]
    )


def _signed_put(server: Server, path: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
    request = AWSRequest(
        method="PUT", url=server.url + path, data=body, headers={"Content-Type": "application/json"}
    )
    SigV4Auth(Credentials(ROOT_KEY, ROOT_SECRET), "connect", "us-east-1").add_auth(request)
    parts = urlsplit(server.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.request("PUT", path, body=body, headers=dict(request.headers.items()))
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, data


@pytest.mark.parametrize(
    "body",
    [
        b'{"Username":' + b"[" * DEEP + b"]" * DEEP + b"}",
        b'{"IdentityInfo":' + b'{"a":' * DEEP + b"1" + b"}" * DEEP + b"}",
        b"[" * DEEP,  # not even well-formed: the depth is found first
        b'{"Tags":' + b"[" * 65 + b"]" * 65 + b"}",  # just past the limit, far from recursion
    ],
    ids=["arrays", "objects", "unterminated", "depth-65"],
)
def test_deep_restjson_body_is_a_serialization_exception(
    server: Server, instance: str, body: bytes
) -> None:
    status, headers, data = _signed_put(server, f"/users/{instance}", body)
    assert status == 400, data[:300]
    assert headers["x-amzn-errortype"] == "SerializationException"
    assert headers["x-amzn-requestid"]
    assert "message" in json.loads(data) or "Message" in json.loads(data)


@pytest.mark.parametrize(
    "document",
    [
        "[" * 60_000 + "]" * 60_000,
        '{"Version":"2012-10-17","Statement":' + '{"a":' * 20_000 + "1" + "}" * 20_000 + "}",
        "[" * 100_000,
    ],
    ids=["arrays", "statement", "unterminated"],
)
def test_deep_policy_documents_are_malformed(server: Server, document: str) -> None:
    iam = server.client("iam")
    name = f"deep{abs(hash(document)) % 10**8}"
    iam.create_user(UserName=name)
    with pytest.raises(ClientError) as caught:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=document)
    assert caught.value.response["Error"]["Code"] == "MalformedPolicyDocument"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as caught:
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=document)
    assert caught.value.response["Error"]["Code"] == "MalformedPolicyDocument"


def test_deep_page_token_is_an_invalid_parameter(server: Server, instance: str) -> None:
    connect = server.client("connect")
    deep = 5_000  # past the recursion limit, while the token still fits in a request line
    token = base64.urlsafe_b64encode(b'{"after":' + b"[" * deep + b"]" * deep + b"}").decode()
    with pytest.raises(ClientError) as caught:
        connect.list_users(InstanceId=instance, NextToken=token)
    assert caught.value.response["Error"]["Code"] == "InvalidParameterException"


@pytest.mark.parametrize(
    "body",
    [
        b'{"authentication":' + b"[" * DEEP + b"]" * DEEP + b"}",
        b'{"nextToken":' + b'{"a":' * DEEP + b"1" + b"}" * DEEP + b"}",
    ],
    ids=["arrays", "objects"],
)
def test_deep_cti_body_is_a_serialization_exception(
    server: Server, instance: str, body: bytes
) -> None:
    """The CTI API (JSON 1.0) reads its body with the same bounded reader."""
    answer = cti.call(
        server.url,
        f"/connect/{instance}/api",
        "GetAgentSnapshot",
        raw=body,
        token="cfa_" + "A" * 43,
    )
    assert answer.status == 400, answer.body
    assert answer.headers["x-amzn-errortype"].startswith("SerializationException")


def test_deep_legacy_sign_in_credentials_are_a_bad_request(server: Server, instance: str) -> None:
    form = urlencode({"credentials": "[" * 20_000 + "]" * 20_000}).encode()
    parts = urlsplit(server.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.request(
        "POST",
        f"/connect/{instance}/auth/sign-in",
        body=form,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    response = conn.getresponse()
    response.read()
    conn.close()
    assert response.status == 400

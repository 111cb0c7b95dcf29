"""Auth-layer and protocol errors on the wire: status, x-amzn-ErrorType, body, request id."""

from __future__ import annotations

import http.client
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.support.errors import aws_error
from tests.support.server import ROOT_KEY, ROOT_SECRET, Server


def send(
    server: Server, method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b""
) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(server.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, data


def signed(
    server: Server,
    method: str,
    path: str,
    *,
    service: str = "connect",
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    key: str = ROOT_KEY,
    secret: str = ROOT_SECRET,
    region: str = "us-east-1",
    when: datetime | None = None,
) -> dict[str, str]:
    request = AWSRequest(method=method, url=server.url + path, data=body, headers=headers or {})
    auth = SigV4Auth(Credentials(key, secret), service, region)
    if when is not None:
        request.context["timestamp"] = when.strftime("%Y%m%dT%H%M%SZ")
        auth._modify_request_before_signing(request)
        creq = auth.canonical_request(request)
        sts = auth.string_to_sign(request, creq)
        sig = auth.signature(sts, request)
        auth._inject_signature_to_request(request, sig)
    else:
        auth.add_auth(request)
    return dict(request.headers.items())


def test_unsigned_connect_request_is_missing_authentication_token(server: Server) -> None:
    status, headers, body = send(server, "GET", "/user/federate/abc")
    assert status == 403
    assert headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"
    assert json.loads(body) == {"message": "Missing Authentication Token"}
    assert headers["x-amzn-requestid"]


def test_every_response_has_a_request_id(server: Server) -> None:
    for path in ("/_connectfed/health", "/user/federate/x", "/nowhere"):
        assert send(server, "GET", path)[1]["x-amzn-requestid"]


@pytest.mark.parametrize(
    "offset,prefix",
    [
        (timedelta(minutes=-10), "Signature expired: "),
        (timedelta(minutes=10), "Signature not yet current: "),
    ],
)
def test_skewed_signature_is_rejected_with_aws_message(
    server: Server, offset: timedelta, prefix: str
) -> None:
    headers = signed(server, "GET", "/instance", when=datetime.now(UTC) + offset)
    status, out, body = send(server, "GET", "/instance", headers)
    assert status == 403
    assert out["x-amzn-errortype"] == "InvalidSignatureException"
    message = json.loads(body)["message"]
    assert message.startswith(prefix)
    assert "5 min.)" in message


def test_unsigned_amz_header_is_rejected(server: Server) -> None:
    headers = signed(server, "GET", "/instance")
    headers["X-Amz-Extra"] = "sneaky"
    status, out, _ = send(server, "GET", "/instance", headers)
    assert status == 403
    assert out["x-amzn-errortype"] == "InvalidSignatureException"


def test_body_hash_is_computed_not_trusted(server: Server) -> None:
    body = json.dumps(
        {
            "IdentityManagementType": "SAML",
            "InstanceAlias": "x",
            "InboundCallsEnabled": True,
            "OutboundCallsEnabled": True,
        }
    ).encode()
    headers = signed(server, "PUT", "/instance", body=body)
    status, out, _ = send(server, "PUT", "/instance", headers, body.replace(b"x", b"y"))
    assert status == 403 and out["x-amzn-errortype"] == "InvalidSignatureException"


def test_wrong_region_scope_is_rejected(server: Server) -> None:
    headers = signed(server, "GET", "/instance", region="eu-west-1")
    status, _, body = send(server, "GET", "/instance", headers)
    assert status == 403
    assert "region" in json.loads(body)["message"]


def test_missing_signature_part_is_incomplete_signature(server: Server) -> None:
    headers = {
        "Authorization": "AWS4-HMAC-SHA256 Credential=AKIA/20200101/us-east-1/connect/aws4_request",
        "X-Amz-Date": "20200101T000000Z",
    }
    status, out, body = send(server, "GET", "/instance", headers)
    assert status == 403
    assert out["x-amzn-errortype"] == "IncompleteSignatureException"
    assert "'SignedHeaders'" in json.loads(body)["message"]


def test_malformed_json_body_is_serialization_exception(server: Server) -> None:
    body = b"{not json"
    headers = signed(
        server, "PUT", "/instance", body=body, headers={"Content-Type": "application/json"}
    )
    status, out, _ = send(server, "PUT", "/instance", headers, body)
    assert status == 400 and out["x-amzn-errortype"] == "SerializationException"


def test_wrong_json_type_is_serialization_exception(server: Server) -> None:
    body = json.dumps(
        {"IdentityManagementType": 5, "InboundCallsEnabled": "yes", "OutboundCallsEnabled": True}
    ).encode()
    headers = signed(server, "PUT", "/instance", body=body)
    status, out, _ = send(server, "PUT", "/instance", headers, body)
    assert status == 400 and out["x-amzn-errortype"] == "SerializationException"


def test_unknown_connect_path_is_404(server: Server) -> None:
    headers = signed(server, "GET", "/no/such/thing")
    status, out, _ = send(server, "GET", "/no/such/thing", headers)
    assert status == 404 and out["x-amzn-errortype"] == "UnknownOperationException"


def test_sts_errors_are_xml_with_query_codes(server: Server) -> None:
    body = b"Action=GetCallerIdentity&Version=2011-06-15"
    form = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    headers = signed(
        server,
        "POST",
        "/",
        service="sts",
        body=body,
        headers=form,
        key="AKIANOSUCHKEY0000000",
        secret="x" * 40,
    )
    status, _, data = send(server, "POST", "/", headers, body)
    assert status == 403
    assert b"<Code>InvalidClientTokenId</Code>" in data and b"<Type>Sender</Type>" in data
    status, _, data = send(server, "POST", "/", form, body)
    assert status == 403 and b"<Code>MissingAuthenticationToken</Code>" in data


def test_unknown_query_action_is_invalid_action(server: Server) -> None:
    body = b"Action=LaunchRockets&Version=2011-06-15"
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    headers = signed(server, "POST", "/", service="sts", body=body, headers=form)
    status, _, data = send(server, "POST", "/", headers, body)
    assert status == 400 and b"<Code>InvalidAction</Code>" in data


def test_oversized_body_is_refused_before_parsing(server: Server) -> None:
    body = b"x" * (1024 * 1024 + 10)
    status, headers, _ = send(
        server, "PUT", "/instance", {"Content-Type": "application/json"}, body
    )
    assert status == 413 and headers["x-amzn-requestid"]


@pytest.mark.parametrize(
    ("service", "call"),
    [
        ("iam", lambda c, big: c.create_saml_provider(Name="big", SAMLMetadataDocument=big)),
        ("sts", lambda c, big: c.assume_role(RoleArn=big, RoleSessionName="s")),
        ("cloudtrail", lambda c, big: c.lookup_events(NextToken=big)),
        ("connect", lambda c, big: c.create_agent_status(InstanceId="i", Name=big, State="x")),
    ],
    ids=["iam", "sts", "cloudtrail", "connect"],
)
def test_oversized_body_is_refused_in_the_services_own_protocol(
    server: Server, service: str, call: Any
) -> None:
    """The 413 comes before the body is read, yet in the protocol the request's head names
    (its signature's service): XML for IAM and STS, which botocore could not parse as JSON."""
    client = server.client(service, parameter_validation=False)
    error = aws_error(call, client, "x" * (1024 * 1024 + 10))
    assert (error["Status"], error["Code"]) == (413, "RequestEntityTooLargeException"), error
    assert error["Message"] == "Request Entity Too Large"


def test_presigned_url_works_and_dies_with_expiry(server: Server) -> None:
    from botocore.auth import SigV4QueryAuth

    request = AWSRequest(method="GET", url=server.url + "/instance")
    SigV4QueryAuth(Credentials(ROOT_KEY, ROOT_SECRET), "connect", "us-east-1", expires=60).add_auth(
        request
    )
    url = urlsplit(request.prepare().url)
    status, _, body = send(server, "GET", f"{url.path}?{url.query}")
    assert status == 200 and "InstanceSummaryList" in json.loads(body)
    tampered = url.query.replace("X-Amz-Expires=60", "X-Amz-Expires=61")
    status, headers, _ = send(server, "GET", f"{url.path}?{tampered}")
    assert status == 403 and headers["x-amzn-errortype"] == "InvalidSignatureException"


def test_header_and_query_auth_together_are_refused(server: Server) -> None:
    from botocore.auth import SigV4QueryAuth

    request = AWSRequest(method="GET", url=server.url + "/instance")
    SigV4QueryAuth(Credentials(ROOT_KEY, ROOT_SECRET), "connect", "us-east-1", expires=60).add_auth(
        request
    )
    url = urlsplit(request.prepare().url)
    headers = signed(server, "GET", "/instance")
    status, _, _ = send(server, "GET", f"{url.path}?{url.query}", headers)
    assert status == 403


def test_slow_body_is_cut_off_with_408(tmp_path: Path) -> None:
    import socket

    from tests.support.server import start_server

    srv = start_server(tmp_path, "--body-timeout", "1")
    try:
        parts = urlsplit(srv.url)
        with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
            sock.sendall(
                b"PUT /instance HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                b'\r\nContent-Length: 100\r\n\r\n{"partial":'
            )
            answer = sock.recv(4096)
        assert answer.startswith(b"HTTP/1.1 408")
        assert b"RequestTimeoutException" in answer and b"x-amzn-requestid" in answer.lower()
    finally:
        srv.stop()


@pytest.mark.parametrize(
    ("service", "path"),
    [
        ("sts", "/?Action=GetCallerIdentity&Version=2011-06-15&note=%FF%FE"),
        ("connect", "/instance?note=%C3%28"),  # invalid UTF-8: a lead byte, then "("
    ],
)
def test_query_escapes_that_are_not_utf8_are_canonicalised_byte_for_byte(
    server: Server, service: str, path: str
) -> None:
    """SigV4 encodes the query's bytes: ``%FF`` stays ``%FF`` in the canonical request (as the
    signer wrote it), not the ``%EF%BF%BD`` of a replacement character, so a correctly signed
    request is not a SignatureDoesNotMatch."""
    headers = signed(server, "GET", path, service=service)
    status, _, body = send(server, "GET", path, headers)
    assert status == 200, body


@pytest.mark.parametrize(
    ("service", "code"),
    [
        ("connect", "InvalidSignatureException"),
        ("sts", "SignatureDoesNotMatch"),
        ("iam", "SignatureDoesNotMatch"),
        ("cloudtrail", "InvalidSignatureException"),
    ],
)
def test_a_credential_scoped_to_another_service_is_the_auth_layers_error(
    server: Server, service: str, code: str
) -> None:
    """boto3 signing for a service this endpoint does not serve (``s3``): the service's own
    auth-layer refusal, as every other signature error (awsQuery spelling on STS and IAM,
    restJson1's lower-case ``message``)."""
    client = server.client(service)
    client._request_signer._signing_name = "s3"  # what the request is signed for
    call = {
        "connect": lambda: client.list_instances(),
        "sts": lambda: client.get_caller_identity(),
        "iam": lambda: client.list_users(),
        "cloudtrail": lambda: client.lookup_events(),
    }[service]
    error = aws_error(call)
    assert (error["Status"], error["Code"]) == (403, code)
    assert error["Message"] == f"Credential should be scoped to correct service: '{service}'. "
    if service == "connect":
        headers = signed(server, "GET", "/instance", service="s3")
        status, out, body = send(server, "GET", "/instance", headers)
        assert (status, out["x-amzn-errortype"]) == (403, code)
        assert json.loads(body) == {"message": error["Message"]}


@pytest.mark.parametrize("service", ["iam", "sts", "cloudtrail", "connect"])
def test_oversized_head_is_refused_in_the_services_own_protocol(
    server: Server, service: str
) -> None:
    """A head past --max-header-bytes (here a 40 KB session token) is refused before the app
    sees it, in the protocol its signature names, as the 413 is."""
    client = server.client(service, token="t" * 40_000)
    call = {
        "iam": lambda: client.list_users(),
        "sts": lambda: client.get_caller_identity(),
        "cloudtrail": lambda: client.lookup_events(),
        "connect": lambda: client.list_instances(),
    }[service]
    error = aws_error(call)
    assert (error["Status"], error["Code"]) == (431, "RequestHeaderFieldsTooLargeException"), error
    assert error["Message"] == "Request Header Fields Too Large"

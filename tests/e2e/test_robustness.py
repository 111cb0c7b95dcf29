"""Bad input never gets a 500 or a traceback: random signed requests against the real server
must all be answered with a well-formed AWS error (or success), each with a request id."""

from __future__ import annotations

import http.client
import json
from urllib.parse import quote, urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.server import ROOT_KEY, ROOT_SECRET, Server

paths = st.sampled_from(
    [
        "/user/federate/{x}",
        "/instance/{x}",
        "/instance",
        "/users/{x}",
        "/users/{x}/{x}",
        "/users-summary/{x}",
        "/users/{x}/{x}/identity-info",
        "/security-profiles-summary/{x}",
        "/{x}",
        "/",
    ]
)
text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=120)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4),
    max_leaves=12,
)


def _send(
    server: Server, method: str, path: str, body: bytes, query: str
) -> tuple[int, dict, bytes]:
    url = server.url + path + (f"?{query}" if query else "")
    request = AWSRequest(
        method=method, url=url, data=body, headers={"Content-Type": "application/json"}
    )
    SigV4Auth(Credentials(ROOT_KEY, ROOT_SECRET), "connect", "us-east-1").add_auth(request)
    prepared = request.prepare()
    parts = urlsplit(prepared.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.request(
        method,
        parts.path + (f"?{parts.query}" if parts.query else ""),
        body=body,
        headers=dict(prepared.headers.items()),
    )
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, data


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    method=st.sampled_from(["GET", "PUT", "POST", "DELETE"]),
    path=paths,
    label=text,
    document=json_values,
    query=st.lists(st.tuples(st.sampled_from(["maxResults", "nextToken", "x"]), text), max_size=3),
)
def test_random_signed_connect_requests_get_well_formed_answers(
    server: Server,
    method: str,
    path: str,
    label: str,
    document: object,
    query: list[tuple[str, str]],
) -> None:
    target = path.replace("{x}", quote(label, safe="") or "x")
    body = json.dumps(document).encode() if method in ("PUT", "POST") else b""
    query_string = "&".join(f"{quote(k)}={quote(v, safe='')}" for k, v in query)
    status, headers, data = _send(server, method, target, body, query_string)
    assert status < 500, data
    assert headers.get("x-amzn-requestid")
    if status >= 400:
        assert headers.get("x-amzn-errortype"), (status, data)
        error = json.loads(data)
        assert isinstance(error, dict) and ("Message" in error or "message" in error)
        assert "Traceback" not in data.decode("utf-8", "replace")


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    fields=st.dictionaries(
        st.sampled_from(
            [
                "Action",
                "Version",
                "RoleArn",
                "RoleSessionName",
                "DurationSeconds",
                "PrincipalArn",
                "SAMLAssertion",
                "UserName",
                "PolicyDocument",
                "RoleName",
                "Policy",
            ]
        ),
        text,
        max_size=6,
    ),
    action=st.sampled_from(
        [
            "AssumeRole",
            "AssumeRoleWithSAML",
            "GetCallerIdentity",
            "CreateUser",
            "PutRolePolicy",
            "CreateSAMLProvider",
            "Nope",
        ]
    ),
    service=st.sampled_from(["sts", "iam"]),
)
def test_random_query_requests_get_well_formed_xml_errors(
    server: Server, fields: dict, action: str, service: str
) -> None:
    fields = {**fields, "Action": action, "Version": fields.get("Version", "2011-06-15")}
    body = "&".join(f"{quote(k)}={quote(v, safe='')}" for k, v in fields.items()).encode()
    request = AWSRequest(
        method="POST",
        url=server.url + "/",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    SigV4Auth(Credentials(ROOT_KEY, ROOT_SECRET), service, "us-east-1").add_auth(request)
    parts = urlsplit(server.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.request("POST", "/", body=body, headers=dict(request.headers.items()))
    response = conn.getresponse()
    data = response.read()
    conn.close()
    assert response.status < 500, data
    if response.status >= 400:
        assert b"<ErrorResponse" in data and b"<Code>" in data and b"<RequestId>" in data


xml_ish = st.one_of(
    text.map(str.encode),
    st.binary(max_size=300),
    st.sampled_from(
        [
            b"<samlp:Response xmlns:samlp='urn:oasis:names:tc:SAML:2.0:protocol'/>",
            b"<?xml version='1.0'?><!DOCTYPE a [<!ENTITY b 'c'>]><a>&b;</a>",
            b"<a xmlns='urn:oasis:names:tc:SAML:2.0:assertion'><Attribute Name='x'/></a>",
        ]
    ),
)


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    payload=xml_ish,
    encode=st.booleans(),
    path=st.sampled_from(["/saml", "/saml/choose", "/us-east-1/saml"]),
    relay=text,
)
def test_random_browser_posts_get_pages_not_500s(
    server: Server, payload: bytes, encode: bool, path: str, relay: str
) -> None:
    import base64
    from urllib.parse import urlencode

    value = base64.b64encode(payload).decode() if encode else payload.decode("latin-1")
    parts = urlsplit(server.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.request(
        "POST",
        path,
        body=urlencode({"SAMLResponse": value, "RelayState": relay, "state": value, "role": relay}),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    response = conn.getresponse()
    data = response.read()
    conn.close()
    assert 200 <= response.status < 500, data
    assert b"Traceback" not in data

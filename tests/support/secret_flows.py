"""Every flow that handles a secret, run against a real server, returning the secrets it saw
(for the log-hygiene tests: none of them may appear in any log line, in any log format).

IAM keys, AssumeRoleWithSAML, GetFederationToken and its sign-in URL, a presigned URL, the
browser's SAML POST through federate and sign-in."""

from __future__ import annotations

import base64
import http.cookiejar
import re
import urllib.request
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.support.saml_world import build_saml_world
from tests.support.server import ROOT_SECRET, Server


class _Recorder(urllib.request.HTTPRedirectHandler):
    def __init__(self) -> None:
        self.locations: list[str] = []

    def redirect_request(
        self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> Any:
        self.locations.append(newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _browser() -> tuple[urllib.request.OpenerDirector, http.cookiejar.CookieJar, _Recorder]:
    jar = http.cookiejar.CookieJar()
    recorder = _Recorder()
    return (
        urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), recorder),
        jar,
        recorder,
    )


def _assertion_content(assertion: str) -> list[str]:
    xml = base64.b64decode(assertion).decode()
    found = re.findall(r"<(?:\w+:)?(?:SignatureValue|DigestValue)>([^<]+)<", xml)
    found += re.findall(r'<(?:\w+:)?Assertion [^>]*ID="([^"]+)"', xml)
    assert len(found) >= 3, xml[:500]
    return [value.strip() for value in found]


def exercise_secret_flows(server: Server, name: str = "logs") -> list[str]:
    """Run every secret-handling flow on ``server``; the secrets that went through it."""
    saml = build_saml_world(server, name)
    world = saml.world
    secrets: list[str] = [ROOT_SECRET, world.caller_secret]

    # AssumeRoleWithSAML through the API, then GetFederationToken and its sign-in URL.
    assertion = saml.assertion("agent1")
    secrets += [assertion, *_assertion_content(assertion)]
    creds = saml.assume(assertion)["Credentials"]
    secrets += [creds["SecretAccessKey"], creds["SessionToken"]]
    connect = server.client(
        "connect", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
    )
    token = connect.get_federation_token(InstanceId=world.instance_id)
    code = parse_qs(urlsplit(token["SignInUrl"]).query)["code"][0]
    secrets += [token["Credentials"]["AccessToken"], token["Credentials"]["RefreshToken"], code]
    opener, jar, recorder = _browser()
    page = opener.open(token["SignInUrl"] + "&destination=/ccp-v2", timeout=30)
    assert b"data-authorize=" in page.read()  # landed on the CCP, signed in by cookie

    # A presigned GetFederationToken URL made with the session's credentials.
    request = AWSRequest(method="GET", url=f"{server.url}/user/federate/{world.instance_id}")
    SigV4QueryAuth(
        Credentials(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]),
        "connect",
        "us-east-1",
        expires=60,
    ).add_auth(request)
    presigned = request.prepare().url
    query = parse_qs(urlsplit(presigned).query)
    secrets += [query["X-Amz-Signature"][0]]
    assert urllib.request.urlopen(presigned, timeout=30).status == 200

    # The browser: POST /saml with a RelayState, then federate, then the sign-in URL.
    browser_assertion = saml.assertion("agent2")
    secrets += [browser_assertion, *_assertion_content(browser_assertion)]
    relay = f"/connect/federate/{world.instance_id}?destination={quote('/ccp-v2')}"
    landed = opener.open(
        urllib.request.Request(
            server.url + "/saml",
            data=urlencode({"SAMLResponse": browser_assertion, "RelayState": relay}).encode(),
        ),
        timeout=30,
    )
    assert b"data-authorize=" in landed.read()
    browser_codes = [
        parse_qs(urlsplit(u).query)["code"][0] for u in recorder.locations if "code=" in u
    ]
    assert len(browser_codes) == 1  # the redirect from federate to the sign-in URL
    secrets += browser_codes + [cookie.value for cookie in jar if cookie.value]
    assert any(cookie.name == "connectfed_console" for cookie in jar)

    # An IAM access key created and listed.
    iam = server.client("iam")
    iam.create_user(UserName="logged")
    secrets.append(iam.create_access_key(UserName="logged")["AccessKey"]["SecretAccessKey"])
    return secrets

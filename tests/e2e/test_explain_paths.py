"""Explanations reached the other ways: ``connectfed explain`` (from the database and from a
running server), the browser's error pages (a link in demo/admin mode only), and the SAML
paths (AssumeRoleWithSAML's trust policy, the console federation step)."""

from __future__ import annotations

import http.client
import itertools
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from urllib.parse import urlencode, urlsplit

import pytest
from botocore.exceptions import ClientError

from tests.support.saml_world import SamlWorld, build_saml_world
from tests.support.server import Server, start_server
from tests.support.world import World, build_world

_names = itertools.count()


@pytest.fixture(scope="module")
def admin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(tmp_path_factory.mktemp("explain-paths"), "--throttle-rate", "0", "--admin")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def saml(admin: Server) -> SamlWorld:
    return build_saml_world(admin, "paths")


@pytest.fixture(scope="module")
def world(admin: Server) -> World:
    return build_world(admin, "paths-sts")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "connectfed.cli.main", "explain", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _request(
    server: Server,
    method: str,
    target: str,
    body: str | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], str]:
    parts = urlsplit(server.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    sent = dict(headers or {})
    if body is not None:
        sent["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, target, body=body, headers=sent)
    response = conn.getresponse()
    data = response.read().decode()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, data


def _denied_federation(world: World, session: str) -> str:
    connect = world.connect_as(session)
    with pytest.raises(ClientError) as caught:
        connect.get_federation_token(InstanceId=world.instance_id)
    return str(caught.value.response["ResponseMetadata"]["RequestId"])


def test_the_cli_reads_the_database_and_the_admin_api(admin: Server, world: World) -> None:
    request_id = _denied_federation(world, "Agent1")
    for where in (["--data-dir", str(admin.data_dir)], ["--endpoint-url", admin.url]):
        result = _cli(request_id, *where)
        assert result.returncode == 0, result.stderr
        text = result.stdout
        assert f"Request {request_id}: refused with UserNotFoundException" in text
        assert "✗ user" in text and "✓ authorize" in text
        assert "Differs only in letter case: 'agent1'." in text
    as_json = _cli(request_id, "--data-dir", str(admin.data_dir), "--output", "json")
    assert json.loads(as_json.stdout)["request_id"] == request_id


def test_the_cli_prints_a_policy_evaluation(admin: Server) -> None:
    iam = admin.client("iam")
    name = f"cli{next(_names)}"
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    mine = admin.client("iam", key["AccessKeyId"], key["SecretAccessKey"])
    with pytest.raises(ClientError) as caught:
        mine.create_user(UserName="nope")
    request_id = caught.value.response["ResponseMetadata"]["RequestId"]
    text = _cli(request_id, "--data-dir", str(admin.data_dir)).stdout
    assert "Identity policy evaluation: implicitDeny" in text
    assert "  action     iam:CreateUser" in text
    assert f"    aws:username = {name}" in text


def test_the_cli_says_when_nothing_is_recorded(admin: Server) -> None:
    result = _cli("not-a-recorded-id", "--data-dir", str(admin.data_dir))
    assert result.returncode == 1
    assert "no explanation recorded for not-a-recorded-id" in result.stderr
    off = _cli("x", "--endpoint-url", "ftp://example.test")
    assert off.returncode == 2 and "http:// or https://" in off.stderr


def test_assume_role_with_saml_trust_denial_is_explained(admin: Server, saml: SamlWorld) -> None:
    # Addressed to this server's own /saml: verified, but the role trusts only AWS's audience.
    assertion = saml.assertion(recipient=f"{admin.url}/saml", audience=f"{admin.url}/saml")
    with pytest.raises(ClientError) as caught:
        saml.assume(assertion)
    request_id = caught.value.response["ResponseMetadata"]["RequestId"]
    assert caught.value.response["Error"]["Code"] == "AccessDenied"
    found = json.loads(_cli(request_id, "--endpoint-url", admin.url, "--output", "json").stdout)
    assert (found["operation"], found["error"]) == ("sts:AssumeRoleWithSAML", "AccessDenied")
    assert found["principal"].startswith(saml.provider_arn)
    [check] = found["checks"]
    assert check["kind"] == "trust" and check["principal"] == saml.provider_arn
    [condition] = check["policies"][0]["statements"][0]["conditions"]
    assert (condition["key"], condition["actual"], condition["holds"]) == (
        "SAML:aud",
        [f"{admin.url}/saml"],
        False,
    )


def _sign_in_and_federate(
    server: Server, saml: SamlWorld, session: str
) -> tuple[int, dict[str, str], str]:
    relay = f"{server.url}/connect/federate/{saml.world.instance_id}?destination=/ccp-v2"
    status, headers, _ = _request(
        server,
        "POST",
        "/saml",
        urlencode({"SAMLResponse": saml.assertion(session), "RelayState": relay}),
    )
    assert status == 303, headers
    cookie = headers["set-cookie"].split(";", 1)[0]
    return _request(server, "GET", headers["location"], headers={"Cookie": cookie})


def test_the_browser_error_page_links_to_the_explanation(admin: Server, saml: SamlWorld) -> None:
    status, headers, page = _sign_in_and_federate(admin, saml, "Agent1")
    assert status == 403 and "Access denied" in page
    found = re.search(r'id="explain"><a href="(/_connectfed/explain/([^"]+))"', page)
    assert found is not None, page
    assert found.group(2) == headers["x-amzn-requestid"]
    status, headers, explained = _request(
        admin, "GET", found.group(1), headers={"Accept": "text/html"}
    )
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert "Differs only in letter case: &#x27;agent1&#x27;." in explained


def test_without_admin_the_error_page_has_no_link(server: Server) -> None:
    saml = build_saml_world(server, f"nolink{next(_names)}")
    status, _, page = _sign_in_and_federate(server, saml, "Agent1")
    assert status == 403 and "Access denied" in page
    assert 'id="explain"' not in page and "/_connectfed/explain" not in page

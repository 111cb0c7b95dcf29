"""The AWS SDK for JavaScript v3 (pinned in tests/js/package-lock.json) against a real server."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

import pytest

from connectfed.saml.testidp import TestIdp
from tests.conftest import IN_CI
from tests.support.admin import admin, start_admin_server
from tests.support.server import ROOT_KEY, ROOT_SECRET, Server
from tests.support.world import build_world

JS = Path(__file__).resolve().parents[1] / "js"


def _node_or_skip() -> str:
    node = shutil.which("node")
    ready = node is not None and (JS / "node_modules" / "@aws-sdk" / "client-connect").is_dir()
    if not ready:
        if IN_CI:
            raise RuntimeError(
                "node and tests/js/node_modules are required in CI (scripts/test installs them)"
            )
        pytest.skip("node or tests/js/node_modules missing: run scripts/test to install them")
    assert node is not None
    return node


def test_js_sdk_federation_flow_and_errors(server: Server) -> None:
    node = _node_or_skip()
    world = build_world(server, "js")
    env = dict(
        os.environ,
        ENDPOINT=server.url,
        CALLER_KEY=world.caller_key,
        CALLER_SECRET=world.caller_secret,
        ROLE_ARN=world.role_arn,
        INSTANCE_ID=world.instance_id,
        AWS_CONFIG_FILE="/nonexistent",
        AWS_SHARED_CREDENTIALS_FILE="/nonexistent",
    )
    result = subprocess.run(
        [node, "flow.mjs"], cwd=JS, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["accessToken"].startswith("cfa_")
    assert out["userArn"].endswith("/agent/" + out["userId"])
    assert datetime.fromisoformat(
        out["accessExpiration"].replace("Z", "+00:00")
    ) <= datetime.fromisoformat(out["refreshExpiration"].replace("Z", "+00:00"))
    assert out["notFound"]["name"] == "UserNotFoundException"
    assert out["notFound"]["status"] == 404 and out["notFound"]["typed"]
    assert out["notFound"]["requestId"]
    assert out["tooLong"]["name"] == "InvalidParameterException"
    assert out["tooLong"]["status"] == 400


@pytest.mark.parametrize("offset", [1200, -1200])
def test_js_sdk_corrects_a_20_minute_clock_skew_from_the_date_header(
    tmp_path: Path, offset: int
) -> None:
    # The server's clock is moved instead of the client's: to the client, that is a clock 20
    # minutes off. The SDK must learn the offset from the refusal's Date header and succeed
    # on its second attempt, as it does against AWS.
    node = _node_or_skip()
    server = start_admin_server(tmp_path)
    try:
        admin(server).set_offset(offset)
        env = dict(
            os.environ,
            ENDPOINT=server.url,
            KEY=ROOT_KEY,
            SECRET=ROOT_SECRET,
            AWS_CONFIG_FILE="/nonexistent",
            AWS_SHARED_CREDENTIALS_FILE="/nonexistent",
        )
        result = subprocess.run(
            [node, "skew.mjs"], cwd=JS, env=env, capture_output=True, text=True, timeout=120
        )
    finally:
        server.stop()
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    for service in ("sts", "connect"):
        assert out[service]["attempts"] == 2, out
        assert abs(out[service]["offset"] - offset * 1000) < 10_000, out


def test_js_sdk_reads_tags_access_key_status_and_early_refusals(server: Server) -> None:
    """Connect's and IAM's tag operations and ``Tags`` members, UpdateAccessKey and the
    refusals made before a request is read, through the JavaScript SDK's own parsers (XML
    lists and empty elements, restJson1 maps) and its encoding of the ARN in
    ``/tags/{resourceArn}`` (``:`` and ``/`` percent-encoded)."""
    node = _node_or_skip()
    world = build_world(server, "jstags")
    env = dict(
        os.environ,
        ENDPOINT=server.url,
        KEY=ROOT_KEY,
        SECRET=ROOT_SECRET,
        INSTANCE_ID=world.instance_id,
        SECURITY_PROFILE=world.security_profile,
        ROUTING_PROFILE=world.routing_profile,
        METADATA=TestIdp().metadata(),
        AWS_CONFIG_FILE="/nonexistent",
        AWS_SHARED_CREDENTIALS_FILE="/nonexistent",
    )
    result = subprocess.run(
        [node, "tags.mjs"], cwd=JS, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])

    connect = out["connect"]
    tags = connect["tags"]
    for kind in ("user", "queue", "status", "routing", "instance"):
        assert connect["described"][kind] == tags, kind
        assert connect["listed"][kind] == tags, kind
    assert connect["afterChanges"] == {"Env": "prod", "007": "1e3", "Site": "lyon"}
    # The whole ARN is one label: every ':' and '/' of it percent-encoded, as the SDK sends it.
    encoded = quote(connect["userArn"], safe="")
    assert connect["paths"] == [f"{verb} /tags/{encoded}" for verb in ("POST", "DELETE", "GET")]
    assert "%2F" in encoded and "%3A" in encoded
    missing = connect["missing"]
    assert (missing["name"], missing["status"]) == ("ResourceNotFoundException", 404)
    assert missing["message"].startswith("Resource not found: arn:aws:connect:")
    assert missing["requestId"]
    reserved = connect["reserved"]
    assert (reserved["name"], reserved["status"]) == ("InvalidParameterException", 400)
    assert "'tags.aws:team.key'" in reserved["message"]

    iam = out["iam"]
    created = [["team", "agents"], ["Env", "prod"], ["empty", ""], [" lead ", " 007 "]]
    assert iam["created"] == created
    assert iam["got"] == sorted(created)
    assert iam["pages"] == [
        {"tags": [[" lead ", " 007 "], ["Env", "prod"]], "truncated": True, "marker": True},
        {"tags": [["Site", "lyon"], ["TEAM", "ops"]], "truncated": True, "marker": True},
        {"tags": [["empty", ""]], "truncated": False, "marker": False},
    ]
    assert iam["none"] == {"tags": [], "truncated": False, "marker": None}
    assert iam["untagged"] is None
    for name, (error, status, message) in {
        "missing": (
            "NoSuchEntityException",
            404,
            "SAMLProvider arn:aws:iam::123456789012:saml-provider/NoSuchIdp does not exist.",
        ),
        "duplicate": (
            "InvalidInputException",
            400,
            "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
        ),
        "limit": ("LimitExceededException", 409, "Cannot exceed quota for TagsPerSAMLProvider: 50"),
    }.items():
        got = iam[name]
        assert (got["name"], got["status"], got["message"]) == (error, status, message), name
        assert got["requestId"], name

    keys = out["keys"]
    assert keys["listed"] == [[True, "Inactive"]]
    invalid = "The security token included in the request is invalid."
    for service, name in (
        ("sts", "InvalidClientTokenId"),
        ("iam", "InvalidClientTokenId"),
        ("connect", "UnrecognizedClientException"),
    ):
        assert (keys[service]["name"], keys[service]["status"]) == (name, 403), service
        assert keys[service]["message"] == invalid, service
    assert (keys["expired"]["name"], keys["expired"]["status"]) == ("InvalidInputException", 400)
    assert ":user/js-rotating-" in keys["active"]

    refusals = out["refusals"]
    for service in ("iam", "sts", "connect"):
        too_large = refusals[f"{service}413"]
        assert (too_large["name"], too_large["status"]) == (
            "RequestEntityTooLargeException",
            413,
        ), service
        assert too_large["message"] == "Request Entity Too Large", service
        assert refusals[f"{service}After"] == 200, service
        head = refusals[f"{service}431"]
        assert (head["name"], head["status"]) == ("RequestHeaderFieldsTooLargeException", 431)
        assert head["message"] == "Request Header Fields Too Large", service

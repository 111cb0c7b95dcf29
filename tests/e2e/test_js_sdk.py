"""The AWS SDK for JavaScript v3 (pinned in tests/js/package-lock.json) against a real server."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

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

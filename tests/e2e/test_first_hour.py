"""The first hour, as a newcomer meets it: `scripts/demo` says READY only when it serves, a taken
port is one line, the root keys rotate (and the server still starts), and the server's root
and /saml explain themselves to a browser while API clients get AWS's answers."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.support.browser import Browser
from tests.support.server import ROOT_KEY, ROOT_SECRET, Server, free_port, start_server

REPO = Path(__file__).resolve().parents[2]
HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"  # Chromium's Accept
UNKNOWN = "00000000-0000-4000-8000-000000000000"


def _get(port: int, path: str = "/_connectfed/health") -> int:
    """One GET, no retry: the server must already be serving."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    finally:
        conn.close()


def _stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def test_scripts_demo_prints_credentials_and_ready_only_once_it_serves(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONNECTFED_")}
    process = subprocess.Popen(
        [
            "bash",
            str(REPO / "scripts" / "demo"),
            "--port",
            str(port),
            "--data-dir",
            str(tmp_path / "data"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    lines: list[str] = []
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        # The very first line the demo prints is printed by a server that already answers.
        assert first.startswith("connectfed "), first
        assert _get(port) == 200
        lines.append(first)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            assert line, "".join(lines)
            lines.append(line)
            if line.strip() == "READY":
                break
        assert _get(port) == 200
    finally:
        _stop(process)
    text = "".join(lines)
    assert "Root credentials" in text and "the demo never needs them" in text
    assert "1. Administrator: IAM user demo-administrator" in text
    assert "2. Federation only: IAM user demo-federation" in text
    assert lines[-1].strip() == "READY"


def test_a_taken_port_is_one_line_before_anything_else(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "connectfed.cli.main",
                "serve",
                "--demo",
                "--test-idp",
                "--port",
                str(port),
                "--data-dir",
                str(tmp_path / "data"),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    output = (done.stdout + done.stderr).splitlines()
    assert done.returncode == 2
    assert output == [
        f"error: cannot listen on 127.0.0.1:{port}: the port is already in use "
        "(another connectfed? stop it, or choose another --port)"
    ]
    assert not (tmp_path / "data").exists()  # nothing else happened


def _root_credentials(output: list[str]) -> tuple[str, str]:
    values = dict(
        line.strip().split("=", 1) for line in output if line.strip().startswith("CONNECTFED_ROOT_")
    )
    return values["CONNECTFED_ROOT_ACCESS_KEY_ID"], values["CONNECTFED_ROOT_SECRET_ACCESS_KEY"]


def test_root_keys_rotate_as_documented_and_the_server_restarts(tmp_path: Path) -> None:
    data = tmp_path / "data"
    srv = start_server(data, "--demo", root_env=False)
    try:
        old_key, old_secret = _root_credentials(srv.output)
        new = srv.client("iam", old_key, old_secret).create_access_key()["AccessKey"]
        assert new["UserName"] == "root"
        iam = srv.client("iam", new["AccessKeyId"], new["SecretAccessKey"])
        iam.delete_access_key(AccessKeyId=old_key)
        assert (
            _error_code(srv.client("sts", old_key, old_secret).get_caller_identity)
            == "InvalidClientTokenId"
        )
    finally:
        srv.stop()
    again = start_server(data, "--demo", root_env=False)
    try:
        assert not any("CONNECTFED_ROOT_" in line for line in again.output)
        sts = again.client("sts", new["AccessKeyId"], new["SecretAccessKey"])
        assert sts.get_caller_identity()["Arn"].endswith(":root")
        assert (
            _error_code(again.client("sts", old_key, old_secret).get_caller_identity)
            == "InvalidClientTokenId"
        )
    finally:
        again.stop()


def _error_code(call: Any) -> str:
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as caught:
        call()
    return str(caught.value.response["Error"]["Code"])


def _raw(server: Server, method: str, target: str, headers: dict[str, str]) -> Any:
    browser = Browser(server.url)
    return browser.request(method, target, headers=headers)


def test_the_root_shows_a_page_to_a_browser(server: Server) -> None:
    reply = _raw(server, "GET", "/", {"Accept": HTML})
    assert reply.status == 200
    assert reply.headers["content-type"].startswith("text/html")
    page = reply.body.decode()
    assert "This is a connectfed server" in page
    assert f"{server.url}/connect/&lt;instance-id&gt;/ccp-v2/" in page
    assert f"{server.url}/saml" in page and "README.md" in page
    assert 'href="/idp"' not in page  # this server runs no test IdP
    assert 'name="viewport"' in page


@pytest.mark.parametrize(
    "headers,target,code",
    [
        ({"Accept": "*/*"}, "/", "MissingAuthenticationTokenException"),  # curl
        ({}, "/", "MissingAuthenticationTokenException"),
        (
            {"Accept": HTML, "Authorization": "AWS4-HMAC-SHA256 Credential=x"},
            "/",
            "IncompleteSignatureException",
        ),
        (
            {"Accept": HTML, "X-Amz-Date": "20260101T000000Z"},
            "/",
            "MissingAuthenticationTokenException",
        ),
        ({"Accept": HTML}, "/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=x", None),
        ({"Accept": HTML}, "/?Action=GetCallerIdentity&Version=2011-06-15", None),
    ],
)
def test_the_root_keeps_the_aws_answer_for_api_clients(
    server: Server, headers: dict[str, str], target: str, code: str | None
) -> None:
    reply = _raw(server, "GET", target, headers)
    assert reply.status in (400, 403), reply.body
    assert not reply.headers["content-type"].startswith("text/html")
    assert "connectfed server" not in reply.body.decode()
    if code is not None:
        assert (reply.status, reply.headers["x-amzn-errortype"]) == (403, code)


def test_a_signed_request_to_the_root_is_the_apis(server: Server) -> None:
    request = AWSRequest(method="GET", url=f"{server.url}/", headers={"Accept": HTML})
    SigV4Auth(Credentials(ROOT_KEY, ROOT_SECRET), "connect", "us-east-1").add_auth(request)
    reply = _raw(server, "GET", "/", dict(request.headers.items()))
    assert not reply.headers["content-type"].startswith("text/html")
    assert "x-amzn-errortype" in reply.headers
    assert server.client("sts").get_caller_identity()["Account"]  # POST / still STS


def test_get_saml_explains_the_endpoint(server: Server) -> None:
    reply = _raw(server, "GET", "/saml", {"Accept": HTML})
    assert reply.status == 200
    page = reply.body.decode()
    assert "SAML sign-in endpoint" in page and "assertion consumer service" in page
    assert f"{server.url}/connect/federate/&lt;instance-id&gt;?destination=/ccp-v2" in page
    other = _raw(server, "PUT", "/saml", {})
    assert other.status == 405 and other.headers["allow"] == "POST"
    assert b"SAML sign-in endpoint" in other.body
    post = Browser(server.url).request("POST", "/saml", form={"RelayState": ""})
    assert post.status == 400 and b"Bad SAML response" in post.body


def test_idp_without_the_test_idp_says_how_to_start_it(server: Server) -> None:
    reply = _raw(server, "GET", "/idp", {"Accept": HTML})
    assert reply.status == 404
    assert b"scripts/demo --test-idp" in reply.body


@pytest.mark.parametrize(
    "target",
    [
        f"/connect/federate/{UNKNOWN}?destination=/ccp-v2",
        f"/connect/{UNKNOWN}/auth/sign-in?code=cfs_nothing",
        f"/connect/{UNKNOWN}/ccp-v2/",
        f"/connect/{UNKNOWN}/agent-app-v2",
    ],
)
def test_an_unknown_instance_is_called_unknown(server: Server, target: str) -> None:
    reply = Browser(server.url).get(target)
    assert reply.status == 404
    page = reply.body.decode()
    assert '<h1 id="title">Unknown instance</h1>' in page and UNKNOWN in page
    assert "expired" not in page.lower()


def test_a_credentials_post_for_an_unknown_instance_is_called_unknown(server: Server) -> None:
    reply = Browser(server.url).request(
        "POST", f"/connect/{UNKNOWN}/auth/sign-in", form={"credentials": "{}"}
    )
    assert reply.status == 404 and b"Unknown instance" in reply.body

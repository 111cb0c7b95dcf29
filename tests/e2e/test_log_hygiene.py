"""No log line, at any level, carries a token, a secret, a signature or assertion content: a
server at --log-level trace with the access log on goes through every flow that handles them
(IAM keys, AssumeRole, AssumeRoleWithSAML, GetFederationToken, the sign-in URL, a presigned
URL, the browser's SAML POST through federate and sign-in), then its whole output is searched."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from botocore.exceptions import ClientError

from tests.support.secret_flows import exercise_secret_flows
from tests.support.server import Server, start_server

REQUEST_FIELDS = (
    "request_id",
    "method",
    "path",
    "service",
    "operation",
    "principal",
    "status",
    "error_code",
    "duration_ms",
    "client_ip",
)


@pytest.fixture(scope="module")
def chatty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(
        tmp_path_factory.mktemp("logs"),
        "--throttle-rate",
        "0",
        "--log-level",
        "trace",
        "--access-log",
    )
    srv.follow_output()
    yield srv
    srv.stop()


def test_no_secret_in_any_log_line(chatty: Server, tmp_path: Path) -> None:
    secrets = exercise_secret_flows(chatty)

    chatty.stop()
    log = "".join(chatty.output)
    assert "ASGI [" in log and '"GET /connect/' in log  # trace and access lines were written
    _assert_no_secret(log, secrets)


def _assert_no_secret(log: str, secrets: list[str]) -> None:
    for secret in secrets:
        for form in {secret, quote(secret, safe=""), quote(secret)}:
            assert form not in log, f"a secret ({secret[:6]}…) is in the log"
    assert "<redacted>" in log  # redaction had something to do
    for marker in ("SignatureValue", "saml:Assertion", "saml2:Assertion", "NameID"):
        assert marker not in log


def test_json_logs_are_one_object_a_line_one_line_a_request_and_hold_no_secret(
    tmp_path: Path,
) -> None:
    server = start_server(
        tmp_path,
        "--throttle-rate",
        "0",
        "--log-format",
        "json",
        "--log-level",
        "trace",
        "--access-log",
    )
    server.follow_output()
    try:
        secrets = exercise_secret_flows(server, "json")
        sts = server.client("sts")
        caller = sts.get_caller_identity()
        denied = server.client("iam", "AKIANOSUCHKEY0000000", "x" * 40)
        with pytest.raises(ClientError):
            denied.list_users()
    finally:
        server.stop()
    lines = server.output[server.output.index("READY\n") + 1 :]
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all({"time", "level", "logger", "message"} <= entry.keys() for entry in entries)
    requests = [e for e in entries if e["logger"] == "connectfed.request"]
    assert all(set(REQUEST_FIELDS) <= e.keys() for e in requests)
    by_id = {e["request_id"]: e for e in requests}
    assert len(by_id) == len(requests)  # one line per request
    mine = by_id[caller["ResponseMetadata"]["RequestId"]]
    assert (mine["service"], mine["operation"], mine["status"]) == ("sts", "GetCallerIdentity", 200)
    assert mine["principal"] == caller["Arn"] and mine["client_ip"] == "127.0.0.1"
    assert isinstance(mine["duration_ms"], float) and mine["duration_ms"] >= 0
    operations = {(e["service"], e["operation"], e["status"]) for e in requests}
    assert ("connect", "GetFederationToken", 200) in operations
    assert ("sts", "AssumeRoleWithSAML", 200) in operations
    refused = [e for e in requests if e["service"] == "iam" and e["status"] == 403]
    assert refused and refused[-1]["error_code"] == "InvalidClientTokenId"
    assert refused[-1]["principal"] is None
    pages = [e for e in requests if e["path"].startswith("/connect/") and e["service"] is None]
    assert pages and all("?" not in e["path"] for e in requests)
    assert any(e["logger"] == "uvicorn.error" or e["level"] == "trace" for e in entries)
    _assert_no_secret("".join(lines), secrets)


def test_log_level_of_needs_logger_and_level(tmp_path: Path) -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "connectfed.cli.main",
            "serve",
            "--data-dir",
            str(tmp_path),
            "--log-level-of",
            "signxml",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "--log-level-of takes LOGGER=LEVEL" in done.stdout

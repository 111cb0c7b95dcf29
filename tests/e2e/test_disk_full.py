"""A SQLite database that cannot be written (the disk is full), as operators meet it: at start-up
one ``error:`` line, never a traceback; while serving, the writes are ``503 ServiceUnavailable``
(reads still answered) and nothing of them is kept; once there is room again the server writes
by itself.

The disk fills up for the server alone: its file size limit (``RLIMIT_FSIZE``, which Python
ignores SIGXFSZ for, so writes fail with EFBIG as on a full disk) is lowered below the size its
files need."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.support.server import free_port, start_server

pytestmark = pytest.mark.skipif(not hasattr(resource, "prlimit"), reason="Linux's prlimit")
# Far below what a new database's schema needs, and below the WAL's second page.
_FULL = 4096


def _lower_file_size_limit() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (_FULL, resource.RLIM_INFINITY))


def test_a_full_disk_at_start_up_is_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONNECTFED_")}
    serve = ["serve", "--port", str(free_port()), "--data-dir", str(tmp_path)]
    result = subprocess.run(
        [sys.executable, "-m", "connectfed.cli.main", *serve],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        preexec_fn=_lower_file_size_limit,  # in the child alone, before exec
    )
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert result.returncode == 2, output
    lines = [line for line in output.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, output
    assert "cannot use the SQLite database" in lines[0] and "connectfed.db" in lines[0], output


def test_writes_on_a_full_disk_are_503_and_work_again_once_there_is_room(tmp_path: Path) -> None:
    server = start_server(tmp_path, "--throttle-rate", "0")
    server.follow_output()
    try:
        iam, connect = server.client("iam"), server.client("connect")
        iam.create_user(UserName="before")
        pid = server.process.pid
        _, hard = resource.prlimit(pid, resource.RLIMIT_FSIZE)
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (_FULL, hard))
        try:
            for write in (
                lambda: iam.create_user(UserName="during"),
                lambda: connect.create_instance(
                    IdentityManagementType="SAML",
                    InstanceAlias="during",
                    InboundCallsEnabled=True,
                    OutboundCallsEnabled=True,
                ),
            ):
                with pytest.raises(ClientError) as refused:
                    write()
                error = refused.value.response
                assert error["ResponseMetadata"]["HTTPStatusCode"] == 503, error
                assert error["Error"]["Code"] == "ServiceUnavailable", error
            # Reads need no room.
            assert [u["UserName"] for u in iam.list_users()["Users"]] == ["before"]
        finally:
            resource.prlimit(pid, resource.RLIMIT_FSIZE, (hard, hard))
        iam.create_user(UserName="after")
        assert [u["UserName"] for u in iam.list_users()["Users"]] == ["after", "before"]
        assert connect.list_instances()["InstanceSummaryList"] == []
    finally:
        server.stop()
    assert "Traceback" not in "".join(server.output)

"""The quick start is true: the commands `serve --demo` prints work with the unmodified AWS CLI,
as the user they are printed for; the administrator and the federation-only user are what the
output says they are; a restart prints the same keys again, and they are not stored in clear."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support.server import start_server


def _sections(output: list[str]) -> dict[str, list[str]]:
    """The printed demo output by numbered section ("1. Administrator..." -> "admin")."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for raw in output:
        line = raw.rstrip("\n")
        if line.startswith("1. Administrator"):
            current = sections.setdefault("admin", [line])
        elif line.startswith("2. Federation only"):
            current = sections.setdefault("federation", [line])
        elif not line.strip():
            current = None
        elif current is not None:
            current.append(line.strip())
    return sections


def _env(section: list[str], tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_CONFIG_FILE=str(tmp_path / "none"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none")
    )
    for line in section:
        if line.startswith("export AWS_"):
            name, value = line.removeprefix("export ").split("=", 1)
            env[name] = value
    return env


def _aws(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "awscli", *shlex.split(command)[1:]],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _ok(command: str, env: dict[str, str]) -> Any:
    done = _aws(command, env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_printed_demo_commands_work_with_the_aws_cli(tmp_path: Path) -> None:
    srv = start_server(tmp_path / "data", "--demo")
    try:
        sections = _sections(srv.output)
        admin, federation = sections["admin"], sections["federation"]
        assert "IAM user demo-administrator" in admin[0] and "AdministratorAccess" in admin[0]
        assert "IAM user demo-federation" in federation[0]
        assert "may only assume the role ConnectAgentFederation" in federation[0]
        # The administrator's printed command lists the demo's Connect users.
        admin_env = _env(admin, tmp_path)
        listing = next(line for line in admin if line.startswith("aws connect list-users"))
        users = _ok(listing, admin_env)["UserSummaryList"]
        assert {u["Username"] for u in users} == {"agent1", "agent2"}
        assert _ok(f"aws iam list-users --endpoint-url {srv.url} --region us-east-1", admin_env)[
            "Users"
        ]
        # The federation-only user does the federation flow, and nothing else.
        env = _env(federation, tmp_path)
        assert env["AWS_ACCESS_KEY_ID"] != admin_env["AWS_ACCESS_KEY_ID"]
        denied = _aws(listing, env)
        assert denied.returncode == 255 and "AccessDenied" in denied.stderr
        assume = next(line for line in federation if line.startswith("aws sts assume-role"))
        federate = next(line for line in federation if line.startswith("aws connect"))
        creds = _ok(assume, env)["Credentials"]
        env.update(
            AWS_ACCESS_KEY_ID=creds["AccessKeyId"],
            AWS_SECRET_ACCESS_KEY=creds["SecretAccessKey"],
            AWS_SESSION_TOKEN=creds["SessionToken"],
        )
        result = _ok(federate, env)
        assert result["Credentials"]["AccessToken"].startswith("cfa_")
        assert result["UserArn"].endswith(result["UserId"])
        # No printed command needs the root keys.
        printed = "".join(srv.output)
        assert "AKIAROOTEXAMPLE00001" not in printed
    finally:
        srv.stop()


def test_a_restart_prints_the_same_keys_which_are_stored_sealed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = start_server(data, "--demo", root_env=False)
    first.stop()
    assert any(line.startswith("Root credentials") for line in first.output)
    before = _sections(first.output)
    again = start_server(data, "--demo", root_env=False)
    try:
        after = _sections(again.output)
        for name in ("admin", "federation"):
            assert after[name][0] == before[name][0]
            exports = [line for line in before[name] if line.startswith("export ")]
            assert len(exports) == 2
            assert exports == [line for line in after[name] if line.startswith("export ")]
        assert not any(line.startswith("Root credentials") for line in again.output)
        admin_env = _env(after["admin"], tmp_path)
        assert (
            _ok(f"aws iam get-user --endpoint-url {again.url} --region us-east-1", admin_env)[
                "User"
            ]["UserName"]
            == "demo-administrator"
        )
        # The administrator rotates its own key: the next start prints the new one.
        iam = again.client(
            "iam", admin_env["AWS_ACCESS_KEY_ID"], admin_env["AWS_SECRET_ACCESS_KEY"]
        )
        rotated = iam.create_access_key()["AccessKey"]
        iam.delete_access_key(AccessKeyId=admin_env["AWS_ACCESS_KEY_ID"])
    finally:
        again.stop()
    stored = b"".join(p.read_bytes() for p in data.glob("connectfed.db*"))
    for section in after.values():
        secret = _env(section, tmp_path)["AWS_SECRET_ACCESS_KEY"]
        assert secret.encode() not in stored
    third = start_server(data, "--demo", root_env=False)
    third.stop()
    admin_env = _env(_sections(third.output)["admin"], tmp_path)
    assert admin_env["AWS_ACCESS_KEY_ID"] == rotated["AccessKeyId"]
    assert admin_env["AWS_SECRET_ACCESS_KEY"] == rotated["SecretAccessKey"]

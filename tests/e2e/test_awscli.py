"""The unmodified AWS CLI v1 (the ``awscli`` package) against a real server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.aws_env import clean_env
from tests.support.server import Server, start_server
from tests.support.world import World, build_world


def aws(*args: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "awscli", *args],
        env=env,
        text=True,
        capture_output=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"aws {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return result


@pytest.fixture(scope="module")
def cli_world(server: Server) -> World:
    return build_world(server, "cli")


def session_env(world: World, tmp_path: Path) -> dict[str, str]:
    """A clean environment holding an agent1 role session and empty AWS config files."""
    creds = world.assume("agent1")
    return clean_env(
        tmp_path,
        AWS_ACCESS_KEY_ID=creds["AccessKeyId"],
        AWS_SECRET_ACCESS_KEY=creds["SecretAccessKey"],
        AWS_SESSION_TOKEN=creds["SessionToken"],
    )


@pytest.fixture
def agent_env(cli_world: World, tmp_path: Path) -> dict[str, str]:
    return session_env(cli_world, tmp_path)


def federate_args(world: World, *extra: str) -> list[str]:
    return [
        "connect",
        "get-federation-token",
        "--instance-id",
        world.instance_id,
        "--endpoint-url",
        world.server.url,
        "--region",
        "us-east-1",
        *extra,
    ]


def test_assume_role_then_get_federation_token_json(cli_world: World, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=cli_world.caller_key,
        AWS_SECRET_ACCESS_KEY=cli_world.caller_secret,
        AWS_CONFIG_FILE=str(tmp_path / "none"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
    )
    assumed = json.loads(
        aws(
            "sts",
            "assume-role",
            "--role-arn",
            cli_world.role_arn,
            "--role-session-name",
            "agent1",
            "--endpoint-url",
            cli_world.server.url,
            "--region",
            "us-east-1",
            env=env,
        ).stdout
    )
    creds = assumed["Credentials"]
    env.update(
        AWS_ACCESS_KEY_ID=creds["AccessKeyId"],
        AWS_SECRET_ACCESS_KEY=creds["SecretAccessKey"],
        AWS_SESSION_TOKEN=creds["SessionToken"],
    )
    out = json.loads(aws(*federate_args(cli_world, "--output", "json"), env=env).stdout)
    assert out["Credentials"]["AccessToken"].startswith("cfa_")
    assert out["UserArn"].endswith(out["UserId"])


def test_profile_from_shared_credentials_file(cli_world: World, agent_env: dict[str, str]) -> None:
    Path(agent_env["AWS_SHARED_CREDENTIALS_FILE"]).write_text(
        "[agent]\n"
        f"aws_access_key_id = {agent_env.pop('AWS_ACCESS_KEY_ID')}\n"
        f"aws_secret_access_key = {agent_env.pop('AWS_SECRET_ACCESS_KEY')}\n"
        f"aws_session_token = {agent_env.pop('AWS_SESSION_TOKEN')}\n"
    )
    out = json.loads(aws(*federate_args(cli_world, "--profile", "agent"), env=agent_env).stdout)
    assert out["SignInUrl"].startswith(cli_world.server.url)


def test_query_and_text_output(cli_world: World, agent_env: dict[str, str]) -> None:
    out = aws(
        *federate_args(cli_world, "--query", "Credentials.AccessToken", "--output", "text"),
        env=agent_env,
    ).stdout.strip()
    assert out.startswith("cfa_") and "\n" not in out


def test_table_output(cli_world: World, agent_env: dict[str, str]) -> None:
    out = aws(*federate_args(cli_world, "--output", "table"), env=agent_env).stdout
    assert "GetFederationToken" in out and "AccessToken" in out


def test_cli_input_json(cli_world: World, agent_env: dict[str, str]) -> None:
    args = [
        "connect",
        "get-federation-token",
        "--cli-input-json",
        json.dumps({"InstanceId": cli_world.instance_id}),
        "--endpoint-url",
        cli_world.server.url,
        "--region",
        "us-east-1",
    ]
    assert json.loads(aws(*args, env=agent_env).stdout)["UserId"]


def test_generate_cli_skeleton(cli_world: World, agent_env: dict[str, str]) -> None:
    skeleton = json.loads(
        aws(
            "connect", "get-federation-token", "--generate-cli-skeleton", "input", env=agent_env
        ).stdout
    )
    assert skeleton == {"InstanceId": ""}
    output = json.loads(
        aws(*federate_args(cli_world, "--generate-cli-skeleton", "output"), env=agent_env).stdout
    )
    assert set(output) >= {"Credentials", "SignInUrl", "UserArn", "UserId"}


def test_debug_logs_the_exchange(cli_world: World, agent_env: dict[str, str]) -> None:
    result = aws(*federate_args(cli_world, "--debug"), env=agent_env)
    assert "AWS4-HMAC-SHA256" in result.stderr or "Authorization" in result.stderr
    assert json.loads(result.stdout)["UserId"]


def test_no_sign_request_is_missing_authentication_token(
    cli_world: World, agent_env: dict[str, str]
) -> None:
    result = aws(*federate_args(cli_world, "--no-sign-request"), env=agent_env, check=False)
    assert result.returncode == 255  # AWS CLI v1: 255 for service errors
    assert "MissingAuthenticationTokenException" in result.stderr


def test_timeouts_are_accepted(cli_world: World, agent_env: dict[str, str]) -> None:
    out = aws(
        *federate_args(cli_world, "--cli-read-timeout", "5", "--cli-connect-timeout", "5"),
        env=agent_env,
    ).stdout
    assert json.loads(out)["UserId"]


def test_user_not_found_exit_code_and_message(cli_world: World, agent_env: dict[str, str]) -> None:
    creds = cli_world.assume("nobody")
    agent_env.update(
        AWS_ACCESS_KEY_ID=creds["AccessKeyId"],
        AWS_SECRET_ACCESS_KEY=creds["SecretAccessKey"],
        AWS_SESSION_TOKEN=creds["SessionToken"],
    )
    result = aws(*federate_args(cli_world), env=agent_env, check=False)
    assert result.returncode == 255  # AWS CLI v1: 255 for service errors
    assert "UserNotFoundException" in result.stderr


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(
        tmp_path_factory.mktemp("tls"), "--throttle-rate", "0", "--tls-self-signed", scheme="https"
    )
    yield srv
    srv.stop()


def test_tls_with_ca_bundle_and_no_verify_ssl(tls_server: Server, tmp_path: Path) -> None:
    world = build_world(tls_server, "tls")
    env = session_env(world, tmp_path)
    assert tls_server.ca_bundle
    out = aws(*federate_args(world, "--ca-bundle", tls_server.ca_bundle), env=env).stdout
    assert json.loads(out)["UserId"]
    out = aws(*federate_args(world, "--no-verify-ssl"), env=env).stdout
    assert json.loads(out)["UserId"]
    refused = aws(*federate_args(world), env=env, check=False)
    assert refused.returncode != 0 and "SSL" in refused.stderr

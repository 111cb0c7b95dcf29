"""``connectfed get-federation-token`` option by option, and side by side with the AWS CLI."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.aws_env import clean_env
from tests.support.canned import canned_server
from tests.support.server import Server, start_server
from tests.support.world import World, build_world

CANNED = json.dumps(
    {
        "UserId": "6b54f069-e268-49d0-bbc6-66c0f8633452",
        "Credentials": {
            "RefreshTokenExpiration": 1764000000,
            "AccessToken": "cfa_abc",
            "AccessTokenExpiration": 1763960000.5,
            "RefreshToken": "cfr_def",
        },
        "SignInUrl": "https://example.my.connect.aws/auth/sign-in?code=cfs_ghi",
        "UserArn": "arn:aws:connect:us-east-1:123456789012:instance/i/agent/6b54f069",
        "Unmodelled": "ignored",
    }
).encode()


def run(tool: str, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = (
        [sys.executable, "-m", "awscli", "connect", "get-federation-token"]
        if tool == "aws"
        else [sys.executable, "-m", "connectfed.cli.main", "get-federation-token"]
    )
    return subprocess.run(
        command + args,
        env=env,
        text=True,
        capture_output=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


CREDS = {"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE000000000", "AWS_SECRET_ACCESS_KEY": "s" * 40}


@pytest.mark.parametrize(
    "options",
    [
        ["--output", "json"],
        ["--output", "text"],
        ["--output", "table", "--color", "off"],
        ["--output", "table", "--color", "on"],
        ["--output", "table", "--color", "on", "--query", "Credentials"],
        ["--output", "json", "--query", "Credentials"],
        ["--output", "text", "--query", "Credentials.[AccessToken,RefreshToken]"],
        ["--output", "text", "--query", "UserId"],
        ["--output", "table", "--query", "Credentials", "--color", "off"],
        ["--output", "json", "--query", "[UserId, Credentials.AccessToken]"],
    ],
)
def test_output_is_identical_to_the_aws_cli(tmp_path: Path, options: list[str]) -> None:
    with canned_server(200, CANNED) as (url, _):
        env = clean_env(tmp_path, **CREDS)
        args = ["--instance-id", "i-1", "--endpoint-url", url, "--region", "us-east-1", *options]
        ours, theirs = run("connectfed", args, env), run("aws", args, env)
    assert theirs.returncode == 0, theirs.stderr
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout == theirs.stdout


@pytest.mark.parametrize(
    "status,body,code",
    [
        (404, b'{"Message":"No user"}', "UserNotFoundException"),
        (409, b'{"Message":"already associated"}', "DuplicateResourceException"),
        (403, b'{"message":"Missing Authentication Token"}', "MissingAuthenticationTokenException"),
        (400, b'{"Message":"strange"}', "SomethingNewException"),
    ],
)
def test_errors_print_and_exit_like_the_aws_cli(
    tmp_path: Path, status: int, body: bytes, code: str
) -> None:
    headers = {"Content-Type": "application/json", "x-amzn-ErrorType": code}
    with canned_server(status, body, headers) as (url, _):
        env = clean_env(tmp_path, **CREDS)
        args = ["--instance-id", "i-1", "--endpoint-url", url, "--region", "us-east-1"]
        ours, theirs = run("connectfed", args, env), run("aws", args, env)
    assert ours.returncode == theirs.returncode == 255
    assert ours.stderr.strip() == theirs.stderr.strip()
    assert ours.stdout == theirs.stdout == ""


def test_skeletons(tmp_path: Path) -> None:
    env = clean_env(tmp_path, **CREDS)
    for mode in ("input", "output"):
        args = ["--instance-id", "i-1", "--region", "us-east-1", "--generate-cli-skeleton", mode]
        ours, theirs = run("connectfed", args, env), run("aws", args, env)
        assert ours.returncode == theirs.returncode == 0
        assert json.loads(ours.stdout) == json.loads(theirs.stdout)


def test_cli_input_json_and_command_line_override(tmp_path: Path) -> None:
    with canned_server(200, CANNED) as (url, seen):
        env = clean_env(tmp_path, **CREDS)
        path = tmp_path / "in.json"
        path.write_text(json.dumps({"InstanceId": "from-file"}))
        assert (
            run(
                "connectfed",
                [
                    "--cli-input-json",
                    f"file://{path}",
                    "--endpoint-url",
                    url,
                    "--region",
                    "us-east-1",
                ],
                env,
            ).returncode
            == 0
        )
        assert (
            run(
                "connectfed",
                [
                    "--cli-input-json",
                    '{"InstanceId": "from-json"}',
                    "--instance-id",
                    "from-flag",
                    "--endpoint-url",
                    url,
                    "--region",
                    "us-east-1",
                ],
                env,
            ).returncode
            == 0
        )
        bad = run(
            "connectfed",
            ["--cli-input-json", '{"Nope": 1}', "--endpoint-url", url, "--region", "us-east-1"],
            env,
        )
    assert [s[":path"] for s in seen] == ["/user/federate/from-file", "/user/federate/from-flag"]
    assert bad.returncode == 255 and "Unknown parameter in input" in bad.stderr


@pytest.mark.parametrize(
    "given",
    [
        "{bad",
        "file:///nonexistent/in.json",
        "{}",
        '{"Nope": 1}',
        '{"InstanceId": 5}',
        '{"InstanceId": ""}',
        '{"InstanceId": null, "Nope": 1}',
        '{"InstanceId": "i", "Nope": 1}',
    ],
)
def test_bad_cli_input_json_is_refused_as_the_aws_cli_refuses_it(
    tmp_path: Path, given: str
) -> None:
    env = clean_env(tmp_path, **CREDS)
    args = ["--cli-input-json", given, "--endpoint-url", "http://127.0.0.1:9", "--region", "x"]
    ours, theirs = run("connectfed", args, env), run("aws", args, env)
    assert (ours.returncode, ours.stderr) == (theirs.returncode, theirs.stderr)
    assert ours.returncode == 255 and ours.stdout == ""


def test_no_sign_request_sends_no_authorization(tmp_path: Path) -> None:
    with canned_server(200, CANNED) as (url, seen):
        result = run(
            "connectfed",
            [
                "--instance-id",
                "i",
                "--endpoint-url",
                url,
                "--region",
                "us-east-1",
                "--no-sign-request",
            ],
            clean_env(tmp_path),
        )
    assert result.returncode == 0
    assert "Authorization" not in seen[0]


def test_debug_shows_the_exchange_without_secrets(tmp_path: Path) -> None:
    with canned_server(200, CANNED) as (url, _):
        env = clean_env(tmp_path, AWS_SESSION_TOKEN="very-secret-token", **CREDS)
        result = run(
            "connectfed",
            ["--instance-id", "i", "--endpoint-url", url, "--region", "us-east-1", "--debug"],
            env,
        )
    assert result.returncode == 0
    assert "Authorization" in result.stderr and "Signature=<redacted>" in result.stderr
    for secret in ("very-secret-token", "cfa_abc", "cfr_def", "cfs_ghi", "s" * 40):
        assert secret not in result.stderr


def test_read_timeout_and_missing_region(tmp_path: Path) -> None:
    with canned_server(200, CANNED, stall_seconds=5) as (url, _):
        result = run(
            "connectfed",
            [
                "--instance-id",
                "i",
                "--endpoint-url",
                url,
                "--region",
                "us-east-1",
                "--cli-read-timeout",
                "1",
            ],
            clean_env(tmp_path, AWS_MAX_ATTEMPTS="1", **CREDS),
        )
    assert result.returncode == 255 and "Read timeout" in result.stderr
    result = run("connectfed", ["--instance-id", "i"], clean_env(tmp_path, **CREDS))
    assert result.returncode == 255 and "You must specify a region" in result.stderr


def test_version_and_usage(tmp_path: Path) -> None:
    assert run("connectfed", ["--version"], clean_env(tmp_path)).stdout.startswith("connectfed/")
    assert run("connectfed", [], clean_env(tmp_path)).returncode == 2


def test_against_the_real_server_with_profile_and_yaml(server: Server, tmp_path: Path) -> None:
    world: World = build_world(server, "cfcli")
    creds = world.assume("agent1")
    (tmp_path / "credentials").write_text(
        f"[agent]\naws_access_key_id = {creds['AccessKeyId']}\n"
        f"aws_secret_access_key = {creds['SecretAccessKey']}\n"
        f"aws_session_token = {creds['SessionToken']}\n"
    )
    (tmp_path / "config").write_text(
        f"[profile agent]\nregion = us-east-1\nendpoint_url = {server.url}\n"
    )
    env = clean_env(tmp_path)
    result = run(
        "connectfed",
        ["--instance-id", world.instance_id, "--profile", "agent", "--output", "yaml"],
        env,
    )
    assert result.returncode == 0, result.stderr
    assert "AccessToken: cfa_" in result.stdout and "UserId: " in result.stdout
    tls_free = run(
        "connectfed",
        [
            "--instance-id",
            world.instance_id,
            "--profile",
            "agent",
            "--no-verify-ssl",
            "--query",
            "UserArn",
            "--output",
            "text",
        ],
        env,
    )
    assert tls_free.stdout.strip().endswith("/agent/" + tls_free.stdout.strip().split("/")[-1])


# Every option of `aws connect get-federation-token` (the AWS CLI v1 reference page).
AWS_CLI_OPTIONS = [
    "--instance-id",
    "--cli-input-json",
    "--generate-cli-skeleton",
    "--debug",
    "--endpoint-url",
    "--no-verify-ssl",
    "--no-paginate",
    "--output",
    "--query",
    "--profile",
    "--region",
    "--version",
    "--color",
    "--no-sign-request",
    "--ca-bundle",
    "--cli-read-timeout",
    "--cli-connect-timeout",
]


def test_help_lists_and_describes_every_option_of_the_aws_cli(tmp_path: Path) -> None:
    result = run("connectfed", ["--help"], clean_env(tmp_path))
    assert result.returncode == 0
    # argparse: "  --option [METAVAR]  description", or the description on the next line.
    entries = re.findall(r"^  (--[a-z-]+)(?: \S+)?(?:  +|\n {20,})(\S.*)$", result.stdout, re.M)
    described = {option for option, description in entries if description}
    assert [o for o in AWS_CLI_OPTIONS if o not in described] == [], result.stdout


JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    "status,body,headers,settings",
    [
        (503, b"", {}, {"AWS_MAX_ATTEMPTS": "2"}),
        (
            502,
            b"<html>bad gateway</html>",
            {"Content-Type": "text/html"},
            {"AWS_MAX_ATTEMPTS": "2"},
        ),
        (429, b"", {}, {"AWS_MAX_ATTEMPTS": "2"}),
        (429, b"", {}, {"AWS_MAX_ATTEMPTS": "2", "AWS_RETRY_MODE": "standard"}),
        (
            400,
            b'{"message":"Rate exceeded"}',
            JSON | {"x-amzn-ErrorType": "TooManyRequestsException"},
            {"AWS_MAX_ATTEMPTS": "2"},
        ),
        (
            400,
            b'{"message":"Rate exceeded"}',
            JSON | {"x-amzn-ErrorType": "TooManyRequestsException"},
            {"AWS_MAX_ATTEMPTS": "2", "AWS_RETRY_MODE": "adaptive"},
        ),
        (
            400,
            b'{"message":"Rate exceeded"}',
            JSON | {"x-amzn-ErrorType": "ThrottlingException"},
            {"AWS_MAX_ATTEMPTS": "3", "AWS_RETRY_MODE": "standard"},
        ),
        (
            501,
            b'{"message":"no"}',
            JSON | {"x-amzn-ErrorType": "NotImplemented"},
            {"AWS_MAX_ATTEMPTS": "3"},
        ),
    ],
)
def test_retries_and_their_errors_are_the_aws_clis(
    tmp_path: Path, status: int, body: bytes, headers: dict[str, str], settings: dict[str, str]
) -> None:
    args = ["--instance-id", "i-1", "--region", "us-east-1"]
    env = clean_env(tmp_path, **CREDS, **settings)
    results = []
    for tool in ("connectfed", "aws"):
        with canned_server(status, body, headers or None) as (url, seen):
            result = run(tool, [*args, "--endpoint-url", url], env)
        results.append((result.returncode, result.stdout, result.stderr, len(seen)))
    assert results[0] == results[1]


def test_the_aws_cli_v1s_legacy_mode_is_the_default_five_attempts(tmp_path: Path) -> None:
    headers = JSON | {"x-amzn-ErrorType": "InternalServiceException"}
    with canned_server(500, b'{"Message":"boom"}', headers) as (url, seen):
        args = ["--instance-id", "i-1", "--region", "us-east-1", "--endpoint-url", url]
        result = run("connectfed", args, clean_env(tmp_path, **CREDS))
    assert len(seen) == 5
    assert result.stderr == (
        "\nAn error occurred (InternalServiceException) when calling the GetFederationToken "
        "operation (reached max retries: 4): boom\n"
    )


@pytest.mark.parametrize(
    "settings,profile",
    [
        ({"AWS_MAX_ATTEMPTS": "abc"}, ""),
        ({"AWS_MAX_ATTEMPTS": "0"}, ""),
        ({"AWS_RETRY_MODE": "bogus"}, ""),
        ({}, "retry_mode = sometimes\n"),
        ({}, "max_attempts = -2\n"),
    ],
)
def test_bad_retry_settings_are_refused_as_the_aws_cli_refuses_them(
    tmp_path: Path, settings: dict[str, str], profile: str
) -> None:
    (tmp_path / "config").write_text(f"[default]\n{profile}")
    env = clean_env(tmp_path, **CREDS, **settings)
    with canned_server(200, CANNED) as (url, seen):
        args = ["--instance-id", "i-1", "--region", "us-east-1", "--endpoint-url", url]
        ours, theirs = run("connectfed", args, env), run("aws", args, env)
    assert (ours.returncode, ours.stdout, ours.stderr) == (
        theirs.returncode,
        theirs.stdout,
        theirs.stderr,
    )
    assert ours.returncode == 255 and seen == []


@pytest.mark.parametrize(
    "options,credentials",
    [
        (["--cli-connect-timeout", "-1"], True),
        (["--cli-read-timeout", "-2"], True),
        (["--cli-connect-timeout", "-1", "--cli-read-timeout", "-2"], True),
        (["--cli-read-timeout", "-2"], False),  # refused before credentials are looked for
        ([], False),  # with AWS_RETRY_MODE=bogus below: the mode is refused first too
    ],
)
def test_bad_settings_are_refused_before_missing_credentials_as_the_aws_cli_does(
    tmp_path: Path, options: list[str], credentials: bool
) -> None:
    extra = {} if options else {"AWS_RETRY_MODE": "bogus"}
    env = clean_env(tmp_path, **(CREDS if credentials else {}), **extra)
    with canned_server(200, CANNED) as (url, seen):
        args = ["--instance-id", "i-1", "--region", "us-east-1", "--endpoint-url", url, *options]
        ours, theirs = run("connectfed", args, env), run("aws", args, env)
    assert (ours.returncode, ours.stdout, ours.stderr) == (
        theirs.returncode,
        theirs.stdout,
        theirs.stderr,
    )
    assert ours.returncode == 255 and seen == []


def test_retry_mode_and_max_attempts_from_the_profile(tmp_path: Path) -> None:
    (tmp_path / "config").write_text("[profile p]\nretry_mode = standard\nmax_attempts = 2\n")
    env = clean_env(tmp_path, **CREDS, AWS_PROFILE="p")
    headers = JSON | {"x-amzn-ErrorType": "TooManyRequestsException"}
    counts = []
    for tool in ("connectfed", "aws"):
        with canned_server(400, b'{"message":"slow down"}', headers) as (url, seen):
            args = ["--instance-id", "i-1", "--region", "us-east-1", "--endpoint-url", url]
            result = run(tool, args, env)
        counts.append((len(seen), result.returncode, result.stderr))
    assert counts[0] == counts[1]
    assert counts[0][0] == 2


@pytest.mark.parametrize(
    "config,settings,args",
    [
        ("", {"AWS_PROFILE": "default"}, []),  # named, even `default`, it must exist
        ("[profile empty]\n", {}, ["--profile", "empty"]),  # exists; no credentials there
        ("[a]\nregion = us-east-1\n", {}, ["--profile", "a"]),  # not a profile in `config`
        ("", {"AWS_DEFAULT_REGION": ""}, []),  # no Region anywhere ("": unset here)
        (
            "[profile a]\nendpoint_url = http://127.0.0.1:9\n[profile b]\nendpoint_url = {url}\n",
            {"AWS_PROFILE": "a", "AWS_DEFAULT_PROFILE": "b"},  # botocore reads this one first
            [],
        ),
        (
            "[profile e]\nendpoint_url = http://127.0.0.1:9\nservices = mine\n"
            "[services mine]\nconnect =\n  endpoint_url = {url}\n",
            {"AWS_PROFILE": "e"},
            [],
        ),
    ],
)
def test_profiles_are_chosen_and_refused_as_the_aws_cli_does(
    tmp_path: Path, config: str, settings: dict[str, str], args: list[str]
) -> None:
    results = []
    for tool in ("connectfed", "aws"):
        with canned_server(200, CANNED) as (url, seen):
            (tmp_path / "config").write_text(config.replace("{url}", url))
            env = clean_env(tmp_path, **CREDS, AWS_DEFAULT_REGION="us-east-1")
            env.update(settings)
            env = {k: v for k, v in env.items() if v}
            result = run(tool, ["--instance-id", "i-1", *args], env)
        results.append((result.returncode, result.stdout, result.stderr, len(seen)))
    assert results[0] == results[1]


@pytest.mark.parametrize(
    "profile",
    [
        "credential_process = /bin/false\n",  # botocore's own credential sources fail as theirs
        "role_arn = arn:aws:iam::123456789012:role/x\n",
    ],
)
def test_credential_sources_read_by_botocore_fail_as_the_aws_clis(
    tmp_path: Path, profile: str
) -> None:
    (tmp_path / "config").write_text(f"[profile p]\nregion = us-east-1\n{profile}")
    args = ["--instance-id", "i-1", "--profile", "p", "--endpoint-url", "http://127.0.0.1:9"]
    ours, theirs = (
        run("connectfed", args, clean_env(tmp_path)),
        run("aws", args, clean_env(tmp_path)),
    )
    assert (ours.returncode, ours.stdout, ours.stderr) == (
        theirs.returncode,
        theirs.stdout,
        theirs.stderr,
    )


@pytest.mark.parametrize(
    "config,settings,args",
    [
        ("[default]\noutput = text\n", {}, []),  # the profile's output format
        ("[default]\noutput = text\n", {"AWS_DEFAULT_OUTPUT": "table"}, ["--color", "off"]),
        ("[default]\noutput = bogus\n", {}, []),
        ("", {"AWS_DEFAULT_OUTPUT": "bogus"}, []),
        ("[default]\ncli_timestamp_format = iso8601\n", {"TZ": "Asia/Tokyo"}, []),
        ("[default]\ncli_timestamp_format = iso8601\n", {"TZ": "UTC"}, ["--output", "text"]),
        (
            "[default]\ncli_timestamp_format = iso8601\n",
            {},
            ["--output", "table", "--color", "off"],
        ),
        ("[default]\ncli_timestamp_format = wire\n", {}, ["--output", "text"]),
        ("[default]\ncli_timestamp_format = bogus\n", {}, []),
        ("", {}, ["--output", "table", "--color", "off", "--query", "Nope"]),
        ("", {}, ["--output", "table", "--color", "off", "--query", "Credentials.Nope"]),
        ("", {}, ["--output", "table", "--color", "off", "--query", "length(@)"]),
        (
            "",
            {},
            ["--output", "table", "--color", "off", "--query", "Credentials.RefreshToken"],
        ),
        ("[default]\noutput = text\n", {}, ["--generate-cli-skeleton", "output"]),
        ("", {}, ["--generate-cli-skeleton", "output", "--output", "table", "--color", "off"]),
        ("", {}, ["--generate-cli-skeleton", "output", "--query", "Credentials"]),
    ],
)
def test_output_settings_are_the_aws_clis(
    tmp_path: Path, config: str, settings: dict[str, str], args: list[str]
) -> None:
    (tmp_path / "config").write_text(config)
    env = clean_env(tmp_path, **CREDS, **settings)
    with canned_server(200, CANNED) as (url, _):
        args = ["--instance-id", "i-1", "--endpoint-url", url, "--region", "us-east-1", *args]
        ours, theirs = run("connectfed", args, env), run("aws", args, env)
    assert (ours.returncode, ours.stdout, ours.stderr) == (
        theirs.returncode,
        theirs.stdout,
        theirs.stderr,
    )


@pytest.mark.parametrize(
    "args",
    [
        ["--instance-id", "i-1", "--bogus"],
        ["--instance-id", "i-1", "extra"],
        ["--generate-cli-skeleton", "--bogus"],
    ],
)
def test_unknown_options_exit_255_as_the_aws_cli(tmp_path: Path, args: list[str]) -> None:
    env = clean_env(tmp_path, **CREDS)
    args = [*args, "--region", "us-east-1", "--endpoint-url", "http://127.0.0.1:9"]
    ours, theirs = run("connectfed", args, env), run("aws", args, env)
    assert ours.returncode == theirs.returncode == 255
    # The usage line above names each program; the verdict is the same.
    assert ours.stderr.splitlines()[-1] == theirs.stderr.splitlines()[-1]
    assert ours.stderr.splitlines()[-1].startswith("Unknown options: ")


@pytest.mark.parametrize(
    "args",
    [
        ["--instance-id", "i-1", "--cli-read-timeout", "abc"],
        ["--instance-id", "i-1", "--cli-connect-timeout", "1.5"],
        ["--instance-id", "i-1", "--endpoint-url", "127.0.0.1:9"],
        ["--instance-id", "i-1", "--endpoint-url", "localhost"],
        ["--instance-id", "i-1", "--endpoint-url", "ftp://127.0.0.1:9"],
        ["--instance-id", "i-1", "--endpoint-url", "http://"],
        ["--instance-id", "i-1", "--endpoint-url", "https://bad_host.example"],
        ["--generate-cli-skeleton", "input", "--cli-input-json", "{bad"],
        ["--generate-cli-skeleton", "output"],
    ],
)
def test_bad_global_options_are_refused_as_the_aws_cli_refuses_them(
    tmp_path: Path, args: list[str]
) -> None:
    env = clean_env(tmp_path, **CREDS, AWS_MAX_ATTEMPTS="1")
    args = [*args, "--region", "us-east-1"]
    ours, theirs = run("connectfed", args, env), run("aws", args, env)
    assert ours.returncode == theirs.returncode != 0
    if ours.returncode == 2:  # argparse's usage message names the program
        assert ours.stderr.splitlines()[-1].endswith(theirs.stderr.splitlines()[-1][-40:])
    else:
        assert (ours.stdout, ours.stderr) == (theirs.stdout, theirs.stderr)


def test_an_endpoint_in_the_environment_is_checked_as_botocore_checks_it(tmp_path: Path) -> None:
    env = clean_env(tmp_path, **CREDS, AWS_ENDPOINT_URL_CONNECT="not a url")
    args = ["--instance-id", "i-1", "--region", "us-east-1"]
    ours, theirs = run("connectfed", args, env), run("aws", args, env)
    assert (
        (ours.returncode, ours.stderr)
        == (theirs.returncode, theirs.stderr)
        == (
            255,
            "\nInvalid endpoint: not a url\n",
        )
    )


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(
        tmp_path_factory.mktemp("tls-cli"),
        "--throttle-rate",
        "0",
        "--tls-self-signed",
        scheme="https",
    )
    yield srv
    srv.stop()


@pytest.mark.parametrize("bundle", ["/nonexistent/ca.pem", "server's", None])
def test_tls_failures_and_bundles_print_as_the_aws_clis(
    tls_server: Server, tmp_path: Path, bundle: str | None
) -> None:
    env = clean_env(tmp_path, **CREDS, AWS_MAX_ATTEMPTS="1")
    args = ["--instance-id", "nope", "--region", "us-east-1", "--endpoint-url", tls_server.url]
    if bundle is not None:
        args += ["--ca-bundle", tls_server.ca_bundle or "" if bundle == "server's" else bundle]
    ours, theirs = run("connectfed", args, env), run("aws", args, env)
    assert (ours.returncode, ours.stdout, ours.stderr) == (
        theirs.returncode,
        theirs.stdout,
        theirs.stderr,
    )
    assert ours.returncode == 255


@pytest.mark.parametrize(
    "bundles",
    [
        {"REQUESTS_CA_BUNDLE": "{server}"},
        {"AWS_CA_BUNDLE": "/nonexistent/ca.pem", "REQUESTS_CA_BUNDLE": "{server}"},
        {"AWS_CA_BUNDLE": "", "REQUESTS_CA_BUNDLE": "{server}"},
    ],
)
def test_ca_bundles_from_the_environment_as_the_aws_cli_finds_them(
    tls_server: Server, tmp_path: Path, bundles: dict[str, str]
) -> None:
    assert tls_server.ca_bundle
    values = {k: v.replace("{server}", tls_server.ca_bundle) for k, v in bundles.items()}
    env = clean_env(tmp_path, **CREDS, AWS_MAX_ATTEMPTS="1") | values
    args = ["--instance-id", "nope", "--region", "us-east-1", "--endpoint-url", tls_server.url]
    ours, theirs = run("connectfed", args, env), run("aws", args, env)
    assert (ours.returncode, ours.stdout, ours.stderr) == (
        theirs.returncode,
        theirs.stdout,
        theirs.stderr,
    )


def test_an_endpoint_urls_query_is_sent_as_the_aws_clis(tmp_path: Path) -> None:
    env = clean_env(tmp_path, **CREDS)
    results = []
    for tool in ("connectfed", "aws"):
        with canned_server(200, CANNED) as (url, seen):
            args = ["--instance-id", "i-1", "--region", "us-east-1"]
            result = run(tool, [*args, "--endpoint-url", f"{url}/base?tenant=7&a=1"], env)
        results.append((result.returncode, result.stdout, [s[":path"] for s in seen]))
    assert results[0] == results[1]
    assert results[0][2] == ["/base/user/federate/i-1?tenant=7&a=1"]


@pytest.mark.parametrize(
    "value,content",
    [
        ("file://{dir}/id.txt", b"inst-from-file"),
        ("file://{dir}/id.txt", b"inst-with-newline\n"),
        ("file://$PARAMDIR/id.txt", b"inst-via-variable"),
        ("file://{dir}/missing.txt", None),
        ("fileb://{dir}/id.txt", b"inst-as-bytes"),
        ("file://{dir}/id.txt", b"\xff\xfe binary"),
    ],
)
def test_instance_id_from_a_paramfile_as_the_aws_cli_reads_it(
    tmp_path: Path, value: str, content: bytes | None
) -> None:
    if content is not None:
        (tmp_path / "id.txt").write_bytes(content)
    env = clean_env(tmp_path, **CREDS, PARAMDIR=str(tmp_path))
    results = []
    for tool in ("connectfed", "aws"):
        with canned_server(200, CANNED) as (url, seen):
            args = ["--instance-id", value.replace("{dir}", str(tmp_path)), "--endpoint-url", url]
            result = run(tool, [*args, "--region", "us-east-1"], env)
        paths = [s[":path"] for s in seen]
        results.append((result.returncode, result.stdout, result.stderr, paths))
    assert results[0] == results[1]

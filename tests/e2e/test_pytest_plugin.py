"""The pytest plugin, as a user of the installed package gets it: the example project under
examples/pytest passes with nothing but the plugin, and the fixtures behave as documented
(docs/pytest-plugin.md)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import postgres_or_skip

pytest_plugins = ["pytester"]
ROOT = Path(__file__).resolve().parents[2]


def test_the_example_project_passes_with_only_the_plugin() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "examples/pytest", "-q", "-p", "no:cacheprovider"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and "failed" not in done.stdout


def test_the_fixtures_give_a_seeded_server_and_clients(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import pytest
        from connectfed.seed import WorldInvalid
        from connectfed.testing import ACCOUNT_ID

        WORLD = {
            "iam": {"users": [{"name": "app", "access_keys": [{}], "policies": {"all": {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}}}]},
            "connect": {"instances": [{"ref": "main", "alias": "plugin-test"}]},
        }

        def test_root_is_the_fixed_account(connectfed):
            sts = connectfed.client("sts")
            assert sts.get_caller_identity()["Account"] == ACCOUNT_ID

        def test_a_world_and_its_users(connectfed):
            applied = connectfed.world(WORLD)
            assert connectfed.world(WORLD).changed is False
            identity = connectfed.client("sts", "app").get_caller_identity()
            assert identity["Arn"].endswith(":user/app")
            instance = connectfed.client("connect", "app").describe_instance(
                InstanceId=connectfed.instance_id("main"))["Instance"]
            assert instance["InstanceAlias"] == "plugin-test"
            assert applied.instance("main").instance_id == connectfed.instance_id("main")

        def test_env_points_an_sdk_at_the_server(connectfed, monkeypatch):
            import boto3
            for name, value in connectfed.env().items():
                monkeypatch.setenv(name, value)
            assert boto3.client("sts").get_caller_identity()["Account"] == ACCOUNT_ID

        def test_an_invalid_world_names_the_field(connectfed):
            with pytest.raises(WorldInvalid) as caught:
                connectfed.world({"iam": {"users": [{"name": "x", "polices": {}}]}})
            assert "iam.users[0].polices" in str(caught.value)

        def test_saml_through_the_test_idp(connectfed):
            connectfed.world({"iam": {
                "saml_providers": [{"name": "Corp", "test_idp": True}],
                "roles": [{"name": "Sso", "trust": {"Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Action": "sts:AssumeRoleWithSAML",
                    "Principal": {"Federated": "arn:aws:iam::{{ account_id }}:saml-provider/Corp"},
                    "Condition": {"StringEquals": {
                        "SAML:aud": "https://signin.aws.amazon.com/saml"}}}]}}]}})
            creds = connectfed.assume_role_with_saml("Sso", "agent1")
            identity = connectfed.client("sts", credentials=creds).get_caller_identity()
            assert identity["Arn"].endswith(":assumed-role/Sso/agent1")
        """)
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=5)


def test_the_clock_and_faults_refuse_nan_and_infinities_before_sending(
    pytester: pytest.Pytester,
) -> None:
    """As the admin client and ``connectfed admin`` do: JSON has no NaN or infinity, so the
    server could only answer "not valid JSON" (an AdminError), and nothing is changed."""
    pytester.makepyfile("""
        import math
        import pytest

        @pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
        def test_refused_before_sending(connectfed, value):
            before = connectfed.clock.state().offset_seconds
            with pytest.raises(ValueError, match="finite numbers only"):
                connectfed.clock.advance(value)
            with pytest.raises(ValueError, match="finite numbers only"):
                connectfed.clock.set_offset(value)
            with pytest.raises(ValueError, match="finite numbers only"):
                connectfed.faults.add("sts", "AssumeRole", error="ThrottlingException", rate=value)
            assert connectfed.clock.state().offset_seconds == before
            assert connectfed.faults.list() == []
            assert connectfed.clock.touched is False and connectfed.faults.touched is False
        """)
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


def test_a_server_per_test_on_request(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        URLS = []

        def test_one(connectfed):
            URLS.append(connectfed.url)

        def test_two(connectfed):
            URLS.append(connectfed.url)
            assert len(set(URLS)) == 2
        """)
    result = pytester.runpytest_subprocess(
        "-q", "-p", "no:cacheprovider", "--connectfed-scope=function"
    )
    result.assert_outcomes(passed=2)


def test_a_world_fixture_follows_the_servers_scope(pytester: pytest.Pytester) -> None:
    """A world built once per server (docs/pytest-plugin.md) whatever --connectfed-scope is."""
    pytester.makepyfile("""
        import pytest
        from connectfed.testing.plugin import server_scope

        BUILT = []

        @pytest.fixture(scope=server_scope, autouse=True)
        def world(connectfed_session):
            BUILT.append(connectfed_session.url)
            return connectfed_session.world(
                {"connect": {"instances": [{"ref": "main", "alias": "scoped"}]}})

        def test_one(connectfed):
            assert connectfed.instance_id("main")

        def test_two(connectfed):
            assert connectfed.instance_id("main")
            assert len(set(BUILT)) == len(BUILT) == 2
        """)
    result = pytester.runpytest_subprocess(
        "-q", "-p", "no:cacheprovider", "--connectfed-scope=function"
    )
    result.assert_outcomes(passed=2)


@pytest.mark.postgres
def test_servers_on_one_postgres_database_follow_each_other(pytester: pytest.Pytester) -> None:
    """--connectfed-database-url: a server per test, and a second run, on the same database
    (docs/pytest-plugin.md: worlds accumulate there)."""
    url = postgres_or_skip()
    pytester.makepyfile("""
        WORLD = {"connect": {"instances": [{"ref": "main", "alias": "on-postgres"}]}}

        def test_one(connectfed):
            assert connectfed.world(WORLD).instance("main").instance_id

        def test_two(connectfed):
            assert connectfed.world(WORLD).changed is False
        """)
    for _ in range(2):
        result = pytester.runpytest_subprocess(
            "-q",
            "-p",
            "no:cacheprovider",
            "--connectfed-scope=function",
            f"--connectfed-database-url={url}",
        )
        result.assert_outcomes(passed=2)


def test_names_the_handle_does_not_know_are_said_so(pytester: pytest.Pytester) -> None:
    """Before any world and after one: an unknown instance or IAM user is a LookupError naming
    it (they were KeyError: '123456789012', the account, before a world), and a user made by
    the test itself through IAM has its credentials found all the same."""
    pytester.makepyfile("""
        import pytest

        WORLD = {"connect": {"instances": [{"ref": "main", "alias": "known"}]}}

        def test_before_any_world(connectfed):
            with pytest.raises(LookupError, match="'nope'.*no world"):
                connectfed.instance_id("nope")
            with pytest.raises(LookupError, match="'nobody'"):
                connectfed.client("sts", "nobody")

        def test_a_user_made_by_the_test(connectfed):
            iam = connectfed.client("iam")
            iam.create_user(UserName="made-here")
            iam.create_access_key(UserName="made-here")
            identity = connectfed.client("sts", "made-here").get_caller_identity()
            assert identity["Arn"].endswith(":user/made-here")

        def test_after_a_world(connectfed):
            connectfed.world(WORLD)
            with pytest.raises(LookupError, match="'nope'.*known, main"):
                connectfed.instance_id("nope")
        """)
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_a_killed_test_run_takes_its_server_along(
    pytester: pytest.Pytester, signum: signal.Signals
) -> None:
    """A run stopped from outside (a CI job's timeout sends SIGTERM, which pytest does not
    handle; an IDE or the OOM killer SIGKILL) runs no fixture teardown: the server must still
    stop, not serve on forever, holding its port and files (it did)."""
    pids = pytester.path / "server.pid"
    pytester.makepyfile(f"""
        import time

        def test_waits(connectfed):
            with open({str(pids)!r}, "w") as out:
                out.write(str(connectfed.server.process.pid))
            time.sleep(120)
        """)
    run = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=pytester.path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not pids.exists() or not pids.read_text():
            assert time.monotonic() < deadline and run.poll() is None, "no server started"
            time.sleep(0.1)
        server = int(pids.read_text())
        run.send_signal(signum)
        run.wait(timeout=30)
        deadline = time.monotonic() + 15
        while _alive(server):
            if time.monotonic() > deadline:
                os.kill(server, signal.SIGKILL)
                pytest.fail("the server outlived its test run")
            time.sleep(0.1)
    finally:
        if run.poll() is None:
            run.kill()


def _alive(pid: int) -> bool:
    """Running, and not a zombie waiting for a parent that is gone."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"

"""Time travel through every expiry, on a real server with the admin API: STS sessions,
GetFederationToken's access tokens and the refresh horizon of agent sessions, SAML assertion
windows, and SigV4's skew window (boto3 signing with the real time is refused once the server
is 10 minutes ahead, as AWS would refuse it; signing with the shifted time works, and our
client corrects the skew by itself)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from connectfed.auth.sigv4 import Credentials
from connectfed.client import AdminClient, ConnectClient, botocore_clock
from tests.support import cti
from tests.support.admin import start_admin_server
from tests.support.browser import Browser
from tests.support.saml_world import SamlWorld, build_saml_world, post_saml
from tests.support.server import Server, start_server
from tests.support.world import World, build_world

ACCESS_SECONDS = 300
REFRESH_SECONDS = 900


@pytest.fixture(scope="module")
def admin_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_admin_server(
        tmp_path_factory.mktemp("timetravel"),
        "--access-token-seconds",
        str(ACCESS_SECONDS),
        "--refresh-token-seconds",
        str(REFRESH_SECONDS),
    )
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def world(admin_server: Server) -> World:
    return build_world(admin_server, "tt")


@pytest.fixture(scope="module")
def saml(admin_server: Server) -> SamlWorld:
    return build_saml_world(admin_server, "ttsaml")


@pytest.fixture
def clock(admin_server: Server) -> Iterator[AdminClient]:
    client = AdminClient(admin_server.url)
    client.set_offset(0)
    yield client
    client.set_offset(0)


def _code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def test_an_sts_session_expires_when_the_clock_passes_it(world: World, clock: AdminClient) -> None:
    creds = world.assume("agent1", DurationSeconds=900)
    server = world.server
    connect = server.client(
        "connect", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
    )
    assert connect.get_federation_token(InstanceId=world.instance_id)["Credentials"]
    clock.advance(870)  # the session has seconds left (the test itself takes some)
    with botocore_clock(870):
        assert connect.get_federation_token(InstanceId=world.instance_id)["Credentials"]
    clock.advance(40)
    with botocore_clock(910):
        with pytest.raises(ClientError) as refused:
            connect.get_federation_token(InstanceId=world.instance_id)
        assert _code(refused) == "ExpiredTokenException"
        sts = server.client(
            "sts", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
        )
        with pytest.raises(ClientError) as refused:
            sts.get_caller_identity()
        assert _code(refused) == "ExpiredToken"
        # Long-term keys know no expiry: the server itself still answers.
        assert server.client("connect").list_instances()["InstanceSummaryList"]


@pytest.mark.parametrize(
    "service,call,code",
    [
        ("sts", lambda c: c.get_caller_identity(), "ExpiredToken"),
        ("iam", lambda c: c.list_users(), "ExpiredToken"),
        ("connect", lambda c: c.list_instances(), "ExpiredTokenException"),
    ],
)
def test_an_expired_session_is_refused_with_403_in_each_protocols_spelling(
    world: World, clock: AdminClient, service: str, call: Any, code: str
) -> None:
    # STS and IAM answer an expired session token with ExpiredToken and 403 Forbidden, as
    # Connect's front door does (SDK issue threads show "Status Code: 403" for STS and IAM);
    # the 400 ExpiredTokenException of STS's model is AssumeRoleWithSAML's expired assertion.
    creds = world.assume("agent1", DurationSeconds=900)
    client = world.server.client(
        service, creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
    )
    clock.advance(960)
    with botocore_clock(960), pytest.raises(ClientError) as refused:
        call(client)
    assert _code(refused) == code
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert refused.value.response["Error"]["Message"] == (
        "The security token included in the request is expired"
    )


def _cti(world: World, token: str) -> cti.CtiAnswer:
    return cti.call(
        world.server.url,
        f"/connect/{world.instance_id}/api",
        "GetAgentConfiguration",
        {},
        token=token,
    )


def _sign_in(world: World, result: dict[str, Any]) -> Browser:
    creds = result["Credentials"]
    browser = Browser(world.server.url)
    form = {
        "credentials": json.dumps(
            {
                "AccessToken": creds["AccessToken"],
                "AccessTokenExpiration": int(creds["AccessTokenExpiration"].timestamp() * 1000),
                "RefreshToken": creds["RefreshToken"],
                "RefreshTokenExpiration": int(creds["RefreshTokenExpiration"].timestamp() * 1000),
            }
        )
    }
    reply = browser.request("POST", f"/connect/{world.instance_id}/auth/sign-in", form=form)
    assert reply.status in (302, 303), reply.body
    return browser


def test_access_tokens_and_the_refresh_horizon_follow_the_clock(
    world: World, clock: AdminClient
) -> None:
    result = world.connect_as("agent2").get_federation_token(InstanceId=world.instance_id)
    tokens = result["Credentials"]
    issued = clock.clock().now
    lifetime = tokens["AccessTokenExpiration"] - issued
    assert timedelta(seconds=ACCESS_SECONDS - 5) < lifetime <= timedelta(seconds=ACCESS_SECONDS)
    assert _cti(world, tokens["AccessToken"]).status == 200
    browser = _sign_in(world, result)

    clock.advance(ACCESS_SECONDS + 1)
    expired = _cti(world, tokens["AccessToken"])
    assert (expired.status, expired.error) == (401, "UnauthorizedException")
    # The agent session refreshes: a new access token, valid on the shifted clock.
    fresh = browser.get(f"/connect/{world.instance_id}/auth/authorize")
    assert fresh.status == 200, fresh.body
    assert _cti(world, fresh.json()["accessToken"]).status == 200

    clock.advance(REFRESH_SECONDS - ACCESS_SECONDS)  # past the refresh horizon
    assert browser.get(f"/connect/{world.instance_id}/auth/authorize").status == 401
    assert _cti(world, fresh.json()["accessToken"]).status == 401


def test_setting_the_clock_back_finds_the_sessions_it_left_alive(
    world: World, clock: AdminClient
) -> None:
    """Tests move the clock forward to see a session end, then set it back (the pytest plugin
    does after every test): a session live by the clock set back is still there, though tokens
    were minted (and ended families collected) while the clock was ahead."""
    result = world.connect_as("agent1").get_federation_token(InstanceId=world.instance_id)
    tokens = result["Credentials"]
    browser = _sign_in(world, result)
    offset = clock.advance(REFRESH_SECONDS + 600).offset_seconds  # the session is over...
    assert _cti(world, tokens["AccessToken"]).status == 401
    with botocore_clock(offset):  # ...and minting collects the families that are over
        world.connect_as("agent2").get_federation_token(InstanceId=world.instance_id)
    clock.set_offset(0)
    assert _cti(world, tokens["AccessToken"]).status == 200
    assert browser.get(f"/connect/{world.instance_id}/auth/authorize").status == 200


def test_a_saml_assertion_is_refused_once_the_clock_passes_its_window(
    saml: SamlWorld, clock: AdminClient
) -> None:
    assertion = saml.assertion("agent1")  # valid 5 minutes from the real time
    assert saml.assume(assertion)["Credentials"]
    clock.advance(600)
    with pytest.raises(ClientError) as refused:
        saml.assume(assertion)
    assert _code(refused) == "ExpiredTokenException"
    assert "expired" in refused.value.response["Error"]["Message"]
    # An assertion issued on the shifted clock is inside its window there.
    shifted = saml.assertion("agent1", now=clock.clock().now)
    assert saml.assume(shifted)["Credentials"]


def test_a_used_assertion_stays_used_across_a_clock_moved_on_and_back(
    saml: SamlWorld, clock: AdminClient
) -> None:
    """The browser sign-in accepts an assertion once, remembering it until its NotOnOrAfter;
    a sign-in while the clock is ahead purges what has expired by then. Set back (the pytest
    plugin does after each test), the first assertion is inside its window again, and must
    still be remembered as used."""
    used = saml.assertion("agent1")  # valid 5 minutes from the real time
    assert post_saml(saml.server, used).status == 200
    assert "already been used" in post_saml(saml.server, used).page
    clock.advance(3600)
    later = saml.assertion("agent1", now=clock.clock().now)  # a sign-in an hour on
    assert post_saml(saml.server, later).status == 200
    clock.set_offset(0)
    replayed = post_saml(saml.server, used)
    assert replayed.status == 400 and "already been used" in replayed.page


def test_sigv4_skew_is_judged_against_the_shifted_clock(world: World, clock: AdminClient) -> None:
    connect = world.server.client("connect")
    assert connect.list_instances()["InstanceSummaryList"]
    clock.advance(600)
    with pytest.raises(ClientError) as refused:
        connect.list_instances()
    assert _code(refused) == "InvalidSignatureException"
    assert refused.value.response["Error"]["Message"].startswith("Signature expired: ")
    with botocore_clock(600):
        assert connect.list_instances()["InstanceSummaryList"]

    clock.set_offset(-600)
    with pytest.raises(ClientError) as refused:
        connect.list_instances()
    assert refused.value.response["Error"]["Message"].startswith("Signature not yet current")
    with botocore_clock(-600):
        assert connect.list_instances()["InstanceSummaryList"]


def test_our_client_corrects_the_skew_from_the_servers_date(
    world: World, clock: AdminClient
) -> None:
    c = world.assume("agent1", DurationSeconds=3600)
    client = ConnectClient(
        endpoint_url=world.server.url,
        region="us-east-1",
        env={},
        credentials=Credentials(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"]),
    )
    clock.advance(600)
    raw = client.get_federation_token_raw(world.instance_id)
    assert raw.attempts == 2  # refused once for its time, then signed with the server's
    assert timedelta(seconds=595) < client.clock_skew < timedelta(seconds=605)
    assert client.get_federation_token_raw(world.instance_id).attempts == 1


def test_the_date_header_tells_the_shifted_time(world: World, clock: AdminClient) -> None:
    from email.utils import parsedate_to_datetime

    clock.advance(7200)
    reply = Browser(world.server.url).get("/_connectfed/health")
    date = parsedate_to_datetime(reply.headers["date"])
    assert date - datetime.now(UTC) > timedelta(seconds=7100)


def test_setting_the_clock_back_never_widens_the_refresh_reuse_grace(tmp_path: Path) -> None:
    """A rotated refresh token presented again is reuse (the family is revoked) unless it comes
    within the grace after its rotation. The grace is time since the rotation on the server's
    clock: a clock set back (as the pytest plugin does after each test) must not make a
    rotation that happened "later" look like one that just happened."""
    server = start_admin_server(tmp_path, "--refresh-reuse-grace-seconds", "30")
    try:
        world = build_world(server, "grace")
        admin = AdminClient(server.url)
        tokens = world.connect_as("agent1").get_federation_token(InstanceId=world.instance_id)[
            "Credentials"
        ]
        admin.advance(600)

        def renew(refresh_token: str) -> cti.CtiAnswer:
            return cti.call(
                server.url,
                f"/connect/{world.instance_id}/api",
                "GetNewAuthToken",
                {"refreshToken": refresh_token},
                token=tokens["AccessToken"],
            )

        rotated = renew(tokens["RefreshToken"])
        assert rotated.status == 200, rotated.body
        retried = renew(tokens["RefreshToken"])  # a lost answer retried within the grace
        assert retried.status == 200, retried.body
        admin.set_offset(0)  # ten minutes before the rotation, on the server's clock
        reused = renew(tokens["RefreshToken"])
        assert (reused.status, reused.error) == (401, "RefreshTokenExpiredException")
        # Reuse revokes the family: what the rotations handed out is dead too.
        for issued in (rotated, retried):
            assert _cti(world, issued.body["newAuthToken"]).status == 401
    finally:
        server.stop()


def test_the_test_idp_signs_agents_in_on_the_shifted_clock(tmp_path: Path) -> None:
    """The built-in test IdP is part of the server, so its assertions are issued on the
    server's (shifted) clock: after the clock has moved past an agent's session, signing in
    again through ``/idp/login`` lands on the CCP with a new session, as it did before the
    move. Issued on the real clock, every assertion was already expired ("Bad SAML
    response"), and an agent whose session the clock had ended could not sign in again."""
    import re
    from html import unescape

    server = start_server(tmp_path, "--throttle-rate", "0", "--demo", "--test-idp")
    try:
        AdminClient(server.url).advance(4000)  # past the test IdP's one-hour sessions
        browser = Browser(server.url)
        page = browser.get("/idp/login?user=agent1").body.decode()
        fields = {
            unescape(name): unescape(value)
            for name, value in re.findall(r'name="([^"]+)" value="([^"]*)"', page)
        }
        posted = browser.request("POST", "/saml", form=fields)
        assert posted.status == 303, posted.body.decode()[:300]
        landed = browser.follow(posted)  # the console's federate step, then the SignInUrl
        assert landed.status == 200 and b"Contact Control Panel" in landed.body
        assert browser.get("/auth/authorize").status == 200
    finally:
        server.stop()

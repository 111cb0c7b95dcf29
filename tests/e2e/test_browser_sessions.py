"""Every way a browser gets into an instance ends in one HTTP-only session cookie that
``/auth/authorize`` accepts (the SignInUrl, the credentials form post, the console federation
path); redirects stay on this server; sign-out and deleting the user or the role end it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import postgres_or_skip
from tests.support.browser import Browser, Reply
from tests.support.saml_world import build_saml_world
from tests.support.server import Server, start_server
from tests.support.world import World, build_world, federate_policy, make_role

AUTHORIZE_PATHS = ("/connect/{id}/auth/authorize", "/auth/authorize", "/connect/auth/authorize")


@pytest.fixture(scope="module")
def world(server: Server) -> World:
    return build_world(server, "sessions")


def _federate(world: World, agent: str = "agent1", role_arn: str | None = None) -> Any:
    return world.connect_as(agent, role_arn).get_federation_token(InstanceId=world.instance_id)


def _credentials(result: Any, milliseconds: bool = True) -> str:
    creds = result["Credentials"]
    scale = 1000 if milliseconds else 1
    return json.dumps(
        {
            "AccessToken": creds["AccessToken"],
            "AccessTokenExpiration": int(creds["AccessTokenExpiration"].timestamp() * scale),
            "RefreshToken": creds["RefreshToken"],
            "RefreshTokenExpiration": int(creds["RefreshTokenExpiration"].timestamp() * scale),
        }
    )


def _post_credentials(
    browser: Browser, instance_id: str, credentials: str, destination: str | None = None
) -> Reply:
    form = {"credentials": credentials}
    if destination is not None:
        form["destination"] = destination
    return browser.request("POST", f"/connect/{instance_id}/auth/sign-in", form=form)


def _assert_authorized(browser: Browser, instance_id: str) -> None:
    for path in AUTHORIZE_PATHS:
        reply = browser.get(path.format(id=instance_id))
        assert reply.status == 200, (path, reply.body)
        assert reply.headers["content-type"].startswith("application/json")
        assert reply.headers["cache-control"] == "no-store"
        data = reply.json()
        assert set(data) == {"accessToken", "expiration", "refreshToken", "refreshTokenExpiration"}
        assert data["accessToken"].startswith("cfa_") and len(data["accessToken"]) == 73
        assert data["refreshToken"].startswith("cfr_")
        # Streams' worker does `new Date(response.expiration)`: ISO 8601 UTC, as toISOString.
        assert data["expiration"].endswith("Z") and len(data["expiration"]) == 24
        expires = datetime.fromisoformat(data["expiration"].replace("Z", "+00:00"))
        now = datetime.now(UTC)
        assert now < expires <= now + timedelta(hours=1, seconds=5)


def _session_cookie(reply: Reply) -> str:
    line = next(c for c in reply.set_cookies if c.startswith("connectfed_session="))
    return line


def test_sign_in_url_ends_in_a_session_that_authorize_accepts(world: World) -> None:
    result = _federate(world)
    browser = Browser(world.server.url)
    reply = browser.get(result["SignInUrl"])
    assert reply.status == 303
    assert reply.location == f"/connect/{world.instance_id}/ccp-v2/"
    cookie = _session_cookie(reply)
    assert "HttpOnly" in cookie and "Path=/;" in cookie and "SameSite=Lax" in cookie
    assert browser.cookies["connectfed_session"].startswith("cfb_")
    _assert_authorized(browser, world.instance_id)
    assert (
        browser.get("/connect/00000000-0000-4000-8000-000000000000/auth/authorize").status == 401
    )  # the session names one instance
    page = browser.follow(reply)  # the CCP, which signs in from /auth/authorize itself
    assert page.status == 200 and b'data-authorize="/connect/' in page.body


def test_the_instance_login_url_signs_in_or_goes_on_to_the_ccp(world: World) -> None:
    """``<instance>/login``: the login popup Streams' ``connect.agentApp.initApp`` opens (its
    ``loginUrl`` is the CCP URL's base + ``/login``). Without a session it is a sign-in page
    saying how to sign in (it said "Your session has expired" to an agent never signed in,
    with nowhere to go); with one it goes on to the CCP, as the instance's login page does for
    a signed-in agent."""
    browser = Browser(world.server.url)
    page = browser.get(f"/connect/{world.instance_id}/login")
    assert page.status == 200, page.body.decode()[:300]
    assert b"Sign in" in page.body and b"SignInUrl" in page.body
    assert b"expired" not in page.body
    assert browser.get(_federate(world)["SignInUrl"]).status == 303
    onward = browser.get(f"/connect/{world.instance_id}/login")
    assert onward.status == 303
    assert onward.location == f"/connect/{world.instance_id}/ccp-v2/"
    assert browser.get("/connect/00000000-0000-4000-8000-000000000000/login").status == 404


def test_a_sign_in_code_used_twice_ends_the_session_it_opened(world: World) -> None:
    result = _federate(world)
    first = Browser(world.server.url)
    assert first.get(result["SignInUrl"]).status == 303
    replay = Browser(world.server.url)
    again = replay.get(result["SignInUrl"])
    assert again.status == 401 and "connectfed_session" not in replay.cookies
    # RFC 6749 §4.1.2: a code used twice revokes what it was spent for.
    assert first.get("/auth/authorize").status == 401


@pytest.mark.parametrize("milliseconds", [True, False], ids=["milliseconds", "seconds"])
def test_credentials_form_post_ends_in_a_session(world: World, milliseconds: bool) -> None:
    browser = Browser(world.server.url)
    reply = _post_credentials(
        browser,
        world.instance_id,
        _credentials(_federate(world), milliseconds),
        "/ccp-v2/softphone",
    )
    assert reply.status == 303
    assert reply.location == f"/connect/{world.instance_id}/ccp-v2/softphone"
    _assert_authorized(browser, world.instance_id)


def test_credentials_form_post_refusals(world: World) -> None:
    good = _federate(world)
    other = _federate(world)
    creds = json.loads(_credentials(good))
    cases = {
        "not json": (400, "{"),
        "not an object": (400, "[]"),
        "no access token": (400, json.dumps({"RefreshToken": creds["RefreshToken"]})),
        "bad expiration": (400, json.dumps({**creds, "AccessTokenExpiration": "soon"})),
        "garbage token": (401, json.dumps({**creds, "AccessToken": "cfa_" + "A" * 43})),
        "refresh token as access": (
            401,
            json.dumps({**creds, "AccessToken": creds["RefreshToken"]}),
        ),
        "another family's refresh": (
            401,
            json.dumps({**creds, "RefreshToken": other["Credentials"]["RefreshToken"]}),
        ),
    }
    for name, (status, text) in cases.items():
        browser = Browser(world.server.url)
        reply = _post_credentials(browser, world.instance_id, text)
        assert reply.status == status, name
        assert not browser.cookies, name
        assert b"cfa_" not in reply.body and b"cfr_" not in reply.body, name
    foreign = build_world(world.server, "sessions-other")
    browser = Browser(world.server.url)
    assert _post_credentials(browser, foreign.instance_id, _credentials(good)).status == 401


def test_console_federation_path_ends_in_a_session(server: Server) -> None:
    saml = build_saml_world(server, "consolepath")
    instance_id = saml.world.instance_id
    browser = Browser(server.url)
    relay = f"{server.url}/connect/federate/{instance_id}?destination=/ccp-v2/"
    reply = browser.request(
        "POST", "/saml", form={"SAMLResponse": saml.assertion(), "RelayState": relay}
    )
    assert reply.status == 303 and reply.location is not None
    assert reply.location.startswith(f"/connect/federate/{instance_id}")
    page = browser.follow(reply)  # the CCP, which signs in from /auth/authorize itself
    assert page.status == 200 and b'data-authorize="/connect/' in page.body
    _assert_authorized(browser, instance_id)


SAFE = {
    "/ccp-v2/softphone": "/ccp-v2/softphone",
    "/agent-app-v2?x=1": "/agent-app-v2?x=1",
    "/connect/{id}/agent-app-v2": "/agent-app-v2",
    "{url}/connect/{id}/ccp-v2/": "/ccp-v2/",
}
REFUSED = [
    "https://evil.example/",
    "//evil.example/x",
    "/\\evil.example",
    "\\\\evil.example",
    "/%5cevil.example",
    "/../../evil",
    "/%2e%2e/x",
    "javascript:alert(1)",
    "http://127.0.0.1:1/connect/{id}/ccp-v2/",
    "{url}/connect/another/ccp-v2/",
    "ccp-v2",
]
# Not even sendable in a Location header: a 400 page, and the credentials are not spent.
UNSENDABLE = ["/ccp-v2\r\nSet-Cookie: x=1", "/ccp v2", "/ünïcode", "/" + "a" * 2100]


def test_redirects_stay_inside_the_instance(world: World) -> None:
    credentials = _credentials(_federate(world))
    base = f"/connect/{world.instance_id}"

    def land(destination: str) -> str | None:
        text = destination.format(id=world.instance_id, url=world.server.url)
        return _post_credentials(
            Browser(world.server.url), world.instance_id, credentials, text
        ).location

    for destination, path in SAFE.items():
        assert land(destination) == base + path, destination
    for destination in REFUSED:
        assert land(destination) == base + "/ccp-v2/", destination
    for destination in UNSENDABLE:
        reply = _post_credentials(
            Browser(world.server.url), world.instance_id, credentials, destination
        )
        assert reply.status == 400 and reply.location is None, destination
    assert land("/ccp-v2/") == base + "/ccp-v2/"  # still usable after all of the above


@pytest.mark.parametrize("logout_path", ["/connect/{id}/logout", "/logout"])
def test_sign_out_revokes_the_session_family_and_clears_the_cookie(
    world: World, logout_path: str
) -> None:
    credentials = _credentials(_federate(world))
    browser = Browser(world.server.url)
    assert _post_credentials(browser, world.instance_id, credentials).status == 303
    stolen = dict(browser.cookies)
    reply = browser.get(logout_path.format(id=world.instance_id))
    assert reply.status == 200 and b"Signed out" in reply.body
    assert any(c.startswith("connectfed_session=;") and "Max-Age=0" in c for c in reply.set_cookies)
    assert "connectfed_session" not in browser.cookies
    assert browser.get("/auth/authorize").status == 401
    replay = Browser(world.server.url, dict(stolen))
    assert replay.get("/auth/authorize").status == 401  # the cookie is dead, not only cleared
    # The whole family: GetFederationToken's tokens of that grant are dead too.
    assert (
        _post_credentials(Browser(world.server.url), world.instance_id, credentials).status == 401
    )
    assert Browser(world.server.url).get(logout_path.format(id=world.instance_id)).status == 200


def _signed_in_user(browser: Browser, instance_id: str) -> str:
    """The username the browser's session is signed in as (the instance's page names it)."""
    page = browser.get(f"/connect/{instance_id}/agent-app-v2")
    assert page.status == 200, page.body
    return page.body.decode()


def test_signing_in_again_ends_the_session_it_replaces(world: World) -> None:
    """One browser holds one session: a sign-in that replaces the session cookie ends the
    session it replaces, as sign-out would (its whole family), so a copy of the old cookie
    never works again; a sign-in that fails leaves the session it would have replaced alone."""
    first = _federate(world, "agent1")
    browser = Browser(world.server.url)
    assert browser.get(first["SignInUrl"]).status == 303
    old = dict(browser.cookies)
    assert browser.get(_federate(world, "agent1")["SignInUrl"] + "x").status == 401  # refused
    assert Browser(world.server.url, dict(old)).get("/auth/authorize").status == 200
    assert browser.cookies == old

    reply = browser.get(_federate(world, "agent2")["SignInUrl"])  # another user, same browser
    assert reply.status == 303 and browser.cookies != old
    assert browser.get("/auth/authorize").status == 200
    assert "agent2" in _signed_in_user(browser, world.instance_id)
    copied = Browser(world.server.url, dict(old))
    assert copied.get("/auth/authorize").status == 401  # the replaced cookie is dead
    assert copied.get(f"/connect/{world.instance_id}/agent-app-v2").status == 401
    # As after sign-out, the replaced session's family: its GetFederationToken tokens too.
    assert (
        _post_credentials(Browser(world.server.url), world.instance_id, _credentials(first)).status
        == 401
    )


def test_posting_the_same_credentials_again_ends_only_the_old_cookie(world: World) -> None:
    credentials = _credentials(_federate(world))
    browser = Browser(world.server.url)
    assert _post_credentials(browser, world.instance_id, credentials).status == 303
    old = dict(browser.cookies)
    assert _post_credentials(browser, world.instance_id, credentials).status == 303
    assert browser.cookies != old
    assert Browser(world.server.url, dict(old)).get("/auth/authorize").status == 401
    assert browser.get("/auth/authorize").status == 200  # the new session, same family, lives
    assert (
        _post_credentials(Browser(world.server.url), world.instance_id, credentials).status == 303
    )


def test_a_saml_sign_in_again_ends_the_sessions_it_replaces(server: Server) -> None:
    """The SAML browser flow ends in both cookies: the console's role session
    (``/connect/federate``) and the instance session. Signing in again through the IdP, as
    another user, replaces both, and copies of the old ones work no more."""
    saml = build_saml_world(server, "replaced")
    instance_id = saml.world.instance_id
    relay = f"{server.url}/connect/federate/{instance_id}?destination=/ccp-v2/"
    federate = f"/connect/federate/{instance_id}?destination=/ccp-v2/"
    browser = Browser(server.url)

    def sign_in(user: str) -> None:
        reply = browser.request(
            "POST", "/saml", form={"SAMLResponse": saml.assertion(user), "RelayState": relay}
        )
        assert reply.status == 303, reply.body
        assert browser.follow(reply).status == 200

    sign_in("agent1")
    old = dict(browser.cookies)
    assert set(old) == {"connectfed_console", "connectfed_session"}
    sign_in("agent2")
    assert "agent2" in _signed_in_user(browser, instance_id)
    assert browser.get(federate).status == 303  # the new console session federates
    copied = Browser(server.url, dict(old))
    assert copied.get("/auth/authorize").status == 401
    assert copied.get(federate).status == 401  # the old role session's console cookie


def test_other_cookies_of_the_host_never_hide_the_session_cookie(world: World) -> None:
    """A desktop on another port of the same host sends its cookies here too, older ones
    first, with values as a page set them (JSON, spaces, a name alone)."""
    signed_in = Browser(world.server.url)
    assert signed_in.get(_federate(world)["SignInUrl"]).status == 303
    session = signed_in.cookies["connectfed_session"]
    for desktop_cookies in (
        'prefs={"theme":"dark","layout":"wide"}',
        "greeting=hello world",
        "remembered",
        'quoted="x"; a=b\\c',
    ):
        header = f"{desktop_cookies}; connectfed_session={session}; later=1"
        reply = Browser(world.server.url).request(
            "GET", "/auth/authorize", headers={"Cookie": header}
        )
        assert reply.status == 200, desktop_cookies
    header = f'prefs={{"theme":"dark"}}; connectfed_session={session}'
    assert (
        Browser(world.server.url).request("GET", "/logout", headers={"Cookie": header}).status
        == 200
    )
    assert (
        Browser(world.server.url, {"connectfed_session": session}).get("/auth/authorize").status
        == 401
    )


def test_deleting_the_connect_user_ends_the_session(server: Server) -> None:
    world = build_world(server, "sessions-user")
    user_id = world.add_agent("agent9")
    browser = Browser(server.url)
    assert browser.get(_federate(world, "agent9")["SignInUrl"]).status == 303
    assert browser.get("/auth/authorize").status == 200
    server.client("connect").delete_user(InstanceId=world.instance_id, UserId=user_id)
    reply = browser.get("/auth/authorize")
    assert reply.status == 401 and reply.json() == {"message": "Session expired or not signed in"}


def test_deleting_the_role_ends_the_session(server: Server) -> None:
    world = build_world(server, "sessions-role")
    resource = f"arn:aws:connect:{server.region}:*:instance/{world.instance_id}/user/*"
    role_arn = make_role(server, "SessionsDoomed", federate_policy(resource))
    world.add_agent("agent7")
    browser = Browser(server.url)
    assert browser.get(_federate(world, "agent7", role_arn)["SignInUrl"]).status == 303
    assert browser.get("/auth/authorize").status == 200
    iam = server.client("iam")
    iam.delete_role_policy(RoleName="SessionsDoomed", PolicyName="p")
    iam.delete_role(RoleName="SessionsDoomed")
    assert browser.get("/auth/authorize").status == 401


def test_authorize_without_a_session(world: World) -> None:
    for path in AUTHORIZE_PATHS:
        reply = Browser(world.server.url).get(path.format(id=world.instance_id))
        assert reply.status == 401 and reply.headers["content-type"] == "application/json"
    forged = Browser(world.server.url, {"connectfed_session": "cfb_" + "x" * 43})
    assert forged.get("/auth/authorize").status == 401
    refused = Browser(world.server.url).request("POST", "/auth/authorize")
    assert (refused.status, refused.headers["allow"]) == (405, "GET")
    assert refused.headers["content-type"] == "application/json" and refused.json()["message"]


def test_a_session_works_across_servers_sharing_postgres(tmp_path: Path) -> None:
    url = postgres_or_skip()
    first = start_server(tmp_path / "a", "--throttle-rate", "0", database_url=url)
    second = start_server(tmp_path / "b", "--throttle-rate", "0", database_url=url)
    try:
        world = build_world(first, "pg-sessions")
        result = _federate(world)
        browser = Browser(first.url)
        assert browser.get(result["SignInUrl"]).status == 303
        elsewhere = Browser(second.url, dict(browser.cookies))
        assert elsewhere.get("/auth/authorize").status == 200
        assert elsewhere.get(f"/connect/{world.instance_id}/logout").status == 200
        assert browser.get("/auth/authorize").status == 401  # signed out through the other
    finally:
        first.stop()
        second.stop()

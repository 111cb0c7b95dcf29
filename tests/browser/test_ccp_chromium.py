"""The CCP in a real headless Chromium with the unmodified Streams from npm: a page on a second
origin (examples/agent-desktop) embeds it with ``connect.core.initCCP``; ``connect.agent``
fires with the agent's name and routing profile; state changes flow both ways (page →
CTI PutAgentState; another client's change → long poll → the page's ``onStateChange``); every
entry path (SAML through /saml, SignInUrl, legacy POST /auth/sign-in) ends in a working CCP."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import cti
from tests.support.server import Server, free_port, start_server

DESKTOP = Path(__file__).resolve().parents[2] / "examples" / "agent-desktop" / "server.py"


class Demo:
    def __init__(self, server: Server) -> None:
        text = "".join(server.output)
        self.server = server
        self.instance_id = text.split("--instance-id ")[1].split()[0]
        federation = text.split("2. Federation only")[1]  # the federation-only user's keys
        self.key = federation.split("AWS_ACCESS_KEY_ID=")[1].split()[0]
        self.secret = federation.split("AWS_SECRET_ACCESS_KEY=")[1].split()[0]
        self.role_arn = text.split("--role-arn ")[1].split()[0]

    def agent_client(self, name: str = "agent1") -> Any:
        sts = self.server.client("sts", self.key, self.secret)
        creds = sts.assume_role(RoleArn=self.role_arn, RoleSessionName=name)["Credentials"]
        return self.server.client(
            "connect", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
        )

    def tokens(self, name: str = "agent1") -> dict[str, Any]:
        return dict(
            self.agent_client(name).get_federation_token(InstanceId=self.instance_id)["Credentials"]
        )

    def cti(self, operation: str, body: Any, token: str) -> cti.CtiAnswer:
        return cti.call(
            self.server.url, f"/connect/{self.instance_id}/api", operation, body, token=token
        )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    srv = start_server(
        tmp_path_factory.mktemp("ccp"), "--throttle-rate", "0", "--demo", "--test-idp"
    )
    yield Demo(srv)
    srv.stop()


@pytest.fixture(scope="module")
def desktop(demo: Demo) -> Iterator[str]:
    """examples/agent-desktop on another port of 127.0.0.1: another origin, the same site."""
    spec = importlib.util.spec_from_file_location("agent_desktop", DESKTOP)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    port = free_port()
    httpd = module.serve(
        module.parse(
            [
                "--connectfed",
                demo.server.url,
                "--instance-id",
                demo.instance_id,
                "--port",
                str(port),
            ]
        )
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    httpd.shutdown()


def _signed_in(browser: Any, demo: Demo, user: str = "agent1") -> Any:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{demo.server.url}/idp/login?user={user}")
    page.wait_for_selector("#name")
    return context


def _desktop_agent(context: Any, desktop: str) -> Any:
    page = context.new_page()
    page.goto(desktop + "/")
    page.wait_for_function("window.desktop && window.desktop.agent", timeout=30_000)
    return page


def test_saml_sign_in_lands_on_a_working_ccp(browser: Any, demo: Demo) -> None:
    context = _signed_in(browser, demo)
    page = context.pages[0]
    assert page.url.endswith("/ccp-v2")
    assert page.locator("#name").inner_text() == "Agent1 Demo"
    assert page.locator("#user").inner_text() == "Signed in as agent1"
    assert page.locator("#profile").inner_text() == "Basic Routing Profile"
    assert page.locator("#queues li").all_inner_texts() == ["BasicQueue"]
    assert set(page.locator("#state option").all_inner_texts()) >= {"Available", "Offline"}
    context.close()


def test_init_ccp_on_another_origin_fires_connect_agent(
    browser: Any, demo: Demo, desktop: str
) -> None:
    context = _signed_in(browser, demo)
    page = _desktop_agent(context, desktop)
    assert page.locator("#agent-name").inner_text() == "Agent1 Demo"
    assert page.locator("#agent-profile").inner_text() == "Basic Routing Profile"
    frame = page.frame_locator("iframe[name='Amazon Connect CCP']")
    assert frame.locator("#name").inner_text() == "Agent1 Demo"
    elapsed = page.evaluate("window.desktop.firstAgentMs")
    elapsed = page.evaluate("window.desktop.firstAgentMs")
    print(f"\ninitCCP -> first connect.agent: {elapsed:.0f} ms")
    context.close()


def test_set_state_from_the_page_reaches_the_server(browser: Any, demo: Demo, desktop: str) -> None:
    tokens = demo.tokens()
    offline = next(
        s
        for s in demo.cti("GetAgentStates", {}, tokens["AccessToken"]).body["states"]
        if s["type"] == "offline"
    )
    demo.cti("PutAgentState", {"state": offline}, tokens["AccessToken"])
    context = _signed_in(browser, demo)
    page = _desktop_agent(context, desktop)
    page.click("button[data-state='Available']")
    page.wait_for_function("document.getElementById('agent-state').textContent === 'Available'")
    snapshot = demo.cti("GetAgentSnapshot", {}, tokens["AccessToken"]).body["snapshot"]
    assert snapshot["state"]["name"] == "Available"
    admin = demo.server.client("connect")
    users = admin.list_users(InstanceId=demo.instance_id)["UserSummaryList"]
    agent_id = next(u["Id"] for u in users if u["Username"] == "agent1")
    data = admin.get_current_user_data(InstanceId=demo.instance_id, Filters={"Agents": [agent_id]})[
        "UserDataList"
    ]
    assert data[0]["Status"]["StatusName"] == "Available"
    context.close()


def test_another_clients_change_reaches_on_state_change(
    browser: Any, demo: Demo, desktop: str
) -> None:
    tokens = demo.tokens()
    states = {
        s["name"]: s for s in demo.cti("GetAgentStates", {}, tokens["AccessToken"]).body["states"]
    }
    demo.cti("PutAgentState", {"state": states["Available"]}, tokens["AccessToken"])
    context = _signed_in(browser, demo)
    page = _desktop_agent(context, desktop)
    page.wait_for_function("document.getElementById('agent-state').textContent === 'Available'")
    sent = time.time()
    assert (
        demo.cti("PutAgentState", {"state": states["Offline"]}, tokens["AccessToken"]).status == 200
    )
    page.wait_for_function(
        "window.desktop.stateChanges.some(c => c.newState === 'Offline')", timeout=35_000
    )
    seen = page.evaluate("window.desktop.stateChanges.find(c => c.newState === 'Offline').at")
    print(f"\nPutAgentState -> page onStateChange: {seen - sent * 1000:.0f} ms")
    context.close()


def test_administrator_put_user_status_reaches_the_page(
    browser: Any, demo: Demo, desktop: str
) -> None:
    admin = demo.server.client("connect")
    users = admin.list_users(InstanceId=demo.instance_id)["UserSummaryList"]
    agent_id = next(u["Id"] for u in users if u["Username"] == "agent1")
    statuses = admin.list_agent_statuses(InstanceId=demo.instance_id)["AgentStatusSummaryList"]
    by_name = {s["Name"]: s["Id"] for s in statuses}
    admin.put_user_status(
        InstanceId=demo.instance_id, UserId=agent_id, AgentStatusId=by_name["Available"]
    )
    context = _signed_in(browser, demo)
    page = _desktop_agent(context, desktop)
    sent = time.time()
    admin.put_user_status(
        InstanceId=demo.instance_id, UserId=agent_id, AgentStatusId=by_name["Offline"]
    )
    page.wait_for_function(
        "window.desktop.stateChanges.some(c => c.newState === 'Offline')", timeout=35_000
    )
    seen = page.evaluate("window.desktop.stateChanges.find(c => c.newState === 'Offline').at")
    print(f"\nPutUserStatus -> page onStateChange: {seen - sent * 1000:.0f} ms")
    context.close()


def test_sign_in_url_ends_in_a_working_ccp(browser: Any, demo: Demo) -> None:
    url = demo.agent_client("agent2").get_federation_token(InstanceId=demo.instance_id)["SignInUrl"]
    page = browser.new_context().new_page()
    page.goto(url)
    page.wait_for_selector("#name")
    assert page.locator("#user").inner_text() == "Signed in as agent2"


def test_legacy_post_sign_in_ends_in_a_working_ccp(browser: Any, demo: Demo) -> None:
    tokens = demo.tokens("agent2")
    credentials = json.dumps(
        {
            "AccessToken": tokens["AccessToken"],
            "AccessTokenExpiration": int(tokens["AccessTokenExpiration"].timestamp() * 1000),
            "RefreshToken": tokens["RefreshToken"],
            "RefreshTokenExpiration": int(tokens["RefreshTokenExpiration"].timestamp() * 1000),
        }
    )
    page = browser.new_context().new_page()
    page.set_content(
        f'<form id=f method=post action="{demo.server.url}/connect/{demo.instance_id}'
        '/auth/sign-in"><input type=hidden name=credentials>'
        '<input type=hidden name=destination value="/ccp-v2/"></form>'
    )
    page.locator("input[name=credentials]").evaluate("(e, v) => e.value = v", credentials)
    with page.expect_navigation():
        page.evaluate("document.getElementById('f').submit()")
    assert page.url.endswith(f"/connect/{demo.instance_id}/ccp-v2/")
    page.wait_for_selector("#name")
    assert page.locator("#user").inner_text() == "Signed in as agent2"


def test_ccp_may_be_framed_and_holds_no_token(demo: Demo) -> None:
    import urllib.request

    with urllib.request.urlopen(f"{demo.server.url}/connect/{demo.instance_id}/ccp-v2/") as r:
        body = r.read().decode()
        assert "X-Frame-Options" not in r.headers
        assert r.headers["Content-Security-Policy"] == "frame-ancestors *"  # --demo
    assert "cfa_" not in body and "cfr_" not in body
    with urllib.request.urlopen(f"{demo.server.url}/_connectfed/static/connect-streams.js") as r:
        assert r.read() == (cti.STREAMS_DIR / "release" / "connect-streams.js").read_bytes()


def test_a_desktop_cookie_python_cannot_parse_leaves_the_ccp_signed_in(
    browser: Any, demo: Demo, desktop: str
) -> None:
    """Cookies belong to a host name, not a port: the desktop's own cookies reach the CCP's
    server too, and Chromium sends the older ones first. It sends values RFC 6265 frowns upon
    (JSON, spaces, a name alone) as they were set; none of them may hide the session cookie,
    neither from the CCP nor from sign-out."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(desktop + "/config.json")  # the desktop remembers its settings before sign-in
    page.evaluate(
        """() => {
            document.cookie = 'prefs={"theme":"dark","layout":"wide"}; path=/';
            document.cookie = 'greeting=hello world; path=/';
            document.cookie = 'remembered; path=/';
        }"""
    )
    page.goto(f"{demo.server.url}/idp/login?user=agent1")
    page.wait_for_selector("#name")
    assert page.locator("#user").inner_text() == "Signed in as agent1"
    desktop_page = _desktop_agent(context, desktop)
    assert desktop_page.locator("#agent-name").inner_text() == "Agent1 Demo"
    session = next(c for c in context.cookies() if c["name"] == "connectfed_session")
    # Signing out through the CCP's server ends the session itself, not only the cookie.
    page.goto(f"{demo.server.url}/connect/{demo.instance_id}/logout")
    replay = urllib.request.Request(
        f"{demo.server.url}/auth/authorize",
        headers={"Cookie": f"connectfed_session={session['value']}"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(replay)
    assert refused.value.code == 401
    context.close()


def _session_cookie(context: Any) -> str:
    return str(next(c for c in context.cookies() if c["name"] == "connectfed_session")["value"])


def _authorize_with(demo: Demo, session: str) -> int:
    """What ``/auth/authorize`` answers to ``session``, as the CCP's worker asks it."""
    request = urllib.request.Request(
        f"{demo.server.url}/connect/{demo.instance_id}/auth/authorize",
        headers={"Cookie": f"connectfed_session={session}"},
    )
    try:
        with urllib.request.urlopen(request) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as refused:
        return refused.code


def test_a_desktop_signs_out_through_amazon_connects_logout_url(
    browser: Any, demo: Demo, desktop: str
) -> None:
    """Signing out of a custom desktop as Streams' documentation shows it: the logout URL
    (Amazon Connect's ``<instance>/connect/logout``) fetched with the session's cookie
    (``mode: 'no-cors'``), then TERMINATE sent upstream. The session ends there, not only its
    cookie; the desktop hears TERMINATED; the agent signs in again and the same desktop, not
    reloaded, follows the agent once more."""
    context = _signed_in(browser, demo)
    page = _desktop_agent(context, desktop)
    session = _session_cookie(context)
    assert _authorize_with(demo, session) == 200
    page.click("#sign-out")
    page.wait_for_function("window.desktop.signedOut === true && window.desktop.terminated > 0")
    assert "connectfed_session" not in {c["name"] for c in context.cookies()}
    assert _authorize_with(demo, session) == 401

    # A tab of its own: the first one (signed in before) may still be navigating after the
    # sign-out, and a navigation of ours there would be interrupted by it.
    login = context.new_page()
    login.goto(f"{demo.server.url}/idp/login?user=agent1")
    login.wait_for_selector("#name")
    frame = page.frame_locator("iframe[name='Amazon Connect CCP']")
    frame.locator("#agent").wait_for(state="visible", timeout=60_000)  # Streams reloaded it
    tokens = demo.tokens()
    states = {
        s["name"]: s for s in demo.cti("GetAgentStates", {}, tokens["AccessToken"]).body["states"]
    }
    shown = page.locator("#agent-state").inner_text()
    wanted = "Offline" if shown == "Available" else "Available"
    demo.cti("PutAgentState", {"state": states[wanted]}, tokens["AccessToken"])
    page.wait_for_function(
        f"document.getElementById('agent-state').textContent === '{wanted}'", timeout=35_000
    )
    context.close()


@pytest.fixture
def short_tokens(tmp_path: Path) -> Iterator[Demo]:
    """A server of its own (its clock is moved) whose access tokens live 10 minutes, within
    the hour of the test IdP's sessions."""
    srv = start_server(
        tmp_path,
        "--throttle-rate",
        "0",
        "--demo",
        "--test-idp",
        "--access-token-seconds",
        "600",
    )
    yield Demo(srv)
    srv.stop()


def test_the_ccp_follows_its_session_when_the_server_clock_moves(
    browser: Any, short_tokens: Demo
) -> None:
    """The worker's access token expires by the server's clock, which need not be the
    browser's (time travel here; a laptop asleep for an hour does the same): the CTI API's
    first 401 makes the CCP ask ``/auth/authorize`` again at once, so the agent's updates keep
    coming while the session lives, and the CCP says it is signed out once it has ended."""
    from connectfed.client import AdminClient, botocore_clock

    demo = short_tokens
    admin = AdminClient(demo.server.url)
    connect = demo.server.client("connect")
    users = connect.list_users(InstanceId=demo.instance_id)["UserSummaryList"]
    agent_id = next(u["Id"] for u in users if u["Username"] == "agent1")
    statuses = connect.list_agent_statuses(InstanceId=demo.instance_id)["AgentStatusSummaryList"]
    status_ids = {s["Name"]: s["Id"] for s in statuses}

    def put_status(name: str, offset: float) -> None:
        with botocore_clock(offset):
            connect.put_user_status(
                InstanceId=demo.instance_id, UserId=agent_id, AgentStatusId=status_ids[name]
            )

    def shows(name: str, timeout: float = 20_000) -> None:
        page.wait_for_function(
            f"document.getElementById('state').dataset.current === '{name}'", timeout=timeout
        )

    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{demo.server.url}/idp/login?user=agent1")
    page.wait_for_selector("#name")
    put_status("Available", 0)
    shows("Available", 35_000)

    offset = admin.advance(700).offset_seconds  # the worker's access token has expired
    put_status("Offline", offset)
    shows("Offline", 35_000)
    put_status("Available", offset)
    shows("Available")
    assert page.locator("#signed-out").is_hidden()

    offset = admin.advance(3600).offset_seconds  # past the session's horizon
    put_status("Offline", offset)  # ends the poll waiting, if one is
    page.wait_for_selector("#signed-out", state="visible", timeout=20_000)
    assert page.locator("#agent").is_hidden()  # no status to pick for an ended session
    context.close()


def test_a_state_change_after_the_access_token_expired_by_the_server_clock(
    browser: Any, short_tokens: Demo
) -> None:
    """The agent changes state first thing after the server's clock moved past the worker's
    access token (the session alive): the change is made with a fresh token, not refused as a
    signed-out session."""
    from connectfed.client import AdminClient, botocore_clock

    demo = short_tokens
    connect = demo.server.client("connect")
    users = connect.list_users(InstanceId=demo.instance_id)["UserSummaryList"]
    agent_id = next(u["Id"] for u in users if u["Username"] == "agent1")
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{demo.server.url}/idp/login?user=agent1")
    page.wait_for_selector("#name")
    page.select_option("#state", label="Offline")
    page.wait_for_function("document.getElementById('state').dataset.current === 'Offline'")
    time.sleep(1)  # the long poll is waiting, with the token that is about to expire
    offset = AdminClient(demo.server.url).advance(700).offset_seconds
    page.select_option("#state", label="Available")
    page.wait_for_function(
        "document.getElementById('state').dataset.current === 'Available'", timeout=20_000
    )
    with botocore_clock(offset):
        data = connect.get_current_user_data(
            InstanceId=demo.instance_id, Filters={"Agents": [agent_id]}
        )["UserDataList"]
    assert data[0]["Status"]["StatusName"] == "Available"
    assert page.locator("#signed-out").is_hidden()
    assert page.locator("#state-error").is_hidden()
    context.close()


def test_set_configuration_round_trips_the_agents_configuration(browser: Any, demo: Demo) -> None:
    """``agent.setConfiguration(agent.getConfiguration())``, as a desktop's settings page does:
    Streams refuses it by itself (``InvalidLocale``) unless the configuration names a language
    (``agentPreferences.LANGUAGE``, as Amazon Connect answers); a changed language is refused
    by the server, which keeps none."""
    context = _signed_in(browser, demo)
    page = context.pages[0]
    outcome = page.evaluate(
        """() => new Promise((resolve) => connect.agent((agent) => {
            const config = agent.getConfiguration();
            agent.setConfiguration(config, {
                success: () => resolve({ok: true, preferences: config.agentPreferences}),
                failure: (err) => resolve({ok: false, err: String(err)}),
            });
        }))"""
    )
    assert outcome["ok"], outcome
    assert outcome["preferences"]["LANGUAGE"] == "en_US"
    changed = page.evaluate(
        """(language) => new Promise((resolve) => connect.agent((agent) => {
            const config = agent.getConfiguration();
            config.agentPreferences = {LANGUAGE: language};
            agent.setConfiguration(config, {
                success: () => resolve({ok: true}),
                failure: (err) => resolve({ok: false, err: String(err)}),
            });
        }))""",
        "de_DE",
    )
    assert not changed["ok"] and "InvalidConfigurationException" in changed["err"], changed
    context.close()


_SET_PHONE = """([softphone, extension]) => new Promise((resolve) => connect.agent((agent) => {
    const config = agent.getConfiguration();
    config.softphoneEnabled = softphone;
    config.extension = extension;
    agent.setConfiguration(config, {
        success: () => resolve({ok: true}),
        failure: (err) => resolve({ok: false, err: String(err)}),
    });
}))"""


def test_set_configuration_switches_the_agent_to_a_desk_phone_and_back(
    browser: Any, demo: Demo
) -> None:
    """Streams' documented ``agent.setConfiguration`` example: ``extension`` set to an E.164
    number and ``softphoneEnabled`` false, the only two values an agent may change. The change
    is kept (the CCP's next configuration, the user's PhoneConfig in DescribeUser); a number
    not in E.164 fails the update, as the documentation says."""
    admin = demo.server.client("connect")
    users = admin.list_users(InstanceId=demo.instance_id)["UserSummaryList"]
    agent_id = next(u["Id"] for u in users if u["Username"] == "agent2")

    def phone_config() -> dict[str, Any]:
        user = admin.describe_user(InstanceId=demo.instance_id, UserId=agent_id)["User"]
        return dict(user["PhoneConfig"])

    assert phone_config()["PhoneType"] == "SOFT_PHONE"
    context = browser.new_context()
    page = context.new_page()
    url = demo.agent_client("agent2").get_federation_token(InstanceId=demo.instance_id)["SignInUrl"]
    page.goto(url)
    page.wait_for_selector("#name")

    outcome = page.evaluate(_SET_PHONE, [False, "+18005550100"])
    assert outcome["ok"], outcome
    assert phone_config()["PhoneType"] == "DESK_PHONE"
    assert phone_config()["DeskPhoneNumber"] == "+18005550100"
    page.wait_for_function(  # Streams reloads the configuration after a successful update
        """() => { const c = new connect.Agent().getConfiguration();
                   return c.softphoneEnabled === false && c.extension === '+18005550100'; }"""
    )

    refused = page.evaluate(_SET_PHONE, [False, "555-0100"])
    assert not refused["ok"] and "InvalidConfigurationException" in refused["err"], refused
    assert phone_config()["DeskPhoneNumber"] == "+18005550100"

    back = page.evaluate(_SET_PHONE, [True, ""])
    assert back["ok"], back
    assert phone_config()["PhoneType"] == "SOFT_PHONE"
    assert "DeskPhoneNumber" not in phone_config()
    context.close()


_STORAGE_ACCESS_DESKTOP = """<!doctype html><html><head><meta charset=utf-8></head><body>
<div id="ccp" style="width:320px;height:480px"></div>
<script src="{server}/_connectfed/static/connect-streams.js"></script>
<script>
connect.core.initCCP(document.getElementById("ccp"), {{
  ccpUrl: "{server}/connect/{instance}/ccp-v2/",
  loginPopup: false,
  storageAccess: {{canRequest: true}}
}});
connect.core.onInitialized(function () {{ window.initialized = true; }});
connect.agent(function (agent) {{ window.agentName = agent.getName(); }});
</script></body></html>"""


@pytest.fixture
def on_localhost(tmp_path: Path) -> Iterator[Demo]:
    """A server whose public URL is on ``localhost``: the one host name besides Amazon
    Connect's domains for which Streams requests storage access."""
    srv = start_server(
        tmp_path, "--throttle-rate", "0", "--demo", "--test-idp", "--host", "localhost"
    )
    yield Demo(srv)
    srv.stop()


def test_init_ccp_with_storage_access_reaches_the_agent(browser: Any, on_localhost: Demo) -> None:
    """``storageAccess: {canRequest: true}`` (Amazon's advice for Chrome's third-party cookie
    changes) makes initCCP frame ``<ccpUrl>/request-storage-access`` first and wait for that
    page's ``storageAccess::granted`` before it starts: the page answers and goes on to the
    CCP, and ``connect.agent`` fires."""
    demo = on_localhost
    server = demo.server.url.replace("127.0.0.1", "localhost")
    page_html = _STORAGE_ACCESS_DESKTOP.format(server=server, instance=demo.instance_id).encode()
    with _page_server(page_html) as httpd:
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"{server}/idp/login?user=agent1")
        page.wait_for_selector("#name")
        desktop = context.new_page()
        desktop.goto(f"http://localhost:{httpd.server_address[1]}/")
        desktop.wait_for_function("window.initialized && window.agentName", timeout=30_000)
        assert desktop.evaluate("window.agentName") == "Agent1 Demo"
        frame = desktop.frame_locator("iframe[name='Amazon Connect CCP']")
        assert frame.locator("#name").inner_text() == "Agent1 Demo"
        context.close()


_STORAGE_ACCESS_FRAME = """<!doctype html><html><head><meta charset=utf-8></head><body>
<iframe id="rsa" src="{server}/connect/{instance}/ccp-v2/request-storage-access"></iframe>
<script>
document.getElementById("rsa").addEventListener("load", function () {{
  if (window.asked) {{ return; }}
  window.asked = true;
  this.contentWindow.postMessage(
    {{event: "storageAccess::request", data: {{landat: {landat}}}}}, "*");
}});
</script></body></html>"""


@pytest.mark.parametrize(
    "landat",
    [
        "/\t/evil.example/p",
        "/\n/evil.example/p",
        "//evil.example/x",
        "/\\evil.example/x",
        "https://evil.example/",
        "javascript:alert(1)",
    ],
)
def test_the_storage_access_page_goes_on_only_to_this_server(
    browser: Any, on_localhost: Demo, landat: str
) -> None:
    """Where the request-storage-access page goes on to (``landat``, from the embedding page)
    is a path of this server or the CCP: the browser's URL parser drops tabs and newlines and
    reads ``\\`` as ``/``, so ``/<TAB>/evil.example`` passed a check of the string's first
    characters and led the frame to another site."""
    import json

    demo = on_localhost
    server = demo.server.url.replace("127.0.0.1", "localhost")
    html = _STORAGE_ACCESS_FRAME.format(
        server=server, instance=demo.instance_id, landat=json.dumps(landat)
    ).encode()
    with _page_server(html) as httpd:
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"{server}/idp/login?user=agent1")  # the page is the signed-in agent's
        page.wait_for_selector("#name")
        page.goto(f"http://localhost:{httpd.server_address[1]}/")
        ccp = f"{server}/connect/{demo.instance_id}/ccp-v2"
        deadline = time.monotonic() + 15
        while True:
            urls = [_location(f) for f in page.frames if f != page.main_frame]
            urls = [u for u in urls if u.startswith("http")]
            if any(u.startswith(ccp) and "request-storage-access" not in u for u in urls):
                break
            assert not any("evil.example" in u for u in urls), urls
            assert time.monotonic() < deadline, urls
            time.sleep(0.1)
        assert all(u.startswith(server) for u in urls), urls
        context.close()


def _location(frame: Any) -> str:
    """Where a frame's document is (its ``url`` can lag a ``location.replace`` across origins);
    "" for a frame gone or navigating meanwhile."""
    try:
        return str(frame.evaluate("location.href"))
    except Exception:
        return ""


@contextlib.contextmanager
def _page_server(html: bytes) -> Iterator[Any]:
    """A page of its own origin (a desktop embedding the CCP): serves ``html`` on every GET."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(html)))
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield httpd
    finally:
        httpd.shutdown()


_RELOGIN_DESKTOP = """<!doctype html><html><head><meta charset=utf-8></head><body>
<div id="ccp" style="width:320px;height:480px"></div>
<script src="{server}/_connectfed/static/connect-streams.js"></script>
<script>
window.desktop = {{authFails: 0, states: []}};
connect.core.initCCP(document.getElementById("ccp"), {{
  ccpUrl: "{server}/connect/{instance}/ccp-v2/",
  loginPopup: true,
  loginPopupAutoClose: true,
  loginUrl: "{server}/idp/login?user=agent1",
  ccpAckTimeout: 2000
}});
connect.core.onAuthFail(function () {{ window.desktop.authFails += 1; }});
connect.agent(function (agent) {{
  window.desktop.agent = agent;
  agent.onStateChange(function (change) {{ window.desktop.states.push(change.newState); }});
}});
</script></body></html>"""


def test_a_desktop_whose_session_the_clock_ended_signs_in_again_through_its_login_popup(
    browser: Any, short_tokens: Demo
) -> None:
    """The admin clock moved past the agent's session: the desktop hears ``onAuthFail``,
    Streams opens its ``loginUrl`` (the test IdP here, an IdP-initiated sign-in) in the login
    popup, the agent is signed in again there, the popup closes by itself
    (``loginPopupAutoClose``) and the same desktop, not reloaded, follows the agent again."""
    from connectfed.client import AdminClient, botocore_clock

    demo = short_tokens
    connect = demo.server.client("connect")
    users = connect.list_users(InstanceId=demo.instance_id)["UserSummaryList"]
    agent_id = next(u["Id"] for u in users if u["Username"] == "agent1")
    statuses = connect.list_agent_statuses(InstanceId=demo.instance_id)["AgentStatusSummaryList"]
    status_ids = {s["Name"]: s["Id"] for s in statuses}
    html = _RELOGIN_DESKTOP.format(server=demo.server.url, instance=demo.instance_id).encode()
    with _page_server(html) as httpd:
        context = _signed_in(browser, demo)
        page = context.new_page()
        popups: list[Any] = []
        page.on("popup", lambda popup: popups.append(popup))
        page.goto(f"http://127.0.0.1:{httpd.server_address[1]}/")
        page.wait_for_function("window.desktop.agent", timeout=30_000)

        offset = AdminClient(demo.server.url).advance(4000).offset_seconds  # past the hour
        page.wait_for_function("window.desktop.authFails > 0", timeout=40_000)
        deadline = time.monotonic() + 40
        while not (popups and popups[0].is_closed()):  # opened, signed in, closed on its own
            assert time.monotonic() < deadline, [p.url for p in popups]
            page.wait_for_timeout(250)  # lets Playwright deliver the popup event

        with botocore_clock(offset):
            connect.put_user_status(
                InstanceId=demo.instance_id, UserId=agent_id, AgentStatusId=status_ids["Available"]
            )
        page.wait_for_function("window.desktop.states.includes('Available')", timeout=35_000)
        context.close()

"""The browser SSO flow in a real headless Chromium (Debian's chromium, driven by Playwright):
test IdP login -> POST /saml -> federate -> the instance page; the role chooser; error pages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.server import Server, start_server


@pytest.fixture(scope="module")
def idp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(
        tmp_path_factory.mktemp("sso"), "--throttle-rate", "0", "--demo", "--test-idp"
    )
    yield srv
    srv.stop()


def _page(browser: Any) -> Any:
    context = browser.new_context()
    return context.new_page()


def test_idp_login_lands_on_the_instance_page(browser: Any, idp_server: Server) -> None:
    page = _page(browser)
    page.goto(f"{idp_server.url}/idp")
    assert page.locator("#title").inner_text() == "connectfed test IdP"
    page.click("a.login:text-is('agent1')")
    page.wait_for_selector("#user")
    assert "/ccp-v2" in page.url
    assert page.locator("#user").inner_text() == "Signed in as agent1"
    cookies = page.context.cookies()
    session = next(c for c in cookies if c["name"] == "connectfed_session")
    assert session["httpOnly"]
    page.reload()
    page.wait_for_selector("#user")
    assert page.locator("#user").inner_text() == "Signed in as agent1"


def test_role_chooser_then_instance(browser: Any, idp_server: Server) -> None:
    page = _page(browser)
    page.goto(f"{idp_server.url}/idp/login?user=agent2")
    page.wait_for_selector("#title:text-is('Select a role')")
    options = page.locator("input[name=role]")
    assert options.count() == 2
    options.nth(1).check()
    page.click("#signin")
    page.wait_for_selector("#user")
    assert page.locator("#user").inner_text() == "Signed in as agent2"


@pytest.mark.parametrize(
    "user,message",
    [
        ("stranger", "has not been onboarded to this application"),
        ("agent1-denied", "Access denied"),
    ],
)
def test_error_pages(browser: Any, idp_server: Server, user: str, message: str) -> None:
    page = _page(browser)
    page.goto(f"{idp_server.url}/idp/login?user={user}")
    page.wait_for_selector("#title:text-is('Access denied')")
    assert message in page.content()


def test_bad_assertion_page(browser: Any, idp_server: Server) -> None:
    page = _page(browser)
    page.set_content(
        f'<form id=f method=post action="{idp_server.url}/saml">'
        '<input name=SAMLResponse value="PHNhbWxwOlJlc3BvbnNlLz4="></form>'
        "<script>document.getElementById('f').submit()</script>"
    )
    page.wait_for_selector("#title:text-is('Bad SAML response')")
    # "<samlp:Response/>" without its namespace declaration is not a SAML response: say so.
    message = page.locator("#message").inner_text()
    assert "is not a SAML response" in message and "names no" not in message


def _instance_id(server: Server) -> str:
    return next(
        line.split("--instance-id ")[1].split()[0]
        for line in server.output
        if "--instance-id " in line
    )


def test_without_a_session_the_ccp_says_how_to_sign_in(browser: Any, idp_server: Server) -> None:
    page = _page(browser)
    instance_id = _instance_id(idp_server)
    page.goto(f"{idp_server.url}/connect/{instance_id}/ccp-v2")
    page.wait_for_selector("#signed-out")
    assert "You are not signed in." in page.locator("#signed-out").inner_text()
    assert page.locator("#signed-out a[href='/idp']").count() == 1
    response = page.goto(f"{idp_server.url}/connect/{instance_id}/other")
    assert response is not None and response.status == 401
    assert page.locator("#title").inner_text() == "Session expired"


@pytest.mark.parametrize(
    "path", ["/ccp-v2", "/ccp-v2/", "/other", "/auth/sign-in?code=cfs_x&destination=/ccp-v2"]
)
def test_an_unknown_instance_says_so(browser: Any, idp_server: Server, path: str) -> None:
    page = _page(browser)
    response = page.goto(f"{idp_server.url}/connect/00000000-0000-0000-0000-000000000000{path}")
    assert response is not None and response.status == 404
    assert page.locator("#title").inner_text() == "Unknown instance"
    assert "00000000-0000-0000-0000-000000000000" in page.locator("#message").inner_text()
    assert "expired" not in page.content().lower()


def test_sign_in_url_from_get_federation_token_signs_a_browser_in(
    browser: Any, idp_server: Server
) -> None:
    from tests.support.world import build_world

    world = build_world(idp_server, "signinurl")
    result = world.connect_as("agent1").get_federation_token(InstanceId=world.instance_id)
    page = _page(browser)
    page.goto(result["SignInUrl"])
    page.wait_for_selector("#user")
    assert page.locator("#user").inner_text() == "Signed in as agent1"
    again = _page(browser)
    response = again.goto(result["SignInUrl"])
    assert response is not None and response.status == 401  # single use


def test_console_session_federates_again_through_the_federate_url(
    browser: Any, idp_server: Server
) -> None:
    instance_id = _instance_id(idp_server)
    page = _page(browser)
    page.goto(f"{idp_server.url}/idp/login?user=agent1")
    page.wait_for_selector("#user")
    page.goto(f"{idp_server.url}/connect/federate/{instance_id}?destination=%2Fagent-app-v2")
    page.wait_for_selector("#user")
    assert page.url.endswith(f"/connect/{instance_id}/agent-app-v2")
    assert page.locator("#destination").inner_text() == "/agent-app-v2"
    fresh = _page(browser)  # no console session: no federation
    response = fresh.goto(f"{idp_server.url}/connect/federate/{instance_id}")
    assert response is not None and response.status == 401

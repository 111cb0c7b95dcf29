"""The browser SSO flow in a real headless Chromium (Debian's chromium, driven by Playwright):
test IdP login -> POST /saml -> federate -> the instance page; the role chooser; error pages."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI
from tests.support.server import Server, start_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        if IN_CI:
            raise
        pytest.skip(f"playwright is not installed ({exc}); run scripts/test")
    if not Path(CHROMIUM).exists():
        if IN_CI:
            raise RuntimeError("Chromium is required in CI (scripts/test installs it)")
        pytest.skip("Chromium not installed (Debian package 'chromium'); run scripts/test")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield instance
        instance.close()


@pytest.fixture(scope="module")
def idp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(tmp_path_factory.mktemp("sso"), "--throttle-rate", "0", "--demo",
                       "--test-idp")
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


@pytest.mark.parametrize("user,message", [
    ("stranger", "has not been onboarded to this application"),
    ("agent1-denied", "Access denied"),
])
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
        "<script>document.getElementById('f').submit()</script>")
    page.wait_for_selector("#title:text-is('Bad SAML response')")
    # "<samlp:Response/>" without its namespace declaration is not a SAML response: say so.
    message = page.locator("#message").inner_text()
    assert "is not a SAML response" in message and "names no" not in message


def test_without_a_session_the_instance_page_refuses(browser: Any, idp_server: Server) -> None:
    page = _page(browser)
    response = page.goto(f"{idp_server.url}/connect/00000000-0000-0000-0000-000000000000/ccp-v2")
    assert response is not None and response.status == 401
    assert page.locator("#title").inner_text() == "Session expired"


def test_sign_in_url_from_get_federation_token_signs_a_browser_in(browser: Any,
                                                                   idp_server: Server) -> None:
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


def test_console_session_federates_again_through_the_federate_url(browser: Any,
                                                                   idp_server: Server) -> None:
    instance_id = next(line.split("--instance-id ")[1].split()[0]
                       for line in idp_server.output if "--instance-id " in line)
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

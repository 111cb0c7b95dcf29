"""The first-hour pages in a real headless Chromium, on a phone (375 px) and a desktop: what each
says, that nothing runs off the side, and a screenshot of each (saved under this test's tmp
directory, to be looked at: ``pytest --basetemp DIR`` keeps them in DIR)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.server import Server, start_server

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 800}
UNKNOWN = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(
        tmp_path_factory.mktemp("first-hour"), "--throttle-rate", "0", "--demo", "--test-idp"
    )
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


def _fits(page: Any, shots: Path, name: str, size: dict[str, int]) -> None:
    """Screenshot the page; nothing may be wider than the viewport."""
    page.screenshot(path=str(shots / f"{name}-{size['width']}.png"), full_page=True)
    scroll, inner = page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
    assert scroll <= inner, f"{name} at {size['width']} px is {scroll} px wide"


def _context(browser: Any, size: dict[str, int]) -> Any:
    return browser.new_context(viewport=size, device_scale_factor=1)


Visit = Callable[[Any, Server], None]


def _home(page: Any, server: Server) -> None:
    page.goto(f"{server.url}/")
    assert page.locator("#title").inner_text() == "connectfed"
    assert "This is a connectfed server" in page.locator("#about").inner_text()
    assert page.locator("a[href='/idp']").count() == 1  # the test IdP runs here


def _saml(page: Any, server: Server) -> None:
    response = page.goto(f"{server.url}/saml")
    assert response is not None and response.status == 200
    assert page.locator("#title").inner_text() == "SAML sign-in endpoint"
    assert (
        f"{server.url}/connect/federate/<instance-id>?destination=/ccp-v2"
        in page.locator("body").inner_text()
    )


def _idp(page: Any, server: Server) -> None:
    page.goto(f"{server.url}/idp")
    text = {
        name: page.locator(f"#user-{name} .about").inner_text()
        for name in ("agent1", "agent2", "stranger", "agent1-denied")
    }
    assert "whole flow" in text["agent1"]
    assert "role chooser" in text["agent2"]
    assert "--allow-multiple-roles-per-user" in text["agent2"]
    assert "no Connect user" in text["stranger"]
    assert "access denied" in text["agent1-denied"]


def _unknown(page: Any, server: Server) -> None:
    response = page.goto(f"{server.url}/connect/{UNKNOWN}/ccp-v2/")
    assert response is not None and response.status == 404
    assert page.locator("#title").inner_text() == "Unknown instance"


def _chooser(page: Any, server: Server) -> None:
    page.goto(f"{server.url}/idp/login?user=agent2")
    page.wait_for_selector("#title:text-is('Select a role')")
    assert page.locator("input[name=role]").count() == 2
    assert page.locator(".arn").first.inner_text().startswith("arn:aws:iam::")


def _denied(page: Any, server: Server) -> None:
    page.goto(f"{server.url}/idp/login?user=agent1-denied")
    page.wait_for_selector("#title:text-is('Access denied')")
    text = page.locator("body").inner_text()
    assert text.count("Access denied") == 1, text  # the page does not repeat itself
    assert "connect:GetFederationToken" in page.locator("#message").inner_text()


def _stranger(page: Any, server: Server) -> None:
    page.goto(f"{server.url}/idp/login?user=stranger")
    page.wait_for_selector("#title:text-is('Access denied')")
    assert "has not been onboarded" in page.locator("#message").inner_text()
    assert "aws connect create-user" in page.locator(".hint").inner_text()


def _ccp(page: Any, server: Server) -> None:
    page.goto(f"{server.url}/idp/login?user=agent1")
    page.wait_for_selector("#agent:not([hidden])")
    assert page.locator("#title").inner_text() == "Contact Control Panel"


PAGES: dict[str, Visit] = {
    "home": _home,
    "saml": _saml,
    "idp": _idp,
    "unknown": _unknown,
    "chooser": _chooser,
    "denied": _denied,
    "stranger": _stranger,
    "ccp": _ccp,
}


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
@pytest.mark.parametrize("name", list(PAGES))
def test_first_hour_page(
    browser: Any, demo: Server, shots: Path, name: str, size: dict[str, int]
) -> None:
    context = _context(browser, size)
    try:
        page = context.new_page()
        PAGES[name](page, demo)
        _fits(page, shots, name, size)
    finally:
        context.close()


def test_a_user_bound_to_another_role_is_told_why_and_what_to_do(
    browser: Any, demo: Server, shots: Path
) -> None:
    first = _context(browser, DESKTOP)
    page = first.new_page()
    page.goto(f"{demo.url}/idp/login?user=agent2")
    page.wait_for_selector("#title:text-is('Select a role')")
    page.locator("input[value$=':role/ConnectAgentFederation']").check()
    page.click("#signin")
    page.wait_for_selector("#agent:not([hidden])")
    first.close()
    again = _context(browser, PHONE)
    try:
        page = again.new_page()
        page.goto(f"{demo.url}/idp/login?user=agent2")
        page.wait_for_selector("#title:text-is('Select a role')")
        page.locator("input[value$=':role/ConnectSupervisorFederation']").check()
        page.click("#signin")
        page.wait_for_selector("#title:text-is('Already bound to another role')")
        message = page.locator("#message").inner_text()
        assert "agent2" in message and ":role/ConnectAgentFederation" in message
        assert ":role/ConnectSupervisorFederation" in message
        hint = page.locator(".hint").inner_text()
        assert "--allow-multiple-roles-per-user" in hint
        _fits(page, shots, "already-bound", PHONE)
    finally:
        again.close()

"""A redirect target that cannot travel in a Location header (non-ASCII, CR/LF, NUL, over-long)
gets a clean 400 page before anything single-use is spent: the sign-in code, the SAML
assertion and the console session all still work afterwards."""

from __future__ import annotations

import http.client
import itertools
from urllib.parse import quote, urlencode, urlsplit

import pytest

from tests.support.saml_world import SamlWorld, build_saml_world
from tests.support.server import Server

BAD = [
    "%C3%A9",
    "%E2%82%AC",
    "/ccp-v2%0D%0ASet-Cookie:%20x=y",
    "/ccp%00v2",
    "/%FF",
    "/ccp-v2/a%20b",
    "/" + "a" * 3000,
]
_names = itertools.count()


@pytest.fixture
def saml(server: Server) -> SamlWorld:
    return build_saml_world(server, f"dest{next(_names)}")


def _request(
    server: Server, method: str, target: str, body: str | None = None, cookie: str | None = None
) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(server.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
    if cookie:
        headers["Cookie"] = cookie
    conn.request(method, target, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, data


def _cookie(headers: dict[str, str]) -> str:
    return headers["set-cookie"].split(";", 1)[0]


def _assert_bad_destination(status: int, headers: dict[str, str], data: bytes) -> None:
    assert status == 400, data[:300]
    assert b"Bad destination" in data
    assert "location" not in headers and "set-cookie" not in headers


@pytest.mark.parametrize("destination", BAD)
def test_sign_in_url_with_bad_destination_is_400_and_the_code_survives(
    saml: SamlWorld, destination: str
) -> None:
    creds = saml.assume(saml.assertion("agent1"))["Credentials"]
    connect = saml.server.client(
        "connect", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
    )
    url = urlsplit(connect.get_federation_token(InstanceId=saml.world.instance_id)["SignInUrl"])
    _assert_bad_destination(
        *_request(saml.server, "GET", f"{url.path}?{url.query}&destination={destination}")
    )
    status, headers, _ = _request(
        saml.server, "GET", f"{url.path}?{url.query}&destination=/ccp-v2/softphone"
    )
    assert status == 303
    assert headers["location"] == f"/connect/{saml.world.instance_id}/ccp-v2/softphone"
    assert headers["set-cookie"].startswith("connectfed_session=cfb_")


@pytest.mark.parametrize("destination", BAD[:4])
def test_relay_state_with_bad_destination_is_400_and_the_assertion_survives(
    saml: SamlWorld, destination: str
) -> None:
    assertion = saml.assertion()
    relay = f"/connect/federate/{saml.world.instance_id}?destination={destination}"
    _assert_bad_destination(
        *_request(
            saml.server,
            "POST",
            "/saml",
            urlencode({"SAMLResponse": assertion, "RelayState": relay}),
        )
    )
    good = f"/connect/federate/{saml.world.instance_id}?destination={quote('/ccp-v2')}"
    status, headers, data = _request(
        saml.server, "POST", "/saml", urlencode({"SAMLResponse": assertion, "RelayState": good})
    )
    assert status == 303, data[:300]
    assert headers["location"].startswith(f"/connect/federate/{saml.world.instance_id}")


def test_relay_state_that_is_no_url_is_400_and_the_assertion_survives(saml: SamlWorld) -> None:
    assertion = saml.assertion()
    status, _, data = _request(
        saml.server,
        "POST",
        "/saml",
        urlencode({"SAMLResponse": assertion, "RelayState": "http://[::1/connect/federate/x"}),
    )
    assert status == 400 and b"RelayState" in data
    status, _, _ = _request(saml.server, "POST", "/saml", urlencode({"SAMLResponse": assertion}))
    assert status == 200


@pytest.mark.parametrize("destination", BAD)
def test_federate_step_with_bad_destination_is_400_and_the_session_survives(
    saml: SamlWorld, destination: str
) -> None:
    status, headers, _ = _request(
        saml.server, "POST", "/saml", urlencode({"SAMLResponse": saml.assertion()})
    )
    assert status == 200
    console = _cookie(headers)
    target = f"/connect/federate/{saml.world.instance_id}"
    _assert_bad_destination(
        *_request(saml.server, "GET", f"{target}?destination={destination}", cookie=console)
    )
    status, headers, _ = _request(
        saml.server, "GET", f"{target}?destination=/ccp-v2", cookie=console
    )
    assert status == 303
    assert "/auth/sign-in?code=cfs_" in headers["location"]

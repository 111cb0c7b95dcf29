"""The browser routes (``/connect/<id>/auth/*``, ``/saml`` and its RelayState, the federate
step's destination, ``/saml/choose``, login and logout, the session and console cookies) given
a NUL, a lone surrogate (as a JSON escape, or as the bytes UTF-8 would give U+D800) or bytes
that are not UTF-8, on SQLite and on PostgreSQL (whose text cannot hold a NUL): a 4xx page or
JSON answer, never a 5xx; the server logs no error; and what is single-use is not spent (the
sign-in code, the assertion, the console session still work afterwards)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from tests.support import raw_http
from tests.support.backends import BACKENDS, logged_errors, server_on
from tests.support.browser import Browser
from tests.support.saml_world import SamlWorld, build_saml_world
from tests.support.server import Server

SURROGATE = "%ED%A0%80"  # U+D800 as "surrogatepass" writes it: not UTF-8
NOT_UTF8 = "%FF%FE"
TOKEN_TAIL = "0" * 26 + "A" * 43  # a token's family id and secret, well formed
BAD_VALUES = ["%00", "a%00b", SURROGATE, "a" + SURROGATE, NOT_UTF8]
BAD_TOKENS = [
    "%00",
    "cfs_" + TOKEN_TAIL[:-1] + "%00",
    "cfs_" + TOKEN_TAIL[:-1] + SURROGATE,
    "cfs_%00" + TOKEN_TAIL[1:],
    SURROGATE,
]


@pytest.fixture(scope="module", params=BACKENDS)
def backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    with server_on(request.param, tmp_path_factory.mktemp("nulweb")) as server:
        yield server


@pytest.fixture(scope="module")
def saml(backend: Server) -> SamlWorld:
    return build_saml_world(backend, "nulweb")


def _errors(server: Server) -> list[str]:
    return logged_errors(server.output)


def _raw(server: Server, method: str, target: str, headers: dict[str, bytes], body: bytes) -> int:
    """``target`` and ``headers`` sent as they are (bytes no HTTP client writes included)."""
    head = f"{method} {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n".encode()
    for name, value in headers.items():
        head += name.encode() + b": " + value + b"\r\n"
    head += f"Content-Length: {len(body)}\r\n\r\n".encode()
    sock = raw_http.connect(server)
    try:
        sock.sendall(head + body)
        data, _ = raw_http.read_until_closed(sock)
    finally:
        sock.close()
    return raw_http.Answer(data, True, True).status


def _form(**fields: str) -> bytes:
    """A form body with each value as given (already percent-encoded where it must be)."""
    return "&".join(f"{k}={v}" for k, v in fields.items()).encode()


FORM = {"Content-Type": b"application/x-www-form-urlencoded"}


def _sign_in_url(saml: SamlWorld) -> str:
    creds = saml.assume(saml.assertion("agent1"))["Credentials"]
    connect = saml.server.client(
        "connect", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
    )
    return str(connect.get_federation_token(InstanceId=saml.world.instance_id)["SignInUrl"])


def _check(server: Server, status: int, case: Any) -> None:
    assert 400 <= status < 500, (case, status)
    assert _errors(server) == [], case


def test_sign_in_code_and_destination(saml: SamlWorld) -> None:
    server, base = saml.server, f"/connect/{saml.world.instance_id}"
    for code in BAD_TOKENS + BAD_VALUES:
        _check(server, _raw(server, "GET", f"{base}/auth/sign-in?code={code}", {}, b""), code)
    url = _sign_in_url(saml)
    code = url.split("code=", 1)[1]
    for destination in BAD_VALUES:
        target = f"{base}/auth/sign-in?code={code}&destination={destination}"
        _check(server, _raw(server, "GET", target, {}, b""), destination)
    # Nothing spent: the code still signs in.
    assert Browser(server.url).get(url).status == 303


def _credentials(saml: SamlWorld, **changed: Any) -> str:
    creds = saml.assume(saml.assertion("agent1"))["Credentials"]
    connect = saml.server.client(
        "connect", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
    )
    issued = connect.get_federation_token(InstanceId=saml.world.instance_id)["Credentials"]
    document = {
        "AccessToken": issued["AccessToken"],
        "AccessTokenExpiration": int(issued["AccessTokenExpiration"].timestamp() * 1000),
        "RefreshToken": issued["RefreshToken"],
        "RefreshTokenExpiration": int(issued["RefreshTokenExpiration"].timestamp() * 1000),
    }
    document.update(changed)
    return json.dumps(document)


def test_credentials_form(saml: SamlWorld) -> None:
    server, target = saml.server, f"/connect/{saml.world.instance_id}/auth/sign-in"
    tail = "cfa_" + TOKEN_TAIL[:-1]
    documents = [
        _credentials(saml, AccessToken="\x00"),
        _credentials(saml, AccessToken=tail + "\x00"),
        _credentials(saml, RefreshToken="cfr_" + TOKEN_TAIL[:-1] + "\x00"),
        _credentials(saml, AccessTokenExpiration="\x00"),
        _credentials(saml, RefreshTokenExpiration="1\x00"),
    ]
    for document in documents:
        for escaped in (document, document.replace("\\u0000", "\\ud800")):
            body = _form(credentials=quote(escaped, safe=""))
            _check(server, _raw(server, "POST", target, FORM, body), escaped)
    # A member the form does not know is no reason to refuse it, whatever its name.
    for escaped in ("\\u0000", "\\ud800"):
        document = _credentials(saml)[:-1] + f', "{escaped}": "{escaped}"}}'
        body = _form(credentials=quote(document, safe=""))
        status = _raw(server, "POST", target, FORM, body)
        assert status < 500 and _errors(server) == [], (document, status)
    good = quote(_credentials(saml), safe="")
    for destination in BAD_VALUES:
        body = _form(credentials=good, destination=destination)
        _check(server, _raw(server, "POST", target, FORM, body), destination)
    for value in BAD_VALUES:
        _check(server, _raw(server, "POST", target, FORM, _form(credentials=value)), value)
    # The credentials refused for their destination were not spent.
    browser = Browser(server.url)
    reply = browser.request("POST", target, form={"credentials": _credentials(saml)})
    assert reply.status == 303


def test_saml_post_relay_state_and_choose(saml: SamlWorld) -> None:
    server = saml.server
    assertion = quote(saml.assertion("agent1"), safe="")
    federate = quote(f"{server.url}/connect/federate/{saml.world.instance_id}", safe="")
    for value in BAD_VALUES:
        _check(server, _raw(server, "POST", "/saml", FORM, _form(SAMLResponse=value)), value)
        for relay in (value, federate + "%3Fdestination%3D" + value, federate + value):
            body = _form(SAMLResponse=assertion, RelayState=relay)
            status = _raw(server, "POST", "/saml", FORM, body)
            assert status < 500 and _errors(server) == [], (relay, status)
        body = _form(state=value, role=value)
        _check(server, _raw(server, "POST", "/saml/choose", FORM, body), value)


def test_federate_destination_with_a_console_session(saml: SamlWorld) -> None:
    server = saml.server
    browser = Browser(server.url)
    reply = browser.request("POST", "/saml", form={"SAMLResponse": saml.assertion("agent1")})
    assert reply.status in (200, 303), reply.body[:300]
    console = "; ".join(f"{k}={v}" for k, v in browser.cookies.items()).encode()
    target = f"/connect/federate/{saml.world.instance_id}?destination="
    for value in BAD_VALUES:
        status = _raw(server, "GET", target + value, {"Cookie": console}, b"")
        _check(server, status, value)
    # The console session still federates.
    ok = _raw(server, "GET", target + "/ccp-v2/", {"Cookie": console}, b"")
    assert ok == 303


@pytest.mark.parametrize("name", ["connectfed_session", "connectfed_console"])
def test_cookies(saml: SamlWorld, name: str) -> None:
    server, base = saml.server, f"/connect/{saml.world.instance_id}"
    values = [
        b"\x00",
        b"cfb_" + TOKEN_TAIL[:-1].encode() + b"\x00",
        b"cfb_" + TOKEN_TAIL[:-1].encode() + b"\xed",
        b"cfb_" + TOKEN_TAIL[:-1].encode() + b"\xff",
        b"cfc_" + TOKEN_TAIL[:-1].encode() + b"\x80",
        b"\xed\xa0\x80",
        b"%00",
    ]
    paths = [
        ("GET", f"{base}/auth/authorize"),
        ("GET", "/auth/authorize"),
        ("GET", f"{base}/login"),
        ("GET", f"{base}/ccp-v2/"),
        ("GET", f"{base}/logout"),
        ("POST", "/logout"),
        ("GET", f"/connect/federate/{saml.world.instance_id}"),
    ]
    for value in values:
        for method, path in paths:
            status = _raw(server, method, path, {"Cookie": name.encode() + b"=" + value}, b"")
            assert status < 500 and _errors(server) == [], (value, method, path, status)

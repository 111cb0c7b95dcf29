"""connectfed.server.logs.redact: every shape a secret takes in a log line is replaced, and the
rest of the line (what an operator needs) is kept."""

from __future__ import annotations

import base64
import logging
import secrets
import sys

import pytest

from connectfed.server.logs import RedactingFormatter, logging_config, redact

SECRET_KEY = base64.b64encode(secrets.token_bytes(30)).decode()
SESSION = "IQoJb3JpZ2luX2Vj" + base64.b64encode(secrets.token_bytes(64)).decode()


@pytest.mark.parametrize(
    "line,hidden,kept",
    [
        (
            '"GET /connect/i/auth/sign-in?code=cfs_AbC-d_ef&destination=%2Fccp-v2 HTTP/1.1" 303',
            "AbC-d_ef",
            "destination=%2Fccp-v2",
        ),
        (
            "GET /x?X-Amz-Credential=ASIAX%2F20260101&X-Amz-Security-Token=IQoJb3Jp%2Bz&"
            "X-Amz-Signature=deadbeef01&X-Amz-Expires=60",
            "deadbeef01",
            "X-Amz-Expires=60",
        ),
        ("GET /x?X-Amz-Security-Token=abc%2Bdef&a=1", "abc%2Bdef", "a=1"),
        ("Cookie: connectfed_session=cfa_s3cr3tvalue", "s3cr3tvalue", "Cookie"),
        (
            "(b'set-cookie', b'connectfed_console=cfc_abcdef; Path=/connect/')",
            "abcdef",
            "set-cookie",
        ),
        (
            "Authorization: AWS4-HMAC-SHA256 Credential=AKIA/x, Signature=0badc0de",
            "0badc0de",
            "Authorization",
        ),
        (f'{{"SecretAccessKey": "{SECRET_KEY}", "Expiration": 1}}', SECRET_KEY, "Expiration"),
        (f"<SessionToken>{SESSION}</SessionToken>", SESSION[20:], "SessionToken"),
        (f"token {SESSION} alone", SESSION[20:], "alone"),
        (f"key {SECRET_KEY} alone", SECRET_KEY, "alone"),
        ("SAMLResponse=PHNhbWxwOlJl%2Bc3&RelayState=%2Fconnect", "PHNhbWxwOlJl", "RelayState"),
        ("state=chooserState_123&role=arn:aws:iam::1:role/r", "chooserState_123", "role/r"),
        ("refresh cfr_zzzzzzzz and access cfa_yyyyyyyy", "zzzzzzzz", "refresh"),
        ("console cfc_cccccccc then", "cccccccc", "then"),
        ("browser session cfb_bbbbbbbb then", "bbbbbbbb", "then"),
        (
            "<saml2:Assertion ID='a1'><saml2:NameID>bob@example.com</saml2:NameID>"
            "</saml2:Assertion>!",
            "bob@example.com",
            "!",
        ),
        ("x " + "A" * 300 + " y", "A" * 300, " y"),
    ],
)
def test_redact_hides_the_secret_and_keeps_the_rest(line: str, hidden: str, kept: str) -> None:
    out = redact(line)
    assert hidden not in out and "<redacted>" in out
    assert kept in out


def test_ordinary_lines_are_untouched() -> None:
    for line in [
        "AssumeRoleWithSAML rejected an assertion for arn:aws:iam::123456789012:"
        "saml-provider/idp (audience): Audience https://x is not accepted",
        "sha1 " + "ab" * 20,
        "request 0f6c2b3e-1c1d-4d5e-8f9a-0123456789ab",
    ]:
        assert redact(line) == line


def test_tracebacks_are_redacted_too() -> None:
    formatter = RedactingFormatter("%(message)s")
    try:
        raise KeyError("cfa_leaked_in_an_exception")
    except KeyError:
        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "failed", None, exc_info=sys.exc_info()
        )
    assert "leaked_in_an_exception" not in formatter.format(record)


def test_third_party_loggers_stay_at_warning_unless_asked() -> None:
    config = logging_config("debug")
    assert config["root"]["level"] == logging.WARNING
    assert config["loggers"]["signxml"]["level"] == logging.WARNING
    assert config["loggers"]["connectfed"]["level"] == logging.DEBUG
    asked = logging_config("info", [("signxml", "debug")])
    assert asked["loggers"]["signxml"]["level"] == logging.DEBUG

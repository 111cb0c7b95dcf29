"""Several pinned certificates (rollover): the one the signature's KeyInfo carries is tried
first, so a good signature is checked once; KeyInfo still never makes a certificate trusted."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography import x509
from lxml import etree

from connectfed.saml import signature
from connectfed.saml.assertion import DS, AssertionRejected, verify_response
from connectfed.saml.metadata import parse_metadata
from connectfed.saml.testidp import SigningKey, TestIdp

RECIPIENT = "https://signin.aws.amazon.com/saml"
ROLES = [("arn:aws:iam::123456789012:role/R", "arn:aws:iam::123456789012:saml-provider/P")]
OLD, NEW, STRANGER = (SigningKey.generate(name) for name in ("old", "new", "stranger"))
IDP = TestIdp(entity_id="https://idp.order.test", keys=[OLD, NEW])


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The pinned certificates a signature is checked with, in order."""
    seen: list[str] = []
    check = signature.check_with

    def counting(sig: etree._Element, expected: etree._Element, pem: str, *rest: Any) -> None:
        seen.append(x509.load_pem_x509_certificate(pem.encode()).subject.rfc4514_string())
        check(sig, expected, pem, *rest)

    monkeypatch.setattr(signature, "check_with", counting)
    yield seen


def _verify(document: bytes, pinned: list[SigningKey]) -> object:
    return verify_response(
        document,
        metadata=parse_metadata(IDP.metadata(pinned)),
        recipients=[RECIPIENT],
        audiences=[RECIPIENT],
        now=datetime.now(UTC),
    )


def _response(key: SigningKey, sign: str = "assertion") -> bytes:
    return IDP.response(
        roles=ROLES,
        session_name="agent1",
        recipient=RECIPIENT,
        signing_key=key,
        sign=sign,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("sign", ["assertion", "response"])
def test_the_certificate_keyinfo_carries_is_checked_first(sign: str, checks: list[str]) -> None:
    _verify(_response(NEW, sign), [OLD, NEW])
    assert checks == ["CN=new"]


def test_a_keyinfo_naming_no_pinned_certificate_leaves_the_metadata_order(
    checks: list[str],
) -> None:
    root = etree.fromstring(_response(NEW))
    carried = root.find(f".//{{{DS}}}X509Certificate")
    assert carried is not None
    carried.text = STRANGER.cert_b64
    _verify(etree.tostring(root), [OLD, NEW])  # KeyInfo is not what is trusted
    assert checks == ["CN=old", "CN=new"]


def test_a_keyinfo_certificate_that_is_not_pinned_is_never_trusted(checks: list[str]) -> None:
    with pytest.raises(AssertionRejected, match="signature invalid"):
        _verify(_response(STRANGER), [OLD, NEW])
    assert checks == ["CN=old", "CN=new"]

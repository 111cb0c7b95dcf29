"""The signature profile libxmlsec1 is held to (connectfed.saml.signature), one rule per case.

Each document below would verify cryptographically, or be refused for another reason, without
the rule it tests: the refusal must name that rule. The verified element is the caller's own
(no copy), so the rules binding the Reference to it are what stops signature wrapping.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from lxml import etree

from connectfed.saml.assertion import DS, SAML, SAMLP, AssertionRejected, verify_response
from connectfed.saml.metadata import parse_metadata
from connectfed.saml.testidp import SigningKey, TestIdp

KEY = SigningKey.generate("profile")
IDP = TestIdp(entity_id="https://idp.profile.test", keys=[KEY])
RECIPIENT = "https://signin.aws.amazon.com/saml"
ROLES = [("arn:aws:iam::123456789012:role/R", "arn:aws:iam::123456789012:saml-provider/P")]
XML_NS = "http://www.w3.org/XML/1998/namespace"


def _signed(sign: str = "assertion", now: datetime | None = None) -> etree._Element:
    document = IDP.response(
        roles=ROLES,
        session_name="agent1",
        recipient=RECIPIENT,
        sign=sign,  # type: ignore[arg-type]
        now=now,
    )
    return etree.fromstring(document)


def _verify(root: etree._Element, now: datetime | None = None) -> object:
    return verify_response(
        etree.tostring(root),
        metadata=parse_metadata(IDP.metadata()),
        recipients=[RECIPIENT],
        audiences=[RECIPIENT],
        now=now or datetime.now(UTC),
    )


def _assertion(root: etree._Element) -> etree._Element:
    found = root.find(f"{{{SAML}}}Assertion")
    assert found is not None
    return found


def _signed_info(root: etree._Element) -> etree._Element:
    found = root.find(f".//{{{DS}}}SignedInfo")
    assert found is not None
    return found


def response_signature_moved_into_the_assertion(root: etree._Element) -> etree._Element:
    """A genuine signature over the Response, presented as the Assertion's own."""
    signature = root.find(f"{{{DS}}}Signature")
    assert signature is not None
    _assertion(root).insert(1, signature)
    return root


def xml_id_anywhere(root: etree._Element) -> etree._Element:
    """libxml2 makes an ID of every xml:id by itself: a Reference could resolve to it."""
    status = root.find(f"{{{SAMLP}}}Status")
    assert status is not None
    status.set(f"{{{XML_NS}}}id", "_elsewhere")
    return root


def second_reference(root: etree._Element) -> etree._Element:
    signed_info = _signed_info(root)
    reference = signed_info.find(f"{{{DS}}}Reference")
    assert reference is not None
    signed_info.append(etree.fromstring(etree.tostring(reference)))
    return root


def xpath_transform(root: etree._Element) -> etree._Element:
    transform = _signed_info(root).find(f".//{{{DS}}}Transform")
    assert transform is not None
    transform.set("Algorithm", "http://www.w3.org/TR/1999/REC-xpath-19991116")
    return root


def hmac_signature_method(root: etree._Element) -> etree._Element:
    method = _signed_info(root).find(f"{{{DS}}}SignatureMethod")
    assert method is not None
    method.set("Algorithm", "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256")
    return root


@pytest.mark.parametrize(
    ("sign", "attack", "fragment"),
    [
        (
            "response",
            response_signature_moved_into_the_assertion,
            "does not reference the signed element",
        ),
        ("assertion", xml_id_anywhere, "xml:id"),
        ("response", xml_id_anywhere, "xml:id"),
        ("assertion", second_reference, "expected one ds:Reference"),
        ("assertion", xpath_transform, "REC-xpath-19991116 is not allowed"),
        ("assertion", hmac_signature_method, "hmac-sha256"),
    ],
    ids=lambda value: getattr(value, "__name__", value) if callable(value) else None,
)
def test_each_rule_of_the_profile_refuses_by_name(
    sign: str, attack: Callable[[etree._Element], etree._Element], fragment: str
) -> None:
    _verify(_signed(sign))  # the unmodified document verifies
    with pytest.raises(AssertionRejected) as caught:
        _verify(attack(_signed(sign)))
    assert caught.value.reason == "signature"
    assert fragment in str(caught.value)


@pytest.mark.parametrize(
    ("moment", "fragment"),
    [
        (KEY.cert.not_valid_before_utc - timedelta(hours=1), "is not yet valid"),
        (KEY.cert.not_valid_after_utc + timedelta(days=1), "has expired"),
    ],
    ids=["before", "after"],
)
def test_a_pinned_certificate_verifies_only_within_its_validity(
    moment: datetime, fragment: str
) -> None:
    """As signxml checked it: the assertion itself is fresh at that moment, only the
    certificate is not valid then."""
    with pytest.raises(AssertionRejected) as caught:
        _verify(_signed(now=moment), now=moment)
    assert caught.value.reason == "signature"
    assert fragment in str(caught.value)


def test_the_element_read_is_the_one_whose_digest_was_checked() -> None:
    """The Reference resolves to the caller's own element: changing any signed text of it
    after signing breaks the digest (no copy is verified in its place)."""
    root = _signed()
    name_id = _assertion(root).find(f".//{{{SAML}}}NameID")
    assert name_id is not None
    name_id.text = "admin@example.com"
    with pytest.raises(AssertionRejected, match="signature does not verify"):
        _verify(root)

"""Service-provider rules (shared/SECURITY.md, SAML) on SHA-256 documents from the test IdP,
including signature-wrapping variants built from a validly signed response."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from lxml import etree

from connectfed.saml.assertion import DS, SAML, SAMLP, AssertionRejected, verify_response
from connectfed.saml.metadata import parse_metadata
from connectfed.saml.testidp import TestIdp

IDP = TestIdp(entity_id="https://idp.rules.test")
METADATA = parse_metadata(IDP.metadata())
RECIPIENT = "https://signin.aws.amazon.com/saml"
ROLES = [("arn:aws:iam::123456789012:role/R", "arn:aws:iam::123456789012:saml-provider/P")]


def signed(sign: str = "assertion", **knobs: object) -> etree._Element:
    document = IDP.response(
        roles=ROLES, session_name="agent1", recipient=RECIPIENT, sign=sign, **knobs
    )  # type: ignore[arg-type]
    return etree.fromstring(document)


def verify(root: etree._Element | bytes) -> object:
    data = root if isinstance(root, bytes) else etree.tostring(root)
    return verify_response(
        data,
        metadata=METADATA,
        recipients=[RECIPIENT],
        audiences=["https://signin.aws.amazon.com/saml"],
        now=datetime.now(UTC),
    )


def _assertion(root: etree._Element) -> etree._Element:
    return root.find(f"{{{SAML}}}Assertion")


def _evil_copy(root: etree._Element) -> etree._Element:
    evil = copy.deepcopy(_assertion(root))
    signature = evil.find(f"{{{DS}}}Signature")
    if signature is not None:
        evil.remove(signature)
    evil.set("ID", "_evil")
    evil.find(f".//{{{SAML}}}NameID").text = "admin@evil.test"
    return evil


def xsw_sibling(root: etree._Element) -> etree._Element:
    root.insert(0, _evil_copy(root))
    return root


def xsw_swap_into_extensions(root: etree._Element) -> etree._Element:
    original = _assertion(root)
    extensions = etree.SubElement(root, f"{{{SAMLP}}}Extensions")
    root.remove(original)
    extensions.append(original)
    root.append(_strip(copy.deepcopy(original)))
    return root


def _strip(assertion: etree._Element) -> etree._Element:
    signature = assertion.find(f"{{{DS}}}Signature")
    if signature is not None:
        assertion.remove(signature)
    assertion.set("ID", "_evil")
    return assertion


def xsw_evil_wraps_signed(root: etree._Element) -> etree._Element:
    original = _assertion(root)
    evil = _strip(copy.deepcopy(original))
    root.remove(original)
    evil.append(original)  # the signed assertion hidden inside the evil one
    root.append(evil)
    return root


def tamper_name_id(root: etree._Element) -> etree._Element:
    _assertion(root).find(f".//{{{SAML}}}NameID").text = "admin@evil.test"
    return root


def tamper_role(root: etree._Element) -> etree._Element:
    value = _assertion(root).find(f".//{{{SAML}}}AttributeValue")
    value.text = "arn:aws:iam::123456789012:role/Admin," + ROLES[0][1]
    return root


def encrypted_assertion(root: etree._Element) -> etree._Element:
    etree.SubElement(root, f"{{{SAML}}}EncryptedAssertion")
    return root


def duplicate_ids(root: etree._Element) -> etree._Element:
    root.find(f"{{{SAML}}}Issuer").set("ID", _assertion(root).get("ID"))
    return root


def wrong_version(root: etree._Element) -> etree._Element:
    root.set("Version", "1.1")
    return root


def failed_status(root: etree._Element) -> etree._Element:
    root.find(f".//{{{SAMLP}}}StatusCode").set(
        "Value", "urn:oasis:names:tc:SAML:2.0:status:Requester"
    )
    return root


def not_a_response(root: etree._Element) -> etree._Element:
    return _assertion(root)


def signature_object(root: etree._Element) -> etree._Element:
    etree.SubElement(_assertion(root).find(f"{{{DS}}}Signature"), f"{{{DS}}}Object")
    return root


def second_issuer(root: etree._Element) -> etree._Element:
    issuer = etree.Element(f"{{{SAML}}}Issuer")
    issuer.text = "https://evil.test"
    root.insert(1, issuer)
    return root


@pytest.mark.parametrize(
    "attack",
    [
        xsw_sibling,
        xsw_swap_into_extensions,
        xsw_evil_wraps_signed,
        tamper_name_id,
        tamper_role,
        encrypted_assertion,
        duplicate_ids,
        wrong_version,
        failed_status,
        not_a_response,
        signature_object,
        second_issuer,
    ],
    ids=lambda f: f.__name__,
)
def test_attacks_on_a_signed_assertion_are_rejected(
    attack: Callable[[etree._Element], etree._Element],
) -> None:
    verify(signed())  # the unmodified document verifies
    with pytest.raises(AssertionRejected):
        verify(attack(signed()))


@pytest.mark.parametrize(
    "attack", [tamper_name_id, xsw_sibling, tamper_role], ids=lambda f: f.__name__
)
def test_attacks_on_a_signed_response_are_rejected(
    attack: Callable[[etree._Element], etree._Element],
) -> None:
    verify(signed("response"))
    with pytest.raises(AssertionRejected):
        verify(attack(signed("response")))


def test_doctype_and_entities_are_refused_before_parsing() -> None:
    document = etree.tostring(signed())
    with pytest.raises(AssertionRejected, match="DTD"):
        verify(b'<!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + document)


def test_only_the_verified_subtree_is_read() -> None:
    verified = verify(signed())
    assert verified.name_id == "agent@example.com"  # type: ignore[attr-defined]
    assert verified.attributes[  # type: ignore[attr-defined]
        "https://aws.amazon.com/SAML/Attributes/RoleSessionName"
    ] == ("agent1",)

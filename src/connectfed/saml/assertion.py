"""Verify a SAML 2.0 Response as a service provider and return only what was signed.

Rules (shared/SECURITY.md, SAML part; SAML 2.0 core §2-3, profiles §4.1.4): samlp:Response
root, Version 2.0, an ID, Success status; no duplicate IDs; exactly one Assertion, a direct
child of the Response, or one EncryptedAssertion decrypted with the provider's private keys
(``saml.envelope``, ``saml.encryption``); the Response and/or the Assertion signed, with
the signature at an explicit location, exactly one Reference to the signed element's ID, only
enveloped-signature and exclusive c14n transforms, no ds:Object, RSA/ECDSA with SHA-256 or
stronger (SHA-1 only when explicitly allowed); trust only the pinned certificates; after
verification read only the verified subtree; Issuer, Audience, Recipient and Destination exact
matches; time conditions with bounded skew; exactly one bearer SubjectConfirmation with
NotOnOrAfter and Recipient and no NotBefore; NameID and attribute values as their full text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree

from connectfed.saml.envelope import ParsedResponse, Trust, open_response, parse_response
from connectfed.saml.metadata import IdpMetadata
from connectfed.saml.namespaces import BEARER, DS, SAML, SAMLP, SUCCESS, q
from connectfed.saml.rejection import AssertionRejected
from connectfed.saml.xstypes import InvalidValue, parse_datetime

__all__ = [
    "BEARER",
    "DS",
    "SAML",
    "SAMLP",
    "SUCCESS",
    "AssertionRejected",
    "VerifiedAssertion",
    "full_text",
    "verify_response",
]


@dataclass(frozen=True, slots=True)
class VerifiedAssertion:
    assertion_id: str
    issuer: str
    name_id: str
    name_id_format: str | None
    recipient: str
    audiences: tuple[str, ...]
    not_on_or_after: datetime
    session_not_on_or_after: datetime | None
    attributes: dict[str, tuple[str, ...]] = field(default_factory=dict)


_q = q


def _time(value: str | None, what: str) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_datetime(value, what, require_zone=True)
    except InvalidValue as exc:
        raise AssertionRejected(str(exc)) from None


# Compiled once (``element.xpath(...)`` compiles its expression on every call); lxml's XPath
# objects serialise their own evaluations, so threads may share this one.
_TEXT_NODES = etree.XPath(".//text()")


def full_text(element: etree._Element) -> str:
    """The whole text of an element: comments inside it neither truncate nor change it."""
    return "".join(_TEXT_NODES(element))


def _one(parent: etree._Element, path: str, what: str) -> etree._Element:
    found = parent.findall(path)
    if len(found) != 1:
        raise AssertionRejected(f"Expected exactly one {what}, found {len(found)}")
    return found[0]


def verify_response(
    response: bytes | ParsedResponse,
    *,
    metadata: IdpMetadata,
    recipients: Sequence[str],
    audiences: Sequence[str],
    now: datetime,
    skew: timedelta = timedelta(seconds=300),
    allow_sha1: bool = False,
    decryption_keys: Sequence[rsa.RSAPrivateKey] = (),
    require_encryption: bool = False,
) -> VerifiedAssertion:
    """The verified assertion of ``response`` (its octets, or the response already parsed by
    :func:`~connectfed.saml.envelope.parse_response`), else :class:`AssertionRejected`."""
    if isinstance(response, bytes):
        response = parse_response(response)
    trust = Trust(metadata.certificates, tuple(decryption_keys), require_encryption, allow_sha1)
    opened = open_response(response, trust, now)
    verified_response, verified_assertion = opened.verified_response, opened.assertion
    root = opened.root

    # From here on, only verified elements are read (the unsigned envelope's Destination and
    # Issuer are checked too when present, but never trusted for anything else).
    envelope = verified_response if verified_response is not None else root
    destination = envelope.get("Destination")
    if verified_response is not None and destination is None:
        raise AssertionRejected("A signed Response must carry a Destination", "destination")
    if destination is not None and destination not in recipients:
        raise AssertionRejected(f"Destination {destination!r} is not this endpoint", "destination")
    response_issuers = envelope.findall(f"./{_q(SAML, 'Issuer')}")
    if len(response_issuers) > 1 or any(
        full_text(i).strip() != metadata.entity_id for i in response_issuers
    ):
        raise AssertionRejected("The Response Issuer does not match the provider", "issuer")
    issuer = full_text(_one(verified_assertion, f"./{_q(SAML, 'Issuer')}", "Issuer")).strip()
    if issuer != metadata.entity_id:
        raise AssertionRejected(
            f"Issuer {issuer!r} does not match the provider's entityID", "issuer"
        )

    conditions = _one(verified_assertion, f"./{_q(SAML, 'Conditions')}", "Conditions")
    not_before = _time(conditions.get("NotBefore"), "NotBefore")
    not_on_or_after = _time(conditions.get("NotOnOrAfter"), "NotOnOrAfter")
    if not_before is not None and now + skew < not_before:
        raise AssertionRejected("The assertion is not yet valid (NotBefore)", "time")
    if not_on_or_after is not None and now - skew >= not_on_or_after:
        raise AssertionRejected("The assertion has expired (NotOnOrAfter)", "expired")
    audience_values = tuple(
        full_text(a).strip()
        for a in conditions.findall(f"./{_q(SAML, 'AudienceRestriction')}/{_q(SAML, 'Audience')}")
    )
    if not any(a in audiences for a in audience_values):
        raise AssertionRejected(
            "The assertion's Audience does not include this service", "audience"
        )

    subject = _one(verified_assertion, f"./{_q(SAML, 'Subject')}", "Subject")
    name_id_element = subject.find(f"./{_q(SAML, 'NameID')}")
    confirmations = subject.findall(f"./{_q(SAML, 'SubjectConfirmation')}")
    if len(confirmations) != 1 or confirmations[0].get("Method") != BEARER:
        raise AssertionRejected(
            "Exactly one bearer SubjectConfirmation is required", "confirmation"
        )
    confirmation = _one(
        confirmations[0], f"./{_q(SAML, 'SubjectConfirmationData')}", "SubjectConfirmationData"
    )
    if confirmation.get("NotBefore") is not None:
        raise AssertionRejected("SubjectConfirmationData must not have NotBefore", "confirmation")
    recipient = confirmation.get("Recipient")
    confirmation_expiry = _time(confirmation.get("NotOnOrAfter"), "NotOnOrAfter")
    if recipient is None or confirmation_expiry is None:
        raise AssertionRejected(
            "SubjectConfirmationData needs NotOnOrAfter and Recipient", "confirmation"
        )
    if recipient not in recipients:
        raise AssertionRejected(f"Recipient {recipient!r} is not this endpoint", "recipient")
    if now - skew >= confirmation_expiry:
        raise AssertionRejected("The assertion has expired (SubjectConfirmationData)", "expired")
    authn = verified_assertion.find(f"./{_q(SAML, 'AuthnStatement')}")
    session_end = (
        _time(authn.get("SessionNotOnOrAfter"), "SessionNotOnOrAfter")
        if authn is not None
        else None
    )
    attributes: dict[str, tuple[str, ...]] = {}
    for attribute in verified_assertion.iterfind(
        f"./{_q(SAML, 'AttributeStatement')}/{_q(SAML, 'Attribute')}"
    ):
        name = attribute.get("Name", "")
        values = tuple(
            full_text(v).strip() for v in attribute.findall(f"./{_q(SAML, 'AttributeValue')}")
        )
        attributes[name] = attributes.get(name, ()) + values
    expiry = min(t for t in (not_on_or_after, confirmation_expiry) if t is not None)
    return VerifiedAssertion(
        assertion_id=verified_assertion.get("ID", ""),
        issuer=issuer,
        name_id=full_text(name_id_element).strip() if name_id_element is not None else "",
        name_id_format=name_id_element.get("Format") if name_id_element is not None else None,
        recipient=recipient,
        audiences=audience_values,
        not_on_or_after=expiry,
        session_not_on_or_after=session_end,
        attributes=attributes,
    )

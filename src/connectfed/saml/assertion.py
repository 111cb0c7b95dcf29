"""Verify a SAML 2.0 Response as a service provider and return only what was signed.

Rules (shared/SECURITY.md, SAML part; SAML 2.0 core §2-3, profiles §4.1.4): samlp:Response
root, Version 2.0, an ID, Success status; no duplicate IDs; exactly one Assertion, a direct
child of the Response, and no EncryptedAssertion; the Response and/or the Assertion signed, with
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

from lxml import etree
from signxml.algorithms import DigestAlgorithm, SignatureMethod
from signxml.exceptions import InvalidCertificate, InvalidDigest, InvalidInput, InvalidSignature
from signxml.verifier import SignatureConfiguration, XMLVerifier

from connectfed.saml import xml
from connectfed.saml.metadata import IdpMetadata

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"
SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
ALLOWED_TRANSFORMS = frozenset({
    "http://www.w3.org/2000/09/xmldsig#enveloped-signature",
    "http://www.w3.org/2001/10/xml-exc-c14n#",
    "http://www.w3.org/2001/10/xml-exc-c14n#WithComments",
})


class AssertionRejected(ValueError):
    """The response is not acceptable; ``reason`` is a short machine-readable kind."""

    def __init__(self, message: str, reason: str = "invalid") -> None:
        super().__init__(message)
        self.reason = reason


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


def _q(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


def _time(value: str | None, what: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise AssertionRejected(f"{what} is not a valid xs:dateTime: {value!r}") from None
    if moment.tzinfo is None:
        raise AssertionRejected(f"{what} must be in UTC")
    return moment


def full_text(element: etree._Element) -> str:
    """The whole text of an element: comments inside it neither truncate nor change it."""
    return "".join(str(t) for t in element.xpath(".//text()"))


def _one(parent: etree._Element, path: str, what: str) -> etree._Element:
    found = parent.findall(path)
    if len(found) != 1:
        raise AssertionRejected(f"Expected exactly one {what}, found {len(found)}")
    return found[0]


def _config(location: str, allow_sha1: bool, now: datetime) -> SignatureConfiguration:
    methods = frozenset(m for m in SignatureMethod
                        if ("SHA1" not in m.name or allow_sha1) and "HMAC" not in m.name
                        and "DSA_" not in m.name.replace("ECDSA", ""))
    digests = frozenset(d for d in DigestAlgorithm if "SHA1" not in d.name or allow_sha1)
    return SignatureConfiguration(location=location, expect_references=1,
                                  signature_methods=methods, digest_algorithms=digests,
                                  verification_time=now, ignore_ambiguous_key_info=True)


def _verify_signature(data: bytes, location: str, expected: etree._Element,
                      certificates: Sequence[str], allow_sha1: bool,
                      now: datetime) -> etree._Element:
    config = _config(location, allow_sha1, now)
    last_error: Exception | None = None
    for certificate in certificates:
        try:
            result = XMLVerifier().verify(data, x509_cert=certificate, expect_config=config,
                                          parser=xml.parser())
        except (InvalidSignature, InvalidDigest, InvalidCertificate, InvalidInput,
                etree.LxmlError, ValueError) as exc:
            last_error = exc
            continue
        assert not isinstance(result, list)
        signed = result.signed_xml
        if signed is None or signed.tag != expected.tag or \
                signed.get("ID") != expected.get("ID"):
            raise AssertionRejected("The signature does not reference the signed element",
                                    "signature")
        signature = result.signature_xml
        if signature.find(_q(DS, "Object")) is not None:
            raise AssertionRejected("ds:Object is not allowed in the signature", "signature")
        for transform in signature.iter(_q(DS, "Transform")):
            if transform.get("Algorithm") not in ALLOWED_TRANSFORMS:
                raise AssertionRejected(
                    f"Transform {transform.get('Algorithm')} is not allowed", "signature")
        return signed
    detail = f": {last_error}" if last_error else ""
    raise AssertionRejected(f"Response signature invalid{detail}", "signature")


def verify_response(
    data: bytes,
    *,
    metadata: IdpMetadata,
    recipients: Sequence[str],
    audiences: Sequence[str],
    now: datetime,
    skew: timedelta = timedelta(seconds=300),
    allow_sha1: bool = False,
) -> VerifiedAssertion:
    try:
        root = xml.parse(data)
    except xml.UnsafeXml as exc:
        raise AssertionRejected(f"The SAML response is not acceptable XML: {exc}") from None
    if root.tag != _q(SAMLP, "Response"):
        raise AssertionRejected("The SAML document must be a samlp:Response")
    if root.get("Version") != "2.0" or not root.get("ID"):
        raise AssertionRejected("The samlp:Response must have Version 2.0 and an ID")
    ids = [el.get("ID") for el in root.iter() if isinstance(el.tag, str) and el.get("ID")]
    if len(ids) != len(set(ids)):
        raise AssertionRejected("Duplicate ID attributes in the SAML response")
    if root.findall(f".//{_q(SAML, 'EncryptedAssertion')}"):
        raise AssertionRejected("Encrypted assertions are not supported")
    assertions = root.findall(f".//{_q(SAML, 'Assertion')}")
    if len(assertions) != 1 or assertions[0].getparent() is not root:
        raise AssertionRejected("The SAML response must contain exactly one Assertion")
    status = root.find(f"./{_q(SAMLP, 'Status')}/{_q(SAMLP, 'StatusCode')}")
    if status is None or status.get("Value") != SUCCESS:
        raise AssertionRejected("The SAML response status is not Success")

    assertion = assertions[0]
    response_signature = root.find(f"./{_q(DS, 'Signature')}")
    assertion_signature = assertion.find(f"./{_q(DS, 'Signature')}")
    present = [s for s in (response_signature, assertion_signature) if s is not None]
    if len(root.findall(f".//{_q(DS, 'Signature')}")) != len(present):
        raise AssertionRejected("Signatures are only accepted on the Response or the Assertion",
                                "signature")
    if not present:
        raise AssertionRejected("Response signature invalid: neither the Response nor the "
                                "Assertion is signed", "signature")
    certificates = metadata.certificates
    verified_response: etree._Element | None = None
    if response_signature is not None:
        verified_response = _verify_signature(data, "./", root, certificates, allow_sha1, now)
        verified_assertion = _one(verified_response, f"./{_q(SAML, 'Assertion')}", "Assertion")
        if assertion_signature is not None:
            _verify_signature(data, f"./{_q(SAML, 'Assertion')}/", assertion, certificates,
                              allow_sha1, now)
    else:
        verified_assertion = _verify_signature(data, f"./{_q(SAML, 'Assertion')}/", assertion,
                                               certificates, allow_sha1, now)

    # From here on, only verified elements are read (the unsigned envelope's Destination and
    # Issuer are checked too when present, but never trusted for anything else).
    envelope = verified_response if verified_response is not None else root
    destination = envelope.get("Destination")
    if verified_response is not None and destination is None:
        raise AssertionRejected("A signed Response must carry a Destination", "destination")
    if destination is not None and destination not in recipients:
        raise AssertionRejected(f"Destination {destination!r} is not this endpoint",
                                "destination")
    response_issuers = envelope.findall(f"./{_q(SAML, 'Issuer')}")
    if len(response_issuers) > 1 or any(
        full_text(i).strip() != metadata.entity_id for i in response_issuers
    ):
        raise AssertionRejected("The Response Issuer does not match the provider", "issuer")
    issuer = full_text(_one(verified_assertion, f"./{_q(SAML, 'Issuer')}", "Issuer")).strip()
    if issuer != metadata.entity_id:
        raise AssertionRejected(f"Issuer {issuer!r} does not match the provider's entityID",
                                "issuer")

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
        raise AssertionRejected("The assertion's Audience does not include this service",
                                "audience")

    subject = _one(verified_assertion, f"./{_q(SAML, 'Subject')}", "Subject")
    name_id_element = subject.find(f"./{_q(SAML, 'NameID')}")
    confirmations = subject.findall(f"./{_q(SAML, 'SubjectConfirmation')}")
    if len(confirmations) != 1 or confirmations[0].get("Method") != BEARER:
        raise AssertionRejected("Exactly one bearer SubjectConfirmation is required",
                                "confirmation")
    confirmation = _one(confirmations[0], f"./{_q(SAML, 'SubjectConfirmationData')}",
                        "SubjectConfirmationData")
    if confirmation.get("NotBefore") is not None:
        raise AssertionRejected("SubjectConfirmationData must not have NotBefore",
                                "confirmation")
    recipient = confirmation.get("Recipient")
    confirmation_expiry = _time(confirmation.get("NotOnOrAfter"), "NotOnOrAfter")
    if recipient is None or confirmation_expiry is None:
        raise AssertionRejected("SubjectConfirmationData needs NotOnOrAfter and Recipient",
                                "confirmation")
    if recipient not in recipients:
        raise AssertionRejected(f"Recipient {recipient!r} is not this endpoint", "recipient")
    if now - skew >= confirmation_expiry:
        raise AssertionRejected("The assertion has expired (SubjectConfirmationData)",
                                "expired")
    authn = verified_assertion.find(f"./{_q(SAML, 'AuthnStatement')}")
    session_end = _time(authn.get("SessionNotOnOrAfter"), "SessionNotOnOrAfter") \
        if authn is not None else None
    attributes: dict[str, tuple[str, ...]] = {}
    for attribute in verified_assertion.iterfind(
        f"./{_q(SAML, 'AttributeStatement')}/{_q(SAML, 'Attribute')}"
    ):
        name = attribute.get("Name", "")
        values = tuple(full_text(v).strip()
                       for v in attribute.findall(f"./{_q(SAML, 'AttributeValue')}"))
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

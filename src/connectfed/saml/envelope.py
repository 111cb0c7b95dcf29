"""The samlp:Response envelope: shape, signatures and (when encrypted) decryption, ending with
the verified Assertion element (shared/SECURITY.md; SAML core §3.2.2, §2.3.4, §6.2).

Plain: exactly one Assertion, a direct child of the Response; the Response and/or the Assertion
signed. Encrypted: exactly one EncryptedAssertion instead. If the Response is signed, its
signature is verified *before* decrypting (so a tampered ciphertext never reaches the
decryptor) and the decrypted assertion is trusted as part of the signed envelope; otherwise the
decrypted Assertion must carry its own signature. Decrypted octets are parsed by the same
hardened parser, inside a wrapper that redeclares the namespaces in scope at the
EncryptedAssertion, and go through the same signature checks. Without a signed Response, every
failure after key unwrapping (content decryption, parsing, the assertion's signature) gets one
message, so the endpoint is no padding or parsing oracle (Jager and Somorovsky, "How to Break
XML Encryption", CCS 2011).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree

from connectfed.saml import xml
from connectfed.saml.encryption import (
    NO_KEY,
    UNDECRYPTABLE,
    DecryptionFailed,
    decrypt_assertion,
)
from connectfed.saml.namespaces import DS, ROLE_ATTRIBUTE, SAML, SAMLP, SUCCESS, q
from connectfed.saml.rejection import AssertionRejected
from connectfed.saml.signature import verify_signature

ASSERTION = q(SAML, "Assertion")
ENCRYPTED = q(SAML, "EncryptedAssertion")
SIGNATURE = q(DS, "Signature")
UNVERIFIABLE = (
    UNDECRYPTABLE + " and verified (wrong private key, a tampered ciphertext, or an "
    "assertion signature that does not verify against the provider's certificates)"
)


@dataclass(frozen=True, slots=True)
class Trust:
    """What a provider trusts: pinned certificates, decryption keys, the encryption rule."""

    certificates: Sequence[str]
    decryption_keys: Sequence[rsa.RSAPrivateKey] = ()
    require_encryption: bool = False
    allow_sha1: bool = False


@dataclass(frozen=True, slots=True)
class ParsedResponse:
    """A SAMLResponse parsed once, by the one hardened parser (:func:`parse_response`).

    ``root`` is what the unverified hints (:func:`peek`), the envelope checks and the signature
    verification (:mod:`connectfed.saml.signature`, on this very tree) read, for every provider
    tried: the browser sign-in parses a response once, not once for the hints and once per
    provider (issue 9). Nothing here is verified, and nothing may change ``root`` (registering
    an element's ID with libxml2 for a Reference changes no node).
    """

    root: etree._Element


@dataclass(frozen=True, slots=True)
class Opened:
    root: etree._Element  # the parsed Response (read only for unsigned-envelope checks)
    verified_response: etree._Element | None  # the signed Response, when it is signed
    assertion: etree._Element  # the verified Assertion
    encrypted: bool


def parse_response(data: bytes) -> ParsedResponse:
    """Parse and check that this is a SAML 2.0 Response at all (``not_saml`` otherwise)."""
    try:
        root = xml.parse(data)
    except xml.UnsafeXml as exc:
        raise AssertionRejected(
            f"The SAMLResponse is not a SAML response: {exc}", "not_saml"
        ) from None
    if root.tag != q(SAMLP, "Response"):
        name = etree.QName(root).localname if isinstance(root.tag, str) else "?"
        raise AssertionRejected(
            f"The SAMLResponse is not a SAML 2.0 Response (its root element "
            f"is {name[:60]!r}, not samlp:Response)",
            "not_saml",
        )
    return ParsedResponse(root)


# Every ``ID`` attribute (no namespace) of an element in the subtree, found in C.
_ID_VALUES = etree.XPath("descendant-or-self::*/@ID")


def _ids(element: etree._Element) -> list[str]:
    return [str(value) for value in _ID_VALUES(element) if value]


def _single_signature(owner: etree._Element) -> etree._Element | None:
    """The signature directly under ``owner``; a signature anywhere else inside it is refused."""
    direct = owner.find(f"./{SIGNATURE}")
    if len(owner.findall(f".//{SIGNATURE}")) != (0 if direct is None else 1):
        raise AssertionRejected(
            "Signatures are only accepted on the Response or the Assertion", "signature"
        )
    return direct


def open_response(response: ParsedResponse, trust: Trust, now: datetime) -> Opened:
    root = response.root
    if root.get("Version") != "2.0" or not root.get("ID"):
        raise AssertionRejected("The samlp:Response must have Version 2.0 and an ID")
    ids = _ids(root)
    if len(ids) != len(set(ids)):
        raise AssertionRejected("Duplicate ID attributes in the SAML response")
    found = root.findall(f".//{ASSERTION}") + root.findall(f".//{ENCRYPTED}")
    if len(found) != 1 or found[0].getparent() is not root:
        raise AssertionRejected("The SAML response must contain exactly one Assertion")
    status = root.find(f"./{q(SAMLP, 'Status')}/{q(SAMLP, 'StatusCode')}")
    if status is None or status.get("Value") != SUCCESS:
        raise AssertionRejected("The SAML response status is not Success")
    if found[0].tag == ENCRYPTED:
        return _open_encrypted(root, trust, now)
    if trust.require_encryption:
        raise AssertionRejected(
            "The identity provider requires encrypted assertions "
            "(AssertionEncryptionMode Required), but the SAML response "
            "carries a plain Assertion",
            "encryption",
        )
    assertion = found[0]
    response_signature = root.find(f"./{SIGNATURE}")
    assertion_signature = assertion.find(f"./{SIGNATURE}")
    present = [s for s in (response_signature, assertion_signature) if s is not None]
    if len(root.findall(f".//{SIGNATURE}")) != len(present):
        raise AssertionRejected(
            "Signatures are only accepted on the Response or the Assertion", "signature"
        )
    if not present:
        raise AssertionRejected(
            "Response signature invalid: neither the Response nor the Assertion is signed",
            "signature",
        )
    if response_signature is None:
        verified = verify_signature(assertion, trust.certificates, trust.allow_sha1, now)
        return Opened(root, None, verified, encrypted=False)
    verified_response = verify_signature(root, trust.certificates, trust.allow_sha1, now)
    inner = verified_response.findall(f"./{ASSERTION}")
    if len(inner) != 1:
        raise AssertionRejected(f"Expected exactly one Assertion, found {len(inner)}")
    if assertion_signature is not None:
        verify_signature(assertion, trust.certificates, trust.allow_sha1, now)
    return Opened(root, verified_response, inner[0], encrypted=False)


def _decrypted_document(encrypted: etree._Element, plaintext: bytes) -> bytes:
    """The plaintext inside a wrapper redeclaring the namespaces in scope at the
    EncryptedAssertion (an encrypted element may use prefixes declared by its ancestors)."""
    xml.check_encoding(plaintext)
    body = plaintext.removeprefix(b"\xef\xbb\xbf").lstrip()
    if body.startswith(b"<?xml"):
        end = body.find(b"?>")
        body = body[end + 2 :] if end >= 0 else body
    head = bytes(etree.tostring(etree.Element("Decrypted", nsmap=encrypted.nsmap)))
    return head[:-2] + b">" + body + b"</Decrypted>"


def _parse_decrypted(document: bytes) -> etree._Element:
    wrapper = xml.parse(document)
    if (
        len(wrapper) != 1
        or wrapper[0].tag != ASSERTION
        or (wrapper.text or "").strip()
        or (wrapper[0].tail or "").strip()
    ):
        raise AssertionRejected(
            f"{UNDECRYPTABLE}: the plaintext is not one saml:Assertion", "decrypt"
        )
    assertion = wrapper[0]
    if assertion.findall(f".//{ASSERTION}") or assertion.findall(f".//{ENCRYPTED}"):
        raise AssertionRejected("The SAML response must contain exactly one Assertion")
    return assertion


def _open_encrypted(root: etree._Element, trust: Trust, now: datetime) -> Opened:
    if not trust.decryption_keys:
        raise AssertionRejected(NO_KEY, "no_key")
    verified_response = None
    if _single_signature(root) is not None:
        verified_response = verify_signature(root, trust.certificates, trust.allow_sha1, now)
    envelope = root if verified_response is None else verified_response
    encrypted = envelope.findall(f"./{ENCRYPTED}")
    if len(encrypted) != 1:
        raise AssertionRejected("The SAML response must contain exactly one Assertion")
    plaintext: bytes | None = None
    try:
        plaintext = decrypt_assertion(encrypted[0], trust.decryption_keys)
    except DecryptionFailed as exc:
        if str(exc) != UNDECRYPTABLE:  # the structure or the key, before any content
            raise AssertionRejected(str(exc), "decrypt") from None
    try:
        return _verify_decrypted(root, verified_response, encrypted[0], plaintext, trust, now)
    except (AssertionRejected, xml.UnsafeXml) as exc:
        if verified_response is None:
            # Unauthenticated ciphertext: one message for every failure from here on.
            raise AssertionRejected(UNVERIFIABLE, "decrypt", str(exc)) from None
        if isinstance(exc, xml.UnsafeXml):
            raise AssertionRejected(f"{UNDECRYPTABLE}: {exc}", "decrypt") from None
        raise


def _verify_decrypted(
    root: etree._Element,
    verified_response: etree._Element | None,
    encrypted: etree._Element,
    plaintext: bytes | None,
    trust: Trust,
    now: datetime,
) -> Opened:
    if plaintext is None:
        raise AssertionRejected(UNDECRYPTABLE, "decrypt")
    document = _decrypted_document(encrypted, plaintext)
    assertion = _parse_decrypted(document)
    ids = _ids(root) + _ids(assertion)
    if len(ids) != len(set(ids)):
        raise AssertionRejected("Duplicate ID attributes in the SAML response")
    if _single_signature(assertion) is None:
        if verified_response is None:
            raise AssertionRejected(
                "Response signature invalid: neither the Response nor the "
                "decrypted Assertion is signed",
                "signature",
            )
        return Opened(root, verified_response, assertion, encrypted=True)
    verified = verify_signature(assertion, trust.certificates, trust.allow_sha1, now)
    return Opened(root, verified_response, verified, encrypted=True)


@dataclass(frozen=True, slots=True)
class Hints:
    """Unverified facts about a response, only to choose which providers to verify it with."""

    role_providers: tuple[str, ...]
    issuers: tuple[str, ...]
    encrypted: bool


def peek(response: ParsedResponse) -> Hints:
    """Read hints from a (not yet verified) response; nothing read here is trusted."""
    root = response.root
    providers: list[str] = []
    for attribute in root.iter(q(SAML, "Attribute")):
        if attribute.get("Name") != ROLE_ATTRIBUTE:
            continue
        for value in attribute.iter(q(SAML, "AttributeValue")):
            for part in "".join(value.itertext()).split(","):
                part = part.strip()
                if ":saml-provider/" in part and part not in providers:
                    providers.append(part)
    issuers: list[str] = []
    for issuer in (
        *root.findall(f"./{q(SAML, 'Issuer')}"),
        *root.findall(f"./{ASSERTION}/{q(SAML, 'Issuer')}"),
    ):
        text = "".join(issuer.itertext()).strip()
        if text and text not in issuers:
            issuers.append(text)
    return Hints(tuple(providers[:5]), tuple(issuers[:2]), root.find(f"./{ENCRYPTED}") is not None)

"""XML Signature verification with signxml against pinned certificates (shared/SECURITY.md).

One Reference to the signed element's ID, only enveloped-signature and exclusive c14n
transforms, no ds:Object, RSA/ECDSA with SHA-256 or stronger; SHA-1 signatures and digests only
when the operator allows them (``--allow-saml-sha1``); HMAC and DSA never. Returns the element
signxml says was signed, so callers read only that.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Sequence
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree
from signxml.algorithms import DigestAlgorithm, SignatureMethod
from signxml.exceptions import InvalidCertificate, InvalidDigest, InvalidInput, InvalidSignature
from signxml.verifier import SignatureConfiguration, XMLVerifier

from connectfed.saml import xml
from connectfed.saml.namespaces import DS, q
from connectfed.saml.rejection import AssertionRejected

_SIGNATURE = q(DS, "Signature")
ALLOWED_TRANSFORMS = frozenset(
    {
        "http://www.w3.org/2000/09/xmldsig#enveloped-signature",
        "http://www.w3.org/2001/10/xml-exc-c14n#",
        "http://www.w3.org/2001/10/xml-exc-c14n#WithComments",
    }
)


_KEYINFO_CERTIFICATE = f"./{q(DS, 'KeyInfo')}/{q(DS, 'X509Data')}/{q(DS, 'X509Certificate')}"


@functools.cache
def _algorithms(allow_sha1: bool) -> tuple[frozenset[SignatureMethod], frozenset[DigestAlgorithm]]:
    """The signature methods and digests accepted (fixed per process: computed once)."""
    methods = frozenset(
        m
        for m in SignatureMethod
        if ("SHA1" not in m.name or allow_sha1)
        and "HMAC" not in m.name
        and "DSA_" not in m.name.replace("ECDSA", "")
    )
    digests = frozenset(d for d in DigestAlgorithm if "SHA1" not in d.name or allow_sha1)
    return methods, digests


def _config(location: str, allow_sha1: bool, now: datetime) -> SignatureConfiguration:
    methods, digests = _algorithms(allow_sha1)
    return SignatureConfiguration(
        location=location,
        expect_references=1,
        signature_methods=methods,
        digest_algorithms=digests,
        verification_time=now,
        ignore_ambiguous_key_info=True,
    )


@functools.lru_cache(maxsize=256)
def _der_base64(pem: str) -> str:
    """A pinned certificate as an ``X509Certificate`` element carries it (base64 of its DER)."""
    return base64.b64encode(_certificate(pem).public_bytes(Encoding.DER)).decode("ascii")


def _carried_first(certificates: Sequence[str], signature: etree._Element | None) -> list[str]:
    """The pinned certificates, the one the signature's KeyInfo carries (if pinned) first.

    KeyInfo is never trusted: only pinned certificates are tried, and all of them still are.
    It only orders them, so that a provider with several (a certificate rollover) verifies in
    one signxml run rather than a refused one first and then the good one: measured, a
    response signed with the second of two pinned certificates verified in ~1950 µs CPU,
    ~1350 µs with this order (the first certificate's refusal costs the document's parse, the
    schema, SignedInfo's c14n and the RSA check, and the exception)."""
    ordered = list(certificates)
    if len(ordered) < 2 or signature is None:
        return ordered
    carried = signature.findtext(_KEYINFO_CERTIFICATE)
    if carried:
        carried = "".join(carried.split())
        for index, pem in enumerate(ordered):
            if _der_base64(pem) == carried:
                ordered.insert(0, ordered.pop(index))
                break
    return ordered


@functools.lru_cache(maxsize=256)
def _certificate(pem: str) -> x509.Certificate:
    """A pinned certificate (PEM, from the provider's metadata) parsed once per process, keyed
    by its text: signxml would load it again on every verification. A certificate that is
    rotated out is simply no longer asked for. signxml still checks its validity period at the
    verification time on every call; only the parsing is shared."""
    return x509.load_pem_x509_certificate(pem.encode("ascii"))


def verify_signature(
    data: bytes,
    location: str,
    expected: etree._Element,
    certificates: Sequence[str],
    allow_sha1: bool,
    now: datetime,
) -> etree._Element:
    """Verify the signature at ``location`` (relative to the root of ``data``) over
    ``expected``; ``data`` must already have passed :func:`connectfed.saml.xml.parse`."""
    config = _config(location, allow_sha1, now)
    last_error: Exception | None = None
    for certificate in _carried_first(certificates, expected.find(_SIGNATURE)):
        try:
            # id_attribute: a Reference URI resolves against SAML's ``ID`` attribute only (SAML
            # core §1.3.4), not signxml's default "Id", then "ID" (two searches of the whole
            # document, and an ``Id`` that would win over the ``ID`` it should find).
            result = XMLVerifier().verify(
                data,
                x509_cert=_certificate(certificate),
                expect_config=config,
                parser=xml.parser(),
                id_attribute="ID",
            )
        except (
            InvalidSignature,
            InvalidDigest,
            InvalidCertificate,
            InvalidInput,
            etree.LxmlError,
            ValueError,
        ) as exc:
            last_error = exc
            continue
        assert not isinstance(result, list)
        signed = result.signed_xml
        if signed is None or signed.tag != expected.tag or signed.get("ID") != expected.get("ID"):
            raise AssertionRejected(
                "The signature does not reference the signed element", "signature"
            )
        signature = result.signature_xml
        if signature.find(q(DS, "Object")) is not None:
            raise AssertionRejected("ds:Object is not allowed in the signature", "signature")
        for transform in signature.iter(q(DS, "Transform")):
            if transform.get("Algorithm") not in ALLOWED_TRANSFORMS:
                raise AssertionRejected(
                    f"Transform {transform.get('Algorithm')} is not allowed", "signature"
                )
        return signed
    detail = f": {last_error}" if last_error else ""
    raise AssertionRejected(f"Response signature invalid{detail}", "signature")

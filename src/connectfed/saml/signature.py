"""XML Signature verification with libxmlsec1 (python-xmlsec) against pinned certificates
(shared/SECURITY.md).

One Reference, to ``#`` + the ID of the very element the caller reads next; only
enveloped-signature and exclusive c14n transforms; no ds:Object; RSA/ECDSA with SHA-256 or
stronger (SHA-224, which signxml accepted, no longer is; nor RSA-PSS, which libxmlsec1's
python binding does not offer); SHA-1 signatures and digests only when the operator allows them
(``--allow-saml-sha1``); HMAC, DSA, MD5, RIPEMD-160, XPath, XPointer and XSLT never. These rules
are checked here on the ds:Signature before any cryptography, and the same lists are handed to
libxmlsec1 as the only transforms it may run (``enable_signature_transform`` /
``enable_reference_transform``), so what it accepts is never wider than what we checked.

**Why libxmlsec1 rather than signxml** (issue 9). signxml's ``XMLVerifier.verify`` serialised
and parsed the response again about six times per signature (private copies of the document, the
Signature, SignedInfo and the signed element), validated the Signature against the XML-DSig
schema and searched the document for the ID by XPath. Measured, ``verify_signature`` on a
3.9 KB assertion-signed response, CPU µs per call (4 alternating processes, each the median of
5 rounds of 400 calls, on a shared machine): signxml ~1,040 (638-1,061), libxmlsec1 here ~370
(226-376) with this module's own checks included; whole browser sign-ins (``bench.saml_path``)
fell by about a quarter. libxmlsec1 verifies the tree our one hardened parser
(:mod:`connectfed.saml.xml`) already built: it canonicalises and digests it and parses no XML
itself (no transform that would is enabled), so there is still no second parser.
The price is a coupling: python-xmlsec's wheels bundle their own libxml2 and refuse to import
when lxml's differs, so lxml and xmlsec are upgraded together (pyproject.toml pins both).

**Wrapping.** signxml returned a fresh copy of what it had digested; here the caller keeps
reading its own element, so the rules that make that element the signed one are ours and
explicit: (1) the signature is the element's direct child (the callers refuse a ds:Signature
anywhere else); (2) its one Reference's URI is ``#`` + the element's ``ID``; (3) IDs are unique
in the document (the envelope refuses duplicates before calling here), and only this element's
``ID`` is registered with libxml2 as an ID, so the URI can resolve to nothing else; (4) no
``xml:id`` attribute anywhere (libxml2 registers those as IDs on its own). So the element whose
digest libxmlsec1 checked is the element the caller reads, and the caller reads nothing outside
it. Comments inside it are not covered by an exclusive c14n without comments: the readers use
the full text of elements (:func:`connectfed.saml.assertion.full_text`), which a comment neither
truncates nor changes, and never a comment's content.

**Trust.** Only the pinned certificates' public keys are used (KeyInfo is never a source of
keys: the context is given its key, and has no keys manager), each only within its validity
period at the verification time, as signxml checked it.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from lxml import etree

from connectfed.saml.namespaces import DS, q
from connectfed.saml.rejection import AssertionRejected

_SIGNATURE = q(DS, "Signature")
_T = xmlsec.constants
# The type of xmlsec's transform constants is private to its stubs.
Transform = Any


def _by_uri(*transforms: Transform) -> dict[str, Transform]:
    return {transform.href: transform for transform in transforms}


ENVELOPED = _T.TransformEnveloped.href
# Reference transforms (SECURITY.md: only enveloped-signature and exclusive c14n).
ALLOWED_TRANSFORMS = _by_uri(
    _T.TransformEnveloped, _T.TransformExclC14N, _T.TransformExclC14NWithComments
)
# SignedInfo's CanonicalizationMethod: any c14n (what signxml accepted).
_C14N = _by_uri(
    _T.TransformExclC14N,
    _T.TransformExclC14NWithComments,
    _T.TransformInclC14N,
    _T.TransformInclC14NWithComments,
    _T.TransformInclC14N11,
    _T.TransformInclC14N11WithComments,
)
_SIGNATURE_METHODS = _by_uri(
    _T.TransformRsaSha256,
    _T.TransformRsaSha384,
    _T.TransformRsaSha512,
    _T.TransformEcdsaSha256,
    _T.TransformEcdsaSha384,
    _T.TransformEcdsaSha512,
)
_SHA1_SIGNATURE_METHODS = _by_uri(_T.TransformRsaSha1, _T.TransformEcdsaSha1)
_DIGESTS = _by_uri(_T.TransformSha256, _T.TransformSha384, _T.TransformSha512)
_SHA1_DIGESTS = _by_uri(_T.TransformSha1)
# Every attribute libxml2 would make an ID of by itself (no DTD is ever loaded: only xml:id).
_XML_IDS = etree.XPath("//@xml:id")

_KEYINFO_CERTIFICATE = f"./{q(DS, 'KeyInfo')}/{q(DS, 'X509Data')}/{q(DS, 'X509Certificate')}"


def _refused(message: str) -> AssertionRejected:
    return AssertionRejected(message, "signature")


@functools.cache
def _algorithms(allow_sha1: bool) -> tuple[dict[str, Transform], dict[str, Transform]]:
    """(signature methods, digests) accepted, by URI (fixed per process: computed once)."""
    if allow_sha1:
        return {**_SIGNATURE_METHODS, **_SHA1_SIGNATURE_METHODS}, {**_DIGESTS, **_SHA1_DIGESTS}
    return dict(_SIGNATURE_METHODS), dict(_DIGESTS)


def _one(parent: etree._Element, name: str) -> etree._Element:
    found = parent.findall(q(DS, name))
    if len(found) != 1:
        raise _refused(f"Response signature invalid: expected one ds:{name}, found {len(found)}")
    return found[0]


def _algorithm(element: etree._Element, name: str, allowed: dict[str, Transform]) -> Transform:
    algorithm = _one(element, name).get("Algorithm") or ""
    if algorithm not in allowed:
        raise _refused(f"Response signature invalid: {name} {algorithm[:120]!r} is not allowed")
    return allowed[algorithm]


@dataclass(frozen=True, slots=True)
class Enabled:
    """The only transforms libxmlsec1 may run for one signature: for SignedInfo (its c14n and
    signature method) and for the Reference (its transforms and digest), those named, checked
    by :func:`_profile`."""

    signature: tuple[Transform, ...]
    reference: tuple[Transform, ...]


def _profile(signature: etree._Element, expected: etree._Element, allow_sha1: bool) -> Enabled:
    """Check the signature's shape against the profile (the module docstring) before any
    cryptography; the transforms libxmlsec1 may run for it."""
    methods, digests = _algorithms(allow_sha1)
    if signature.find(q(DS, "Object")) is not None:
        raise _refused("ds:Object is not allowed in the signature")
    signed_info = _one(signature, "SignedInfo")
    signed_info_transforms = (
        _algorithm(signed_info, "CanonicalizationMethod", _C14N),
        _algorithm(signed_info, "SignatureMethod", methods),
    )
    reference = _one(signed_info, "Reference")
    element_id = expected.get("ID")
    if not element_id or reference.get("URI") != f"#{element_id}":
        raise _refused("The signature does not reference the signed element")
    reference_transforms = [_algorithm(reference, "DigestMethod", digests)]
    for transform in reference.iter(q(DS, "Transform")):
        algorithm = transform.get("Algorithm") or ""
        if algorithm not in ALLOWED_TRANSFORMS:
            raise _refused(f"Transform {algorithm[:120]} is not allowed")
        reference_transforms.append(ALLOWED_TRANSFORMS[algorithm])
    return Enabled(signed_info_transforms, tuple(reference_transforms))


@functools.lru_cache(maxsize=256)
def _der_base64(pem: str) -> str:
    """A pinned certificate as an ``X509Certificate`` element carries it (base64 of its DER)."""
    return base64.b64encode(_certificate(pem).public_bytes(Encoding.DER)).decode("ascii")


def _carried_first(certificates: Sequence[str], signature: etree._Element) -> list[str]:
    """The pinned certificates, the one the signature's KeyInfo carries (if pinned) first.

    KeyInfo is never trusted: only pinned certificates are tried, and all of them still are.
    It only orders them, so that a provider with several (a certificate rollover) verifies a
    good signature once rather than after a refusal by the other certificate."""
    ordered = list(certificates)
    if len(ordered) < 2:
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
    by its text; its validity period is still checked at every verification."""
    return x509.load_pem_x509_certificate(pem.encode("ascii"))


@functools.lru_cache(maxsize=256)
def _key(pem: str) -> xmlsec.Key:
    """The public key of a pinned certificate as libxmlsec1 holds it, loaded once per process.
    Loaded as a bare public key, not as a certificate: libxmlsec1 then only checks the
    signature with it (measured ~120 µs less per signature than with the certificate)."""
    public = (
        _certificate(pem).public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    return xmlsec.Key.from_memory(public, xmlsec.constants.KeyDataFormatPem)


def _valid_at(pem: str, now: datetime) -> str | None:
    """Why a pinned certificate cannot be used at ``now`` (None: it can)."""
    certificate = _certificate(pem)
    if now < certificate.not_valid_before_utc:
        return f"the certificate {certificate.subject.rfc4514_string()} is not yet valid"
    if now > certificate.not_valid_after_utc:
        return f"the certificate {certificate.subject.rfc4514_string()} has expired"
    return None


def check_with(
    signature: etree._Element,
    expected: etree._Element,
    pem: str,
    enabled: Enabled,
) -> None:
    """libxmlsec1's check of ``signature`` over ``expected`` with one pinned certificate's key
    (raises ``xmlsec.Error``). A fresh context per check: it holds per-signature state."""
    context = xmlsec.SignatureContext()
    context.key = _key(pem)
    for transform in enabled.signature:
        context.enable_signature_transform(transform)
    for transform in enabled.reference:
        context.enable_reference_transform(transform)
    context.register_id(expected, "ID")
    context.verify(signature)


def verify_signature(
    expected: etree._Element,
    certificates: Sequence[str],
    allow_sha1: bool,
    now: datetime,
) -> etree._Element:
    """Verify the signature that is a direct child of ``expected`` (an element of a tree
    built by :func:`connectfed.saml.xml.parse`) and return ``expected``: the signed element,
    which is all the caller may read afterwards."""
    signatures = expected.findall(_SIGNATURE)
    if len(signatures) != 1:
        raise _refused("Response signature invalid: the element is not signed once")
    signature = signatures[0]
    if _XML_IDS(expected.getroottree()):
        raise _refused("xml:id attributes are not allowed in a SAML response")
    enabled = _profile(signature, expected, allow_sha1)
    last_error: str | None = None
    for pem in _carried_first(certificates, signature):
        unusable = _valid_at(pem, now)
        if unusable is not None:
            last_error = unusable
            continue
        try:
            check_with(signature, expected, pem, enabled)
        except xmlsec.Error as exc:
            last_error = f"the signature does not verify ({exc})"
            continue
        return expected
    detail = f": {last_error}" if last_error else ""
    raise _refused(f"Response signature invalid{detail}")

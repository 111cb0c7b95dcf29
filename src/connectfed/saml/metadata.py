"""SAML IdP metadata (SAML 2.0 metadata §2.3.2, §2.4.3): the entityID becomes the trusted Issuer,
the signing certificates are pinned (several for key rollover).

Every malformed field is an :class:`InvalidMetadata` (IAM's ``InvalidInput``), never anything
else: undecodable text, non-UTF-8 or unsafe XML, the wrong root, a missing or oversized entityID,
a certificate that is not base64 DER X.509, a ``validUntil`` that is not an ``xs:dateTime`` and a
``cacheDuration`` that is not an ``xs:duration``.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from connectfed.saml import xml
from connectfed.saml.namespaces import DS, MD
from connectfed.saml.xstypes import InvalidValue, check_duration, parse_datetime

MAX_ENTITY_ID = 1024  # SAML metadata §2.3.2: entityID is anyURI of at most 1024 characters
MAX_CERTIFICATES = 20


class InvalidMetadata(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class IdpMetadata:
    entity_id: str
    certificates: tuple[str, ...]  # PEM
    valid_until: datetime | None


def _fail(detail: str) -> InvalidMetadata:
    return InvalidMetadata(f"Could not parse metadata: {detail}")


def _certificate(text: str | None) -> str:
    compact = "".join((text or "").split())
    try:
        der = base64.b64decode(compact, validate=True)
        parsed = x509.load_der_x509_certificate(der)
        return parsed.public_bytes(Encoding.PEM).decode()
    except (binascii.Error, ValueError, TypeError):
        raise _fail("invalid X509Certificate") from None


def parse_metadata(document: str) -> IdpMetadata:
    if len(document) < 1000 and "EntityDescriptor" not in document:
        raise InvalidMetadata("Could not parse metadata")
    try:
        data = document.encode("utf-8")
    except UnicodeEncodeError:
        raise _fail("the document is not valid Unicode text") from None
    try:
        root = xml.parse(data)
    except xml.UnsafeXml as exc:
        raise _fail(str(exc)) from None
    if root.tag != f"{{{MD}}}EntityDescriptor":
        raise _fail("the root must be md:EntityDescriptor")
    entity_id = (root.get("entityID") or "").strip()
    if not entity_id:
        raise _fail("entityID is missing")
    if len(entity_id) > MAX_ENTITY_ID:
        raise _fail(f"entityID is longer than {MAX_ENTITY_ID} characters")
    descriptors = root.findall(f"{{{MD}}}IDPSSODescriptor")
    if len(descriptors) != 1:
        raise _fail("expected one IDPSSODescriptor")
    certificates: list[str] = []
    for key in descriptors[0].findall(f"{{{MD}}}KeyDescriptor"):
        if key.get("use") not in (None, "signing"):
            continue
        for cert in key.iter(f"{{{DS}}}X509Certificate"):
            certificates.append(_certificate(cert.text))
    if not certificates:
        raise _fail("no signing certificate")
    if len(certificates) > MAX_CERTIFICATES:
        raise _fail(f"more than {MAX_CERTIFICATES} signing certificates")
    try:
        for element in (root, descriptors[0]):
            duration = element.get("cacheDuration")
            if duration is not None:
                check_duration(duration, "cacheDuration")
            if element is not root and element.get("validUntil") is not None:
                parse_datetime(element.get("validUntil", ""), "validUntil")
        until = root.get("validUntil")
        valid_until = parse_datetime(until, "validUntil") if until is not None else None
    except InvalidValue as exc:
        raise _fail(str(exc)) from None
    return IdpMetadata(entity_id, tuple(certificates), valid_until)

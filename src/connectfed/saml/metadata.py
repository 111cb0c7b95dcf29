"""SAML IdP metadata: the entityID becomes the trusted Issuer, the signing certificates are
pinned (several for key rollover)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from connectfed.saml import xml

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"


class InvalidMetadata(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class IdpMetadata:
    entity_id: str
    certificates: tuple[str, ...]  # PEM
    valid_until: datetime | None


def parse_metadata(document: str) -> IdpMetadata:
    if len(document) < 1000 and "EntityDescriptor" not in document:
        raise InvalidMetadata("Could not parse metadata")
    try:
        root = xml.parse(document.encode("utf-8"))
    except xml.UnsafeXml as exc:
        raise InvalidMetadata(f"Could not parse metadata: {exc}") from None
    if root.tag != f"{{{MD}}}EntityDescriptor":
        raise InvalidMetadata("Could not parse metadata: the root must be md:EntityDescriptor")
    entity_id = root.get("entityID")
    if not entity_id:
        raise InvalidMetadata("Could not parse metadata: entityID is missing")
    descriptors = root.findall(f"{{{MD}}}IDPSSODescriptor")
    if len(descriptors) != 1:
        raise InvalidMetadata("Could not parse metadata: expected one IDPSSODescriptor")
    certificates: list[str] = []
    for key in descriptors[0].findall(f"{{{MD}}}KeyDescriptor"):
        if key.get("use") not in (None, "signing"):
            continue
        for cert in key.iter(f"{{{DS}}}X509Certificate"):
            text = "".join((cert.text or "").split())
            try:
                parsed = x509.load_der_x509_certificate(base64.b64decode(text, validate=True))
            except ValueError:
                raise InvalidMetadata("Could not parse metadata: invalid X509Certificate") from None
            certificates.append(parsed.public_bytes(Encoding.PEM).decode())
    if not certificates:
        raise InvalidMetadata("Could not parse metadata: no signing certificate")
    valid_until = root.get("validUntil")
    return IdpMetadata(
        entity_id, tuple(certificates),
        datetime.fromisoformat(valid_until.replace("Z", "+00:00")) if valid_until else None,
    )

"""A small, real test IdP: its own key pair and metadata, and signed SAMLResponses with a knob
for every field, for tests and for trying the federation flow without an IdP of your own."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml.algorithms import CanonicalizationMethod
from signxml.signer import XMLSigner

from connectfed.saml.encryption import AES256_GCM, OAEP_MGF1P_SHA1, KeyTransport, encrypt_assertion
from connectfed.saml.namespaces import (
    BEARER,
    DS,
    HTTP_POST_BINDING,
    MD,
    NAMEID_PERSISTENT,
    PASSWORD_PROTECTED_TRANSPORT,
    ROLE_ATTRIBUTE,
    SAML,
    SAMLP,
    SESSION_DURATION_ATTRIBUTE,
    SESSION_NAME_ATTRIBUTE,
    SUCCESS,
)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class SigningKey:
    key: rsa.RSAPrivateKey
    cert: x509.Certificate

    @classmethod
    def generate(cls, name: str = "connectfed test IdP") -> SigningKey:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = datetime.now(UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=3650))
            .sign(key, hashes.SHA256())
        )
        return cls(key, cert)

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @property
    def cert_b64(self) -> str:
        return base64.b64encode(self.cert.public_bytes(serialization.Encoding.DER)).decode()


@dataclass
class TestIdp:
    __test__ = False  # not a pytest test class
    entity_id: str = "https://idp.connectfed.test/metadata"
    keys: list[SigningKey] = field(default_factory=lambda: [SigningKey.generate()])

    def metadata(self, keys: list[SigningKey] | None = None) -> str:
        descriptors = "".join(
            '<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>'
            f"{k.cert_b64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
            for k in (keys or self.keys)
        )
        return (
            f'<md:EntityDescriptor xmlns:md="{MD}" '
            f'xmlns:ds="{DS}" entityID="{self.entity_id}">'
            f'<md:IDPSSODescriptor protocolSupportEnumeration="{SAMLP}">'
            f"{descriptors}"
            f'<md:SingleSignOnService Binding="{HTTP_POST_BINDING}" '
            'Location="https://idp.connectfed.test/sso"/>'
            "</md:IDPSSODescriptor></md:EntityDescriptor>"
        )

    def response(
        self,
        *,
        roles: list[tuple[str, str]],
        session_name: str | None,
        recipient: str,
        audience: str = "https://signin.aws.amazon.com/saml",
        name_id: str = "agent@example.com",
        name_id_format: str = NAMEID_PERSISTENT,
        now: datetime | None = None,
        lifetime: timedelta = timedelta(minutes=5),
        session_duration: int | None = None,
        session_not_on_or_after: datetime | None = None,
        issuer: str | None = None,
        sign: Literal["response", "assertion", "both", "none"] = "assertion",
        signing_key: SigningKey | None = None,
        signature_algorithm: str = "rsa-sha256",
        digest_algorithm: str = "sha256",
        destination: str | None = None,
        extra_attributes: dict[str, list[str]] | None = None,
        confirmation_not_before: datetime | None = None,
        omit_recipient: bool = False,
        encrypt_to: x509.Certificate | None = None,
        key_transport: KeyTransport = OAEP_MGF1P_SHA1,
        content_encryption: str = AES256_GCM,
        key_as_sibling: bool = False,
    ) -> bytes:
        """A SAMLResponse (XML bytes; base64 it for the wire).

        With ``encrypt_to`` (the service provider's certificate) the (signed) Assertion is sent
        as an EncryptedAssertion, with the given key transport and content algorithms.
        """
        now = now or datetime.now(UTC)
        issuer = issuer or self.entity_id
        response_id, assertion_id = f"_{uuid.uuid4().hex}", f"_{uuid.uuid4().hex}"
        attributes: dict[str, list[str]] = {ROLE_ATTRIBUTE: [f"{r},{p}" for r, p in roles]}
        if session_name is not None:
            attributes[SESSION_NAME_ATTRIBUTE] = [session_name]
        if session_duration is not None:
            attributes[SESSION_DURATION_ATTRIBUTE] = [str(session_duration)]
        attributes.update(extra_attributes or {})
        attribute_xml = "".join(
            f'<saml:Attribute Name="{name}">'
            + "".join(f"<saml:AttributeValue>{v}</saml:AttributeValue>" for v in values)
            + "</saml:Attribute>"
            for name, values in attributes.items()
        )
        confirmation_attrs = f'NotOnOrAfter="{_iso(now + lifetime)}"'
        if not omit_recipient:
            confirmation_attrs += f' Recipient="{recipient}"'
        if confirmation_not_before is not None:
            confirmation_attrs += f' NotBefore="{_iso(confirmation_not_before)}"'
        session_attr = (
            f' SessionNotOnOrAfter="{_iso(session_not_on_or_after)}"'
            if session_not_on_or_after
            else ""
        )
        assertion = (
            f'<saml:Assertion xmlns:saml="{SAML}" ID="{assertion_id}" Version="2.0" '
            f'IssueInstant="{_iso(now)}"><saml:Issuer>{issuer}</saml:Issuer>'
            f'<saml:Subject><saml:NameID Format="{name_id_format}">{name_id}</saml:NameID>'
            f'<saml:SubjectConfirmation Method="{BEARER}">'
            f"<saml:SubjectConfirmationData {confirmation_attrs}/></saml:SubjectConfirmation>"
            f'</saml:Subject><saml:Conditions NotBefore="{_iso(now - timedelta(seconds=5))}" '
            f'NotOnOrAfter="{_iso(now + lifetime)}"><saml:AudienceRestriction>'
            f"<saml:Audience>{audience}</saml:Audience></saml:AudienceRestriction>"
            f'</saml:Conditions><saml:AuthnStatement AuthnInstant="{_iso(now)}"{session_attr}>'
            "<saml:AuthnContext><saml:AuthnContextClassRef>"
            f"{PASSWORD_PROTECTED_TRANSPORT}"
            "</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>"
            f"<saml:AttributeStatement>{attribute_xml}</saml:AttributeStatement>"
            "</saml:Assertion>"
        )
        key = signing_key or self.keys[0]
        assertion_element = etree.fromstring(assertion.encode())
        if sign in ("assertion", "both"):
            assertion_element = self._sign(
                assertion_element, assertion_id, key, signature_algorithm, digest_algorithm
            )
        response = etree.fromstring(
            f'<samlp:Response xmlns:samlp="{SAMLP}" xmlns:saml="{SAML}" ID="{response_id}" '
            f'Version="2.0" IssueInstant="{_iso(now)}" Destination="{destination or recipient}">'
            f"<saml:Issuer>{issuer}</saml:Issuer><samlp:Status><samlp:StatusCode "
            f'Value="{SUCCESS}"/></samlp:Status></samlp:Response>'.encode()
        )
        if encrypt_to is not None:
            assertion_element = encrypt_assertion(
                assertion_element,
                encrypt_to,
                key_transport=key_transport,
                content=content_encryption,
                key_as_sibling=key_as_sibling,
            )
        response.append(assertion_element)
        if sign in ("response", "both"):
            response = self._sign(response, response_id, key, signature_algorithm, digest_algorithm)
        return bytes(etree.tostring(response))

    @staticmethod
    def _sign(
        element: etree._Element, element_id: str, key: SigningKey, algorithm: str, digest: str
    ) -> etree._Element:
        signer_class = _LegacySha1Signer if "sha1" in f"{algorithm}{digest}" else XMLSigner
        signer = signer_class(
            signature_algorithm=algorithm,
            digest_algorithm=digest,
            c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
        )
        signer.namespaces = {"ds": DS}
        signed: etree._Element = signer.sign(
            element, key=key.key, cert=[key.cert], reference_uri=element_id
        )
        return signed


class _LegacySha1Signer(XMLSigner):
    """Signs with RSA-SHA1/SHA-1 like old IdPs still do (signxml refuses by default), to test
    that the service provider refuses them unless ``--allow-saml-sha1``."""

    def check_deprecated_methods(self) -> None:
        return None


def encode(response: bytes) -> str:
    return base64.b64encode(response).decode()

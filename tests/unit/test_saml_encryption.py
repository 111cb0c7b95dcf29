"""Encrypted assertions (SAML core §2.3.4, §6; XML Encryption 1.1): every supported algorithm
combination, the refusals, uniform errors without a signed Response (no padding/parsing
oracle), and interoperability with xmlsec (libxmlsec1) as an independent implementation."""

from __future__ import annotations

import base64
import itertools
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree

from connectfed.saml import encryption as enc
from connectfed.saml.assertion import SAML, AssertionRejected, VerifiedAssertion, verify_response
from connectfed.saml.envelope import UNVERIFIABLE
from connectfed.saml.metadata import parse_metadata
from connectfed.saml.testidp import SigningKey, TestIdp

IDP = TestIdp(entity_id="https://idp.encryption.test")
METADATA = parse_metadata(IDP.metadata())
SP = SigningKey.generate("service provider")
OTHER_SP = SigningKey.generate("another service provider")
RECIPIENT = "https://signin.aws.amazon.com/saml"
ROLES = [("arn:aws:iam::123456789012:role/R", "arn:aws:iam::123456789012:saml-provider/P")]
TRANSPORTS = {
    "oaep-mgf1p-sha1": enc.OAEP_MGF1P_SHA1,
    "oaep-mgf1p-sha256": enc.OAEP_MGF1P_SHA256,
    "xenc11-oaep-sha256-mgf1sha256": enc.OAEP11_SHA256_MGF1SHA256,
    "xenc11-oaep-defaults": enc.OAEP11_DEFAULTS,
}
CONTENTS = {
    "aes128-cbc": enc.AES128_CBC,
    "aes256-cbc": enc.AES256_CBC,
    "aes128-gcm": enc.AES128_GCM,
    "aes256-gcm": enc.AES256_GCM,
}


def response(sign: str = "assertion", **knobs: object) -> bytes:
    knobs.setdefault("encrypt_to", SP.cert)
    return IDP.response(roles=ROLES, session_name="agent1", recipient=RECIPIENT, sign=sign, **knobs)  # type: ignore[arg-type]


def verify(
    data: bytes, keys: list[rsa.RSAPrivateKey] | None = None, require: bool = False
) -> VerifiedAssertion:
    return verify_response(
        data,
        metadata=METADATA,
        recipients=[RECIPIENT],
        audiences=[RECIPIENT],
        now=datetime.now(UTC),
        decryption_keys=[SP.key] if keys is None else keys,
        require_encryption=require,
    )


def rejection(
    data: bytes, keys: list[rsa.RSAPrivateKey] | None = None, require: bool = False
) -> AssertionRejected:
    with pytest.raises(AssertionRejected) as caught:
        verify(data, keys, require)
    return caught.value


@pytest.mark.parametrize(
    "transport,content,sign",
    [
        (t, c, s)
        for (t, c), s in zip(
            itertools.product(TRANSPORTS, CONTENTS),
            itertools.cycle(["assertion", "response", "both"]),
            strict=False,
        )
    ],
)
def test_every_algorithm_combination_decrypts(transport: str, content: str, sign: str) -> None:
    verified = verify(
        response(sign, key_transport=TRANSPORTS[transport], content_encryption=CONTENTS[content])
    )
    assert verified.attributes["https://aws.amazon.com/SAML/Attributes/RoleSessionName"] == (
        "agent1",
    )
    assert verified.issuer == IDP.entity_id


def test_encrypted_key_beside_the_encrypted_data() -> None:
    assert verify(response(key_as_sibling=True)).name_id == "agent@example.com"


def test_either_of_two_keys_decrypts_for_rollover() -> None:
    both = [OTHER_SP.key, SP.key]
    assert verify(response(encrypt_to=SP.cert), both)
    assert verify(response(encrypt_to=OTHER_SP.cert), both)


def test_rsa_1_5_key_transport_is_refused() -> None:
    refused = rejection(response(key_transport=enc.KeyTransport(enc.RSA_1_5)))
    assert "rsa-1_5 is refused" in str(refused)


def test_no_private_key_says_so() -> None:
    refused = rejection(response(), keys=[])
    assert refused.reason == "no_key"
    assert "has no private key" in str(refused)


def test_wrong_private_key_says_so() -> None:
    refused = rejection(response(encrypt_to=OTHER_SP.cert))
    assert str(refused) == enc.WRONG_KEY


def test_required_refuses_a_plain_assertion_and_allowed_accepts_it() -> None:
    plain = response(encrypt_to=None)
    assert "requires encrypted assertions" in str(rejection(plain, require=True))
    assert verify(plain).name_id == "agent@example.com"
    assert verify(response(), require=True).name_id == "agent@example.com"


def _cipher_values(root: etree._Element) -> list[etree._Element]:
    return list(root.iter(f"{{{enc.XENC}}}CipherValue"))


def _tamper(data: bytes, flip_at: int) -> bytes:
    root = etree.fromstring(data)
    content = _cipher_values(root)[-1]  # EncryptedData's CipherValue comes last
    raw = bytearray(base64.b64decode(content.text or ""))
    raw[flip_at] ^= 0x01
    content.text = base64.b64encode(bytes(raw)).decode()
    return bytes(etree.tostring(root))


@pytest.mark.parametrize("content", [enc.AES128_CBC, enc.AES256_GCM])
@pytest.mark.parametrize("flip_at", [0, 20, -1])
def test_tampered_ciphertext_gets_one_uniform_message(content: str, flip_at: int) -> None:
    """Padding errors, garbled plaintext and broken signatures must look alike (no oracle)."""
    refused = rejection(_tamper(response(content_encryption=content), flip_at))
    assert str(refused) == UNVERIFIABLE


def test_a_bad_assertion_signature_inside_gets_the_same_message() -> None:
    stranger = SigningKey.generate("stranger")
    refused = rejection(response(signing_key=stranger))
    assert str(refused) == UNVERIFIABLE
    assert refused.detail is not None and "signature" in refused.detail.lower()


def test_a_signed_response_is_verified_before_decrypting() -> None:
    refused = rejection(_tamper(response("response", content_encryption=enc.AES128_CBC), 20))
    assert refused.reason == "signature"


def test_an_unsigned_assertion_in_an_unsigned_response_is_refused() -> None:
    assert str(rejection(response("none"))) == UNVERIFIABLE


def _with_plaintext(plaintext: bytes) -> bytes:
    root = etree.fromstring(response(encrypt_to=None))
    assertion = root.find(f"{{{SAML}}}Assertion")
    assert assertion is not None
    root.replace(assertion, enc.encrypt_octets(plaintext, SP.cert))
    return bytes(etree.tostring(root))


@pytest.mark.parametrize(
    "plaintext",
    [
        b'<!DOCTYPE a [<!ENTITY e "x">]><saml:Assertion>&e;</saml:Assertion>',
        '<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"/>'.encode("utf-16"),
        b"<saml:Assertion/><saml:Assertion/>",
        b"not xml at all",
    ],
)
def test_hostile_plaintexts_go_through_the_hardened_parser(plaintext: bytes) -> None:
    refused = rejection(_with_plaintext(plaintext))
    assert str(refused) == UNVERIFIABLE and refused.detail


def test_an_encrypted_and_a_plain_assertion_together_are_refused() -> None:
    root = etree.fromstring(response())
    plain = etree.fromstring(response(encrypt_to=None)).find(f"{{{SAML}}}Assertion")
    root.append(plain)
    assert "exactly one Assertion" in str(rejection(bytes(etree.tostring(root))))


# -- interoperability with xmlsec (libxmlsec1), an independent XML Encryption implementation --


def test_what_xmlsec_encrypts_we_decrypt() -> None:
    import xmlsec

    for method in (xmlsec.constants.TransformAes128Gcm, xmlsec.constants.TransformAes256Cbc):
        root = etree.fromstring(response(encrypt_to=None))
        assertion = root.find(f"{{{SAML}}}Assertion")
        assert assertion is not None
        manager = xmlsec.KeysManager()
        manager.add_key(xmlsec.Key.from_memory(SP.cert_pem, xmlsec.constants.KeyDataFormatCertPem))
        template = xmlsec.template.encrypted_data_create(
            root, method, type=xmlsec.constants.TypeEncElement, ns="xenc"
        )
        xmlsec.template.encrypted_data_ensure_cipher_value(template)
        key_info = xmlsec.template.encrypted_data_ensure_key_info(template, ns="dsig")
        encrypted_key = xmlsec.template.add_encrypted_key(
            key_info, xmlsec.constants.TransformRsaOaep
        )
        xmlsec.template.encrypted_data_ensure_cipher_value(encrypted_key)
        context = xmlsec.EncryptionContext(manager)
        bits = 128 if method == xmlsec.constants.TransformAes128Gcm else 256
        context.key = xmlsec.Key.generate(
            xmlsec.constants.KeyDataAes, bits, xmlsec.constants.KeyDataTypeSession
        )
        encrypted_data = context.encrypt_xml(template, assertion)
        holder = etree.Element(f"{{{SAML}}}EncryptedAssertion")
        root.replace(encrypted_data, holder)
        holder.append(encrypted_data)
        assert verify(bytes(etree.tostring(root))).name_id == "agent@example.com"


@pytest.mark.parametrize("content", list(CONTENTS.values()))
def test_what_we_encrypt_xmlsec_decrypts(content: str) -> None:
    import xmlsec

    root = etree.fromstring(response(content_encryption=content, key_transport=enc.OAEP_MGF1P_SHA1))
    encrypted_data = root.find(f".//{{{enc.XENC}}}EncryptedData")
    manager = xmlsec.KeysManager()
    manager.add_key(xmlsec.Key.from_memory(SP.key_pem, xmlsec.constants.KeyDataFormatPem))
    decrypted = xmlsec.EncryptionContext(manager).decrypt(encrypted_data)
    assert decrypted.tag == f"{{{SAML}}}Assertion"

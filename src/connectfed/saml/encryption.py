"""XML Encryption of SAML assertions (SAML 2.0 core §2.3.4, §6; XML Encryption 1.1).

Decrypts a ``saml:EncryptedAssertion`` with the provider's RSA private keys, and encrypts one
for the test IdP. Supported: key transport RSA-OAEP (``xmlenc#rsa-oaep-mgf1p`` with any SHA-1/2
DigestMethod, ``xmlenc11#rsa-oaep`` with any SHA-1/2 digest and MGF1), content AES-128/256-GCM
and AES-128/256-CBC. Refused: ``rsa-1_5`` key transport (PKCS#1 v1.5 decryption is a
Bleichenbacher oracle: "Bleichenbacher's Attack Strikes Again", Jager et al., ESORICS 2012),
other ciphers (3DES, key agreement), CipherReference, and more than a few EncryptedKeys.

Why ``cryptography`` primitives rather than python-xmlsec: the XML-Enc structure is read by our
one hardened parser (``saml.xml``) and the decrypted octets are parsed by it too. libxmlsec1
parses decrypted ``Element`` content itself (``xmlSecReplaceNodeBuffer``), which would be a
second parser with its own options. (Signatures are verified with python-xmlsec, on the tree our
parser built: see ``saml.signature``.) The cryptography here is only RSA-OAEP and AES from
``cryptography``; tests check interoperability against xmlsec as an independent implementation.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from lxml import etree

from connectfed.saml.namespaces import DS, SAML

XENC = "http://www.w3.org/2001/04/xmlenc#"
XENC11 = "http://www.w3.org/2009/xmlenc11#"
ELEMENT_TYPE = XENC + "Element"

RSA_OAEP_MGF1P = XENC + "rsa-oaep-mgf1p"
RSA_OAEP = XENC11 + "rsa-oaep"
RSA_1_5 = XENC + "rsa-1_5"
AES128_CBC = XENC + "aes128-cbc"
AES256_CBC = XENC + "aes256-cbc"
AES128_GCM = XENC11 + "aes128-gcm"
AES256_GCM = XENC11 + "aes256-gcm"
CONTENT_KEY_BYTES = {AES128_CBC: 16, AES256_CBC: 32, AES128_GCM: 16, AES256_GCM: 32}

SHA1 = DS + "sha1"
SHA256 = XENC + "sha256"
DIGESTS: dict[str, type[hashes.HashAlgorithm]] = {
    SHA1: hashes.SHA1,
    "http://www.w3.org/2001/04/xmldsig-more#sha224": hashes.SHA224,
    SHA256: hashes.SHA256,
    "http://www.w3.org/2001/04/xmldsig-more#sha384": hashes.SHA384,
    XENC + "sha512": hashes.SHA512,
}
MGF1_SHA1 = XENC11 + "mgf1sha1"
MGF1_SHA256 = XENC11 + "mgf1sha256"
MGFS: dict[str, type[hashes.HashAlgorithm]] = {
    MGF1_SHA1: hashes.SHA1,
    XENC11 + "mgf1sha224": hashes.SHA224,
    MGF1_SHA256: hashes.SHA256,
    XENC11 + "mgf1sha384": hashes.SHA384,
    XENC11 + "mgf1sha512": hashes.SHA512,
}
MAX_ENCRYPTED_KEYS = 4

NO_KEY = (
    "The SAML response contains an encrypted assertion, but the identity provider has no "
    "private key to decrypt it (add one with UpdateSAMLProvider AddPrivateKey)"
)
WRONG_KEY = (
    "The encrypted assertion's key could not be decrypted with any of the identity "
    "provider's private keys"
)
UNDECRYPTABLE = "The encrypted assertion could not be decrypted"


class DecryptionFailed(ValueError):
    """The EncryptedAssertion cannot be decrypted; the message is safe to show the caller."""


@dataclass(frozen=True, slots=True)
class KeyTransport:
    """An ``EncryptedKey``'s EncryptionMethod: algorithm, OAEP digest and (xenc11) MGF."""

    algorithm: str = RSA_OAEP_MGF1P
    digest: str = SHA1
    mgf: str | None = None  # xenc11#rsa-oaep only; None means MGF1 with SHA-1


OAEP_MGF1P_SHA1 = KeyTransport(RSA_OAEP_MGF1P, SHA1)
OAEP_MGF1P_SHA256 = KeyTransport(RSA_OAEP_MGF1P, SHA256)
OAEP11_SHA256_MGF1SHA256 = KeyTransport(RSA_OAEP, SHA256, MGF1_SHA256)
OAEP11_DEFAULTS = KeyTransport(RSA_OAEP, SHA1, None)


def _q(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


def _cipher_value(parent: etree._Element) -> bytes:
    if parent.find(f"./{_q(XENC, 'CipherData')}/{_q(XENC, 'CipherReference')}") is not None:
        raise DecryptionFailed("CipherReference is not supported in encrypted assertions")
    values = parent.findall(f"./{_q(XENC, 'CipherData')}/{_q(XENC, 'CipherValue')}")
    if len(values) != 1:
        raise DecryptionFailed("An encrypted element needs exactly one CipherValue")
    try:
        return base64.b64decode("".join("".join(values[0].itertext()).split()), validate=True)
    except (binascii.Error, ValueError):
        raise DecryptionFailed("A CipherValue is not valid base64") from None


def _method(parent: etree._Element) -> etree._Element:
    methods = parent.findall(f"./{_q(XENC, 'EncryptionMethod')}")
    if len(methods) != 1 or not methods[0].get("Algorithm"):
        raise DecryptionFailed("An encrypted element needs exactly one EncryptionMethod")
    return methods[0]


def _oaep(method: etree._Element) -> padding.OAEP:
    algorithm = method.get("Algorithm", "")
    if algorithm == RSA_1_5:
        raise DecryptionFailed(
            "Key transport rsa-1_5 is refused (RSA PKCS#1 v1.5 decryption "
            "is open to Bleichenbacher's attack); use RSA-OAEP"
        )
    if algorithm not in (RSA_OAEP_MGF1P, RSA_OAEP):
        raise DecryptionFailed(f"Unsupported key transport algorithm {algorithm[:100]}")
    digest_element = method.find(f"./{_q(DS, 'DigestMethod')}")
    digest_uri = SHA1 if digest_element is None else digest_element.get("Algorithm", "")
    mgf_element = method.find(f"./{_q(XENC11, 'MGF')}")
    mgf_uri = MGF1_SHA1 if mgf_element is None else mgf_element.get("Algorithm", "")
    if algorithm == RSA_OAEP_MGF1P and mgf_element is not None:
        raise DecryptionFailed("rsa-oaep-mgf1p takes no MGF element (it is always MGF1-SHA1)")
    if digest_uri not in DIGESTS or mgf_uri not in MGFS:
        raise DecryptionFailed("Unsupported OAEP digest or mask generation function")
    label_element = method.find(f"./{_q(XENC, 'OAEPparams')}")
    label = None
    if label_element is not None:
        try:
            label = base64.b64decode("".join((label_element.text or "").split()), validate=True)
        except (binascii.Error, ValueError):
            raise DecryptionFailed("OAEPparams is not valid base64") from None
    return padding.OAEP(
        mgf=padding.MGF1(MGFS[mgf_uri]()), algorithm=DIGESTS[digest_uri](), label=label or None
    )


def _encrypted_keys(encrypted: etree._Element, data: etree._Element) -> list[etree._Element]:
    keys: list[etree._Element] = [
        *data.findall(f"./{_q(DS, 'KeyInfo')}/{_q(XENC, 'EncryptedKey')}"),
        *encrypted.findall(f"./{_q(XENC, 'EncryptedKey')}"),
    ]
    if len(keys) > MAX_ENCRYPTED_KEYS:
        raise DecryptionFailed(f"More than {MAX_ENCRYPTED_KEYS} EncryptedKey elements")
    if not keys:
        raise DecryptionFailed("The encrypted assertion carries no EncryptedKey")
    return keys


def _unwrap(
    keys: list[etree._Element], private_keys: Sequence[rsa.RSAPrivateKey], key_bytes: int
) -> list[bytes]:
    """Every session key of the right size that some EncryptedKey yields under some key."""
    found: list[bytes] = []
    for encrypted_key in keys:
        oaep = _oaep(_method(encrypted_key))
        wrapped = _cipher_value(encrypted_key)
        for private_key in private_keys:
            try:
                session_key = private_key.decrypt(wrapped, oaep)
            except ValueError:
                continue
            if len(session_key) == key_bytes:
                found.append(session_key)
    return found


def _decrypt_content(algorithm: str, key: bytes, data: bytes) -> bytes:
    """One failure type for every content error (padding, tag, size): no padding oracle."""
    try:
        if algorithm in (AES128_GCM, AES256_GCM):
            if len(data) < 12 + 16:
                raise ValueError("short")
            return AESGCM(key).decrypt(data[:12], data[12:], None)
        if len(data) < 32 or len(data) % 16:
            raise ValueError("short")
        decryptor = Cipher(algorithms.AES(key), modes.CBC(data[:16])).decryptor()
        plain = decryptor.update(data[16:]) + decryptor.finalize()
        pad = plain[-1]
        # XML Encryption §5.2: the last octet counts the padding octets, whose values are
        # arbitrary (so this is not PKCS#7).
        if not 1 <= pad <= 16:
            raise ValueError("padding")
        return plain[:-pad]
    except (ValueError, InvalidTag):
        raise DecryptionFailed(UNDECRYPTABLE) from None


def decrypt_assertion(
    encrypted: etree._Element, private_keys: Sequence[rsa.RSAPrivateKey]
) -> bytes:
    """The plaintext octets of a ``saml:EncryptedAssertion`` (not parsed here)."""
    if not private_keys:
        raise DecryptionFailed(NO_KEY)
    datas = encrypted.findall(f"./{_q(XENC, 'EncryptedData')}")
    if len(datas) != 1:
        raise DecryptionFailed("An EncryptedAssertion needs exactly one EncryptedData")
    data = datas[0]
    if data.get("Type") not in (None, ELEMENT_TYPE):
        raise DecryptionFailed("EncryptedData must have Type xmlenc#Element")
    algorithm = _method(data).get("Algorithm", "")
    if algorithm not in CONTENT_KEY_BYTES:
        raise DecryptionFailed(f"Unsupported content encryption algorithm {algorithm[:100]}")
    ciphertext = _cipher_value(data)
    session_keys = _unwrap(
        _encrypted_keys(encrypted, data), private_keys, CONTENT_KEY_BYTES[algorithm]
    )
    if not session_keys:
        raise DecryptionFailed(WRONG_KEY)
    for session_key in session_keys[:-1]:
        try:
            return _decrypt_content(algorithm, session_key, ciphertext)
        except DecryptionFailed:
            continue
    return _decrypt_content(algorithm, session_keys[-1], ciphertext)


# -- the IdP side (test IdP) ---------------------------------------------------------------------


def _hash(uri: str, table: dict[str, type[hashes.HashAlgorithm]]) -> hashes.HashAlgorithm:
    return table[uri]()


def encrypt_assertion(
    assertion: etree._Element,
    certificate: x509.Certificate,
    *,
    key_transport: KeyTransport = OAEP_MGF1P_SHA1,
    content: str = AES256_GCM,
    key_as_sibling: bool = False,
) -> etree._Element:
    """An ``EncryptedAssertion`` holding ``assertion`` for the holder of ``certificate``."""
    return encrypt_octets(
        bytes(etree.tostring(assertion)),
        certificate,
        key_transport=key_transport,
        content=content,
        key_as_sibling=key_as_sibling,
    )


def encrypt_octets(
    plaintext: bytes,
    certificate: x509.Certificate,
    *,
    key_transport: KeyTransport = OAEP_MGF1P_SHA1,
    content: str = AES256_GCM,
    key_as_sibling: bool = False,
) -> etree._Element:
    """An ``EncryptedAssertion`` around any octets (tests use it for hostile plaintexts)."""
    public_key = certificate.public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    session_key = os.urandom(CONTENT_KEY_BYTES[content])
    if content in (AES128_GCM, AES256_GCM):
        iv = os.urandom(12)
        ciphertext = iv + AESGCM(session_key).encrypt(iv, plaintext, None)
    else:
        iv = os.urandom(16)
        pad = 16 - len(plaintext) % 16
        padded = plaintext + os.urandom(pad - 1) + bytes([pad])
        encryptor = Cipher(algorithms.AES(session_key), modes.CBC(iv)).encryptor()
        ciphertext = iv + encryptor.update(padded) + encryptor.finalize()
    if key_transport.algorithm == RSA_1_5:  # only to prove that it is refused
        wrapped = public_key.encrypt(session_key, padding.PKCS1v15())
    else:
        wrapped = public_key.encrypt(
            session_key,
            padding.OAEP(
                mgf=padding.MGF1(_hash(key_transport.mgf or MGF1_SHA1, MGFS)),
                algorithm=_hash(key_transport.digest, DIGESTS),
                label=None,
            ),
        )
    nsmap = {"saml": SAML, "xenc": XENC, "ds": DS, "xenc11": XENC11}
    root = etree.Element(_q(SAML, "EncryptedAssertion"), nsmap=nsmap)
    data = etree.SubElement(root, _q(XENC, "EncryptedData"), Type=ELEMENT_TYPE)
    etree.SubElement(data, _q(XENC, "EncryptionMethod"), Algorithm=content)
    key_info = etree.SubElement(data, _q(DS, "KeyInfo"))
    if key_as_sibling:
        etree.SubElement(
            key_info, _q(DS, "RetrievalMethod"), Type=XENC + "EncryptedKey", URI="#_k1"
        )
        encrypted_key = etree.SubElement(root, _q(XENC, "EncryptedKey"), Id="_k1")
    else:
        encrypted_key = etree.SubElement(key_info, _q(XENC, "EncryptedKey"))
    method = etree.SubElement(
        encrypted_key, _q(XENC, "EncryptionMethod"), Algorithm=key_transport.algorithm
    )
    if key_transport.algorithm != RSA_1_5 and key_transport.digest != SHA1:
        etree.SubElement(method, _q(DS, "DigestMethod"), Algorithm=key_transport.digest)
    if key_transport.mgf is not None:
        etree.SubElement(method, _q(XENC11, "MGF"), Algorithm=key_transport.mgf)
    for holder, value in ((encrypted_key, wrapped), (data, ciphertext)):
        cipher_data = etree.SubElement(holder, _q(XENC, "CipherData"))
        etree.SubElement(cipher_data, _q(XENC, "CipherValue")).text = base64.b64encode(
            value
        ).decode()
    if key_as_sibling:  # EncryptedKey follows EncryptedData (SAML core §2.2.4)
        root.remove(encrypted_key)
        root.append(encrypted_key)
    return root

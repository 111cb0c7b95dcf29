"""Service-provider private keys for decrypting assertions (IAM AddPrivateKey).

IAM takes a PEM private key; we accept an unencrypted RSA key of 2048 bits or more (RSA-OAEP is
the only key transport we allow). A key's ID is derived from its public key (base32 of the
SHA-256 of its SubjectPublicKeyInfo, 26 characters of ``[A-Z2-7]``, within IAM's
``[A-Z0-9]{22,64}``), so adding the same key twice is recognised.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_private_key,
)

MIN_RSA_BITS = 2048


class InvalidPrivateKey(ValueError):
    pass


def load_private_key(pem: str) -> rsa.RSAPrivateKey:
    try:
        key = load_pem_private_key(pem.strip().encode("latin-1"), password=None)
    except TypeError:
        raise InvalidPrivateKey("The private key must not be password protected") from None
    except (ValueError, UnicodeEncodeError, UnsupportedAlgorithm):
        raise InvalidPrivateKey("The private key is not a valid PEM private key") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise InvalidPrivateKey(
            "The private key must be an RSA key (assertions are decrypted with RSA-OAEP)"
        )
    if key.key_size < MIN_RSA_BITS:
        raise InvalidPrivateKey(f"The RSA private key must have at least {MIN_RSA_BITS} bits")
    return key


def key_id(key: rsa.RSAPrivateKey) -> str:
    spki = key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return base64.b32encode(hashlib.sha256(spki).digest()).decode()[:26]

"""The built-in test IdP of a declared world (``test_idp: true``).

Its signing key is generated once per database and kept there, sealed like every secret
(``store.meta_secret_setdefault``), so every server and every ``connectfed seed`` run on one
database sign and trust with the same key, and re-applying a world leaves the provider's
metadata unchanged. Its entityID is ``<public-url>/idp/metadata``: the server that serves the
IdP's pages (``serve --test-idp``) must run at the public URL the world was applied with.
"""

from __future__ import annotations

import json

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from connectfed.saml.testidp import SigningKey, TestIdp
from connectfed.store import Store

META_KEY = "test_idp_signing_key"


def _decode(stored: str) -> SigningKey:
    info = json.loads(stored)
    key = load_pem_private_key(info["key"].encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return SigningKey(key, x509.load_pem_x509_certificate(info["cert"].encode()))


def signing_key(store: Store) -> SigningKey:
    """The database's test-IdP key, created on first use (race-safe: one value wins)."""
    stored = store.meta_secret_get(META_KEY)
    if stored is None:
        fresh = SigningKey.generate("connectfed test IdP")
        stored = store.meta_secret_setdefault(
            META_KEY, json.dumps({"key": fresh.key_pem.decode(), "cert": fresh.cert_pem.decode()})
        )
    return _decode(stored)


def idp_for(store: Store, public_url: str) -> TestIdp:
    """The test IdP as the world declares it for a server at ``public_url``."""
    return TestIdp(entity_id=f"{public_url}/idp/metadata", keys=[signing_key(store)])

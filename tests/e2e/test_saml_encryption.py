"""Encrypted SAML assertions through the real server: IAM's AssertionEncryptionMode,
AddPrivateKey and RemovePrivateKey with boto3, AssumeRoleWithSAML for every algorithm pair,
Required versus Allowed, key rollover, and the browser POST /saml."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from connectfed.saml import encryption as enc
from connectfed.saml.testidp import SigningKey
from tests.support.errors import aws_error as _error
from tests.support.saml_world import SamlWorld, build_saml_world, post_saml, saml_trust
from tests.support.server import Server

_names = itertools.count()


@pytest.fixture
def saml(server: Server) -> SamlWorld:
    return build_saml_world(server, f"enc{next(_names)}")


def _update(saml: SamlWorld, **params: Any) -> Any:
    return saml.server.client("iam").update_saml_provider(
        SAMLProviderArn=saml.provider_arn, **params
    )


def _get(saml: SamlWorld) -> dict[str, Any]:
    return dict(saml.server.client("iam").get_saml_provider(SAMLProviderArn=saml.provider_arn))


def test_create_with_encryption_shows_key_ids_never_key_material(server: Server) -> None:
    from connectfed.saml.testidp import TestIdp

    iam = server.client("iam")
    sp = SigningKey.generate("sp")
    idp = TestIdp(entity_id="https://created.encrypted.test")
    arn = iam.create_saml_provider(
        Name="EncCreated",
        SAMLMetadataDocument=idp.metadata(),
        AssertionEncryptionMode="Required",
        AddPrivateKey=sp.key_pem.decode(),
    )["SAMLProviderArn"]
    got = iam.get_saml_provider(SAMLProviderArn=arn)
    assert got["AssertionEncryptionMode"] == "Required"
    assert len(got["SAMLProviderUUID"]) >= 22 and got["SAMLProviderUUID"].isalnum()
    [key] = got["PrivateKeyList"]
    assert set(key) == {"KeyId", "Timestamp"}
    assert 22 <= len(key["KeyId"]) <= 64 and key["KeyId"].isupper()
    body = str(got)
    assert "PRIVATE KEY" not in body and sp.key_pem.decode().splitlines()[1][:40] not in body


def test_add_rollover_remove_and_limits(saml: SamlWorld) -> None:
    first, second, third = (SigningKey.generate(n) for n in ("k1", "k2", "k3"))
    assert "PrivateKeyList" not in _get(saml) and "AssertionEncryptionMode" not in _get(saml)
    _update(saml, AddPrivateKey=first.key_pem.decode())
    _update(saml, AddPrivateKey=second.key_pem.decode(), AssertionEncryptionMode="Allowed")
    got = _get(saml)
    assert got["AssertionEncryptionMode"] == "Allowed"
    ids = [k["KeyId"] for k in got["PrivateKeyList"]]
    assert len(ids) == 2 and len(set(ids)) == 2
    iam = saml.server.client("iam")
    limit = _error(
        iam.update_saml_provider,
        SAMLProviderArn=saml.provider_arn,
        AddPrivateKey=third.key_pem.decode(),
    )
    assert (limit["Code"], limit["Status"]) == ("LimitExceeded", 409)
    both = _error(
        iam.update_saml_provider,
        SAMLProviderArn=saml.provider_arn,
        AddPrivateKey=third.key_pem.decode(),
        RemovePrivateKey=ids[0],
    )
    assert both["Code"] == "InvalidInput" and "separate" in both["Message"]
    _update(saml, RemovePrivateKey=ids[0])
    assert [k["KeyId"] for k in _get(saml)["PrivateKeyList"]] == [ids[1]]
    unknown = _error(
        iam.update_saml_provider, SAMLProviderArn=saml.provider_arn, RemovePrivateKey=ids[0]
    )
    assert unknown["Code"] == "InvalidInput"


def _pem(key: Any) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.mark.parametrize(
    "key,fragment",
    [
        ("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----", "not a valid PEM"),
        (_pem(ec.generate_private_key(ec.SECP256R1())), "must be an RSA key"),
        (
            _pem(rsa.generate_private_key(public_exponent=65537, key_size=1024)),  # noqa: S505
            "2048 bits",
        ),
    ],
)
def test_unusable_private_keys_are_invalid_input(saml: SamlWorld, key: str, fragment: str) -> None:
    error = _error(
        saml.server.client("iam").update_saml_provider,
        SAMLProviderArn=saml.provider_arn,
        AddPrivateKey=key,
    )
    assert (error["Code"], error["Status"]) == ("InvalidInput", 400)
    assert fragment in error["Message"]


def test_required_needs_a_key(saml: SamlWorld) -> None:
    error = _error(
        saml.server.client("iam").update_saml_provider,
        SAMLProviderArn=saml.provider_arn,
        AssertionEncryptionMode="Required",
    )
    assert error["Code"] == "InvalidInput" and "private key" in error["Message"]


SP_KEY = SigningKey.generate("server sp key")


@pytest.fixture
def encrypted(saml: SamlWorld) -> SamlWorld:
    _update(saml, AddPrivateKey=SP_KEY.key_pem.decode())
    return saml


@pytest.mark.parametrize(
    "transport,content",
    list(
        itertools.product(
            [enc.OAEP_MGF1P_SHA1, enc.OAEP_MGF1P_SHA256, enc.OAEP11_SHA256_MGF1SHA256],
            [enc.AES128_CBC, enc.AES256_CBC, enc.AES128_GCM, enc.AES256_GCM],
        )
    ),
)
def test_assume_role_with_saml_for_each_algorithm_pair(
    encrypted: SamlWorld, transport: enc.KeyTransport, content: str
) -> None:
    result = encrypted.assume(
        encrypted.assertion(
            encrypt_to=SP_KEY.cert, key_transport=transport, content_encryption=content
        )
    )
    assert result["AssumedRoleUser"]["Arn"].endswith("/agent1")


def test_signed_response_around_an_encrypted_assertion(encrypted: SamlWorld) -> None:
    assert encrypted.assume(encrypted.assertion(encrypt_to=SP_KEY.cert, sign="response"))


def test_required_refuses_plain_and_allowed_accepts_both(encrypted: SamlWorld) -> None:
    assert encrypted.assume(encrypted.assertion())  # mode never set: plain is fine
    _update(encrypted, AssertionEncryptionMode="Required")
    error = _error(encrypted.assume, encrypted.assertion())
    assert error["Code"] == "InvalidIdentityToken"
    assert "requires encrypted assertions" in error["Message"]
    assert encrypted.assume(encrypted.assertion(encrypt_to=SP_KEY.cert))
    _update(encrypted, AssertionEncryptionMode="Allowed")
    assert encrypted.assume(encrypted.assertion())
    assert encrypted.assume(encrypted.assertion(encrypt_to=SP_KEY.cert))


def test_key_rollover_with_two_keys(encrypted: SamlWorld) -> None:
    new = SigningKey.generate("rolled sp key")
    _update(encrypted, AddPrivateKey=new.key_pem.decode())
    assert encrypted.assume(encrypted.assertion(encrypt_to=SP_KEY.cert))
    assert encrypted.assume(encrypted.assertion(encrypt_to=new.cert))
    old_id = _get(encrypted)["PrivateKeyList"][0]["KeyId"]
    _update(encrypted, RemovePrivateKey=old_id)
    error = _error(encrypted.assume, encrypted.assertion(encrypt_to=SP_KEY.cert))
    assert error["Code"] == "InvalidIdentityToken"
    assert (
        "could not be decrypted with any of the identity provider's private keys"
        in error["Message"]
    )
    assert encrypted.assume(encrypted.assertion(encrypt_to=new.cert))


def test_encrypted_assertion_without_a_provider_key(saml: SamlWorld) -> None:
    error = _error(saml.assume, saml.assertion(encrypt_to=SP_KEY.cert))
    assert error["Code"] == "InvalidIdentityToken"
    assert "encrypted assertion, but the identity provider has no private key" in error["Message"]


def test_browser_post_with_an_encrypted_response(encrypted: SamlWorld) -> None:
    own = f"{encrypted.server.url}/saml"
    iam = encrypted.server.client("iam")
    iam.update_assume_role_policy(
        RoleName=encrypted.role_arn.rsplit("/", 1)[1],
        PolicyDocument=saml_trust(encrypted.provider_arn, own),
    )
    # The Role attribute is encrypted: the provider is found by the Response's Issuer.
    status, _, page = post_saml(
        encrypted.server, encrypted.assertion(encrypt_to=SP_KEY.cert, recipient=own, audience=own)
    )
    assert status == 200, page
    assert "Signed in" in page and "assumed-role" in page


def test_browser_post_encrypted_without_a_key_says_so(server: Server) -> None:
    world = build_saml_world(server, f"enc{next(_names)}")
    status, _, page = post_saml(server, world.assertion(encrypt_to=SP_KEY.cert))
    assert status == 400
    assert "has no private key" in page

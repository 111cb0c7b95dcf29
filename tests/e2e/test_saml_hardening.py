"""SAML hardening through the real server: ASCII-only identifiers (look-alike letters refused),
malformed metadata is InvalidInput (never a 500, also under random mutation), DTDs in every
encoding, clear sign-in errors for what is not a SAML response, and the SHA-1 opt-in."""

from __future__ import annotations

import base64
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectfed.saml.testidp import TestIdp, encode
from tests.support.errors import aws_error as _error
from tests.support.saml_world import SamlWorld, build_saml_world, post_saml
from tests.support.server import ACCOUNT_ID, Server, start_server

_names = itertools.count()
LOOK_ALIKE = "\u0430gent1"  # CYRILLIC SMALL LETTER A (U+0430), then "gent1"


@pytest.fixture
def saml(server: Server) -> SamlWorld:
    return build_saml_world(server, f"h{next(_names)}")


# -- identifiers: AWS's [\w+=,.@-] with an ASCII \w ----------------------------------------------


def test_iam_user_and_role_names_refuse_look_alike_letters(server: Server) -> None:
    iam = server.client("iam")
    user = _error(iam.create_user, UserName=LOOK_ALIKE)
    assert (user["Code"], user["Status"]) == ("ValidationError", 400)
    assert "regular expression pattern" in user["Message"]
    role = _error(iam.create_role, RoleName=LOOK_ALIKE, AssumeRolePolicyDocument="{}")
    assert role["Code"] == "ValidationError"
    assert iam.create_user(UserName="ascii_user+=,.@-1")["User"]["UserName"] == "ascii_user+=,.@-1"


def test_sts_role_session_name_refuses_look_alike_letters(saml: SamlWorld) -> None:
    sts = saml.server.client("sts", saml.world.caller_key, saml.world.caller_secret)
    error = _error(sts.assume_role, RoleArn=saml.role_arn, RoleSessionName=LOOK_ALIKE)
    assert error["Code"] == "ValidationError"
    assert "roleSessionName" in error["Message"]


@pytest.mark.parametrize(
    "knobs,fragment",
    [
        ({"session_name": LOOK_ALIKE}, "RoleSessionName in AuthnResponse must match"),
        (
            {
                "extra_attributes": {
                    "https://aws.amazon.com/SAML/Attributes/SourceIdentity": [LOOK_ALIKE]
                }
            },
            "SourceIdentity",
        ),
    ],
)
def test_saml_names_refuse_look_alike_letters(
    saml: SamlWorld, knobs: dict[str, Any], fragment: str
) -> None:
    error = _error(saml.assume, saml.assertion(**knobs))
    assert error["Code"] == "InvalidIdentityToken" and fragment in error["Message"]


# -- metadata: every malformed field is InvalidInput ---------------------------------------------

IDP = TestIdp(entity_id="https://metadata.hardening.test")
GOOD = IDP.metadata()
ROOT_OPEN = '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '


@pytest.mark.parametrize(
    "document,fragment",
    [
        (GOOD.replace(ROOT_OPEN, ROOT_OPEN + 'validUntil="next tuesday" '), "validUntil"),
        (GOOD.replace(ROOT_OPEN, ROOT_OPEN + 'validUntil="2024-02-30T00:00:00Z" '), "validUntil"),
        (GOOD.replace(ROOT_OPEN, ROOT_OPEN + 'cacheDuration="forever" '), "cacheDuration"),
        (
            GOOD.replace(IDP.keys[0].cert_b64[:20], "!!!!" + IDP.keys[0].cert_b64[4:20]),
            "X509Certificate",
        ),
        (
            GOOD.replace(IDP.keys[0].cert_b64, base64.b64encode(b"not a certificate").decode()),
            "X509Certificate",
        ),
        (GOOD.replace(f'entityID="{IDP.entity_id}"', ""), "entityID"),
        (GOOD.replace(f'entityID="{IDP.entity_id}"', f'entityID="{"x" * 1100}"'), "entityID"),
        (GOOD.replace("md:EntityDescriptor", "md:EntitiesDescriptor"), "root"),
        (GOOD + "<trailing/>", "well-formed"),
        ('<?xml version="1.0" encoding="UTF-16"?>' + GOOD, "UTF-8"),
        ('<!DOCTYPE x [<!ENTITY e "x">]>' + GOOD, "DTD"),
    ],
)
def test_malformed_metadata_is_invalid_input(server: Server, document: str, fragment: str) -> None:
    iam = server.client("iam", parameter_validation=False)  # the server validates
    padding = "<!--" + " " * max(0, 1000 - len(document)) + "-->"  # IAM's minimum is 1000
    error = _error(
        iam.create_saml_provider, SAMLMetadataDocument=document + padding, Name=f"Bad{next(_names)}"
    )
    assert (error["Code"], error["Status"]) == ("InvalidInput", 400)
    assert fragment in error["Message"]


def test_update_with_malformed_metadata_is_invalid_input(saml: SamlWorld) -> None:
    bad = GOOD.replace(ROOT_OPEN, ROOT_OPEN + 'validUntil="soon" ')
    error = _error(
        saml.server.client("iam").update_saml_provider,
        SAMLProviderArn=saml.provider_arn,
        SAMLMetadataDocument=bad,
    )
    assert error["Code"] == "InvalidInput"


def test_update_refreshes_valid_until(saml: SamlWorld) -> None:
    iam = saml.server.client("iam")
    document = saml.idp.metadata().replace(
        ROOT_OPEN, ROOT_OPEN + 'validUntil="2031-01-02T03:04:05Z" '
    )
    iam.update_saml_provider(SAMLProviderArn=saml.provider_arn, SAMLMetadataDocument=document)
    got = iam.get_saml_provider(SAMLProviderArn=saml.provider_arn)
    assert got["ValidUntil"].isoformat() == "2031-01-02T03:04:05+00:00"


_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
_MUTATION = st.one_of(
    st.tuples(st.just("delete"), st.integers(0, len(GOOD)), st.integers(1, 200)),
    st.tuples(st.just("insert"), st.integers(0, len(GOOD)), _TEXT),
    st.tuples(
        st.just("attribute"),
        st.sampled_from(["validUntil", "cacheDuration", "entityID", "use", "ID"]),
        _TEXT,
    ),
    st.tuples(st.just("duplicate"), st.integers(0, len(GOOD)), st.integers(1, 400)),
)


def _mutate(document: str, mutation: tuple[Any, ...]) -> str:
    kind, where, what = mutation
    if kind == "delete":
        return document[:where] + document[where + what :]
    if kind == "insert":
        return document[:where] + what + document[where:]
    if kind == "duplicate":
        return document[:where] + document[where : where + what] + document[where:]
    value = json.dumps(what)[1:-1].replace('"', "&quot;")
    return document.replace(ROOT_OPEN, f'{ROOT_OPEN}{where}="{value}" ', 1)


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(mutations=st.lists(_MUTATION, min_size=1, max_size=3))
def test_mutated_metadata_never_gets_a_500(
    server: Server, mutations: list[tuple[Any, ...]]
) -> None:
    document = GOOD
    for mutation in mutations:
        document = _mutate(document, mutation)
    iam = server.client("iam", parameter_validation=False)  # the server validates
    try:
        arn = iam.create_saml_provider(SAMLMetadataDocument=document, Name=f"Mut{next(_names)}")[
            "SAMLProviderArn"
        ]
    except ClientError as exc:
        status = exc.response["ResponseMetadata"]["HTTPStatusCode"]
        assert status == 400, exc.response
        assert exc.response["Error"]["Code"] in ("InvalidInput", "ValidationError")
        return
    iam.get_saml_provider(SAMLProviderArn=arn)
    iam.delete_saml_provider(SAMLProviderArn=arn)


# -- SAML responses: encodings, and what is not a SAML response at all --------------------------


@pytest.mark.parametrize(
    "codec,declared",
    [("utf-16", "UTF-16"), ("utf-16-le", None), ("utf-32", "UTF-32"), ("latin-1", "ISO-8859-1")],
)
def test_responses_in_other_encodings_are_refused(
    saml: SamlWorld, codec: str, declared: str | None
) -> None:
    xml = base64.b64decode(saml.assertion()).decode()
    head = f'<?xml version="1.0" encoding="{declared}"?>' if declared else ""
    payload = (head + '<!DOCTYPE r [<!ENTITY e "x">]>' + xml).encode(codec)
    error = _error(saml.assume, base64.b64encode(payload).decode())
    assert error["Code"] == "InvalidIdentityToken"
    assert "only UTF-8" in error["Message"]


@pytest.mark.parametrize(
    "payload,fragment",
    [
        (b"hello, this is not XML", "is not a SAML response"),
        (b"<html><body>login</body></html>", "is not a SAML 2.0 Response"),
        (
            b'<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>',
            "is not a SAML 2.0 Response",
        ),
    ],
)
def test_sign_in_says_when_input_is_not_a_saml_response(
    server: Server, payload: bytes, fragment: str
) -> None:
    status, _, page = post_saml(server, base64.b64encode(payload).decode())
    assert status == 400
    assert fragment in page and "names no" not in page


def test_assume_role_with_saml_says_when_input_is_not_a_saml_response(saml: SamlWorld) -> None:
    error = _error(saml.assume, base64.b64encode(b"<html/>").decode())
    assert error["Code"] == "InvalidIdentityToken"
    assert "is not a SAML 2.0 Response" in error["Message"]


# -- RSA-SHA1: refused by default, allowed by an explicit server option --------------------------

SHA1 = {"signature_algorithm": "rsa-sha1", "digest_algorithm": "sha1"}


def test_sha1_signatures_are_refused_by_default(saml: SamlWorld) -> None:
    error = _error(saml.assume, saml.assertion(**SHA1))
    assert error["Code"] == "InvalidIdentityToken" and "signature" in error["Message"].lower()


def test_allow_saml_sha1_server_option(tmp_path: Path) -> None:
    lenient = start_server(tmp_path, "--throttle-rate", "0", "--allow-saml-sha1")
    try:
        world = build_saml_world(lenient, "sha1")
        result = world.assume(world.assertion(**SHA1))
        assert result["AssumedRoleUser"]["Arn"].startswith(f"arn:aws:sts::{ACCOUNT_ID}:")
        assert world.assume(world.assertion())  # SHA-256 still works
        status, _, page = post_saml(
            lenient,
            encode(
                world.idp.response(
                    roles=[(world.role_arn, world.provider_arn)],
                    session_name="agent1",
                    recipient="https://signin.aws.amazon.com/saml",
                    **SHA1,
                )
            ),
        )  # type: ignore[arg-type]
        assert status == 200, page
    finally:
        lenient.stop()
